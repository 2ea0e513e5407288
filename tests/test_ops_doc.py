"""docs/ops.md is exactly what tools/make_ops_doc.py generates from the code, so the list of
supported names and grad_fn names cannot go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import tapegrad as tg

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_ops_doc", ROOT / "tools" /
                                                  "make_ops_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
TEXT = GENERATOR.render()


def test_docs_ops_md_is_up_to_date_with_the_generator() -> None:
    on_disk = (ROOT / "docs" / "ops.md").read_text()
    assert on_disk == TEXT, "docs/ops.md is stale: run python3 tools/make_ops_doc.py"


def test_every_public_function_and_method_is_listed() -> None:
    for name in ("softmax", "einsum", "diagonal", "floor_divide", "normal"):
        assert f"`torch.{name}`" in TEXT
    for name in ("matrix_norm", "vector_norm", "solve"):
        assert f"`torch.linalg.{name}`" in TEXT
    for name in tg.nn.functional.__all__:
        assert f"`torch.nn.functional.{name}`" in TEXT
    assert "`Tensor.add_`" in TEXT and "`Tensor.mT` (property)" in TEXT


def test_rows_carry_the_grad_fn_names_ops_record() -> None:
    rows = {line.split(" | ")[0].strip("| `"): line for line in TEXT.splitlines()
            if line.startswith("| `")}
    assert "`SoftmaxBackward0`" in rows["softmax"]
    assert "`NotImplemented`" in rows["floor_divide"]
    assert "`SumBackward0`, `SumBackward1`" in rows["sum"]
    assert rows["argmax"].endswith("|  |")           # integer results: no grad_fn


def test_generating_leaves_the_random_state_alone() -> None:
    tg.manual_seed(3)
    expected = tg.rand(2).tolist()
    tg.manual_seed(3)
    GENERATOR.render()
    assert tg.rand(2).tolist() == expected


def test_special_functions_and_strided_ops_are_listed_with_their_grad_fn() -> None:
    for name in tg.special.__all__:
        assert f"`torch.special.{name}`" in TEXT
    rows = {line.split(" | ")[1]: line for line in TEXT.splitlines() if line.startswith("| `")}
    assert "`AsStridedBackward0`" in rows["`torch.as_strided`"]
    assert "`Col2ImBackward0`" in rows["`torch.nn.functional.fold`"]
    assert "`ErfinvBackward0`" in rows["`torch.special.erfinv`"]
