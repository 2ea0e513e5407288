"""Run the same code with torch and with tapegrad and compare what it observes."""

from __future__ import annotations

from typing import Any

import numpy as np

import tapegrad


def observe(value: Any) -> Any:
    """A comparable form: tensors -> (values, dtype name, requires_grad), recursively."""
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return ("tensor", np.asarray(value.detach().numpy()).tolist(), str(value.dtype),
                bool(value.requires_grad))
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [observe(v) for v in value]
    if isinstance(value, dict):
        return {k: observe(v) for k, v in value.items()}
    return value


def run(fn: Any, lib: Any) -> Any:
    try:
        return ("ok", observe(fn(lib)))
    except Exception as e:  # the error is part of what is compared
        return ("error", type(e).__name__, str(e))


def assert_same(fn: Any, torch: Any, tol: float = 1e-6) -> Any:
    """fn(lib) must give the same observation (or the same error) with torch and tapegrad."""
    expected = run(fn, torch)
    got = run(fn, tapegrad)
    _compare(got, expected, tol)
    return got


def _compare(got: Any, exp: Any, tol: float) -> None:
    if isinstance(exp, float) and isinstance(got, float):
        assert abs(got - exp) <= tol * (1 + abs(exp)), (got, exp)
    elif isinstance(exp, (list, tuple)) and isinstance(got, (list, tuple)):
        assert len(got) == len(exp), (got, exp)
        for g, e in zip(got, exp):
            _compare(g, e, tol)
    elif isinstance(exp, dict):
        assert got.keys() == exp.keys()
        for k in exp:
            _compare(got[k], exp[k], tol)
    elif isinstance(exp, str) and isinstance(got, str) and len(exp) > 40:
        # messages may carry one more sentence than torch's (a hint): torch's text first
        assert got == exp or got.startswith(exp + " "), (got, exp)
    else:
        assert got == exp, (got, exp)
