"""Run one snippet with torch and with tapegrad and compare what each observably did.

``outcome(fn, lib)`` returns the repr of the result, or the exception's type and
message. tapegrad may append a hint sentence after torch's message, so error texts
compare by prefix.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import tapegrad


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    text = repr(value)
    return text.replace("tapegrad.", "torch.")


# Warnings torch emits once per process (TORCH_WARN_ONCE); tapegrad emits them every
# time, so they are tested on tapegrad alone, not compared.
ONCE_IN_TORCH = ("The .grad attribute of a Tensor that is not a leaf",
                 "Converting a tensor with requires_grad=True")


def outcome(fn: Callable[[Any], Any], lib: Any) -> tuple:
    """('ok', normalised repr) or ('err', exception type name, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(lib)
        except Exception as e:  # noqa: BLE001 - we compare any error
            return ("err", type(e).__name__, str(e))
    texts = [f"{w.category.__name__}: {w.message}" for w in caught
             if not str(w.message).startswith(ONCE_IN_TORCH)]
    return ("ok", _norm(value), texts)


def assert_same(fn: Callable[[Any], Any], torch: Any, warns: bool = True) -> None:
    """fn(torch) and fn(tapegrad) give the same value repr, warnings, or error."""
    expected = outcome(fn, torch)
    got = outcome(fn, tapegrad)
    if expected[0] == "err" and got[0] == "err":
        assert got[1] == expected[1], (got, expected)
        assert got[2].startswith(expected[2]), (got, expected)
        return
    assert got[0] == expected[0], (got, expected)
    assert got[1] == expected[1], (got, expected)
    if warns:
        assert [w.split(": ", 1)[0] + w.split(": ", 1)[1][:60] for w in got[2]] == \
            [w.split(": ", 1)[0] + w.split(": ", 1)[1][:60] for w in expected[2]], (got, expected)
