"""Every python example in docs/advanced-autograd.md runs and prints exactly the output
block that follows it. An example preceded by ``<!-- requires: some.module -->`` is
skipped while that module does not exist yet."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import warnings

import pytest

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "advanced-autograd.md")

# A python block, optionally preceded by a requires-comment, then the text block after it.
EXAMPLE = re.compile(
    r"(?:<!-- requires: (?P<requires>[\w.]+) -->\s*)?"
    r"```python\n(?P<code>.*?)```\s*(?:Output:\s*)?```text\n(?P<output>.*?)```",
    re.S)


def examples() -> list:
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    found = []
    for m in EXAMPLE.finditer(text):
        line = text.count("\n", 0, m.start("code"))
        found.append(pytest.param(m.group("code"), m.group("output"), m.group("requires"),
                                  id=f"line{line}"))
    return found


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_every_python_block_has_an_output_block():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    assert text.count("```python") == len(examples()) >= 9


@pytest.mark.parametrize("code, output, requires", examples())
def test_example_prints_its_documented_output(code, output, requires):
    if requires and not module_exists(requires):
        pytest.skip(f"{requires} does not exist yet")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        exec(compile(code, DOC, "exec"), {"__name__": "__doc_example__"})
    assert buf.getvalue().rstrip("\n") == output.rstrip("\n")
