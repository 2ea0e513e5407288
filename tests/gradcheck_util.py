"""First and second derivatives checked by central finite differences in float64, and
compared with torch's where torch is installed.

``check_derivatives(fn, *arrays)`` takes ``fn(lib, *tensors) -> Tensor`` written once
for both libraries (``lib`` is ``tapegrad`` or ``torch``). With random cotangents ``w``
(for the output) and ``v`` (one per input) it checks:

- first derivatives: the gradient of ``<fn(x), w>`` against central differences;
- second derivatives: the gradient (by double backward, ``create_graph=True``) of
  ``<grad <fn(x), w>, v>`` against central differences of the first derivative as a plain
  backward computes it, so both formula currencies (arrays, Tensors) are exercised;
- with torch: the forward value, its dtype, and both analytic derivatives equal torch's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tapegrad

__all__ = ["check_derivatives"]


def _tensors(lib: Any, arrays: tuple, requires_grad: bool) -> list:
    return [lib.tensor(a, dtype=lib.float64, requires_grad=requires_grad) for a in arrays]


def _numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _grads(lib: Any, output: Any, inputs: list, create_graph: bool) -> list:
    """d output / d inputs, zeros where an input does not reach the output."""
    if not output.requires_grad:
        return [lib.zeros_like(x) for x in inputs]
    grads = lib.autograd.grad(output, inputs, create_graph=create_graph, allow_unused=True)
    return [lib.zeros_like(x) if g is None else g for g, x in zip(grads, inputs, strict=True)]


def _inner(lib: Any, tensors: list, weights: list) -> Any:
    total = None
    for t, w in zip(tensors, weights, strict=True):
        term = (t * lib.tensor(w, dtype=lib.float64)).sum()
        total = term if total is None else total + term
    return total


def _analytic(lib: Any, fn: Callable, arrays: tuple, w: np.ndarray, vs: list) -> tuple:
    """(output, first derivatives, second derivatives) as arrays, by ``lib``'s autograd."""
    inputs = _tensors(lib, arrays, True)
    out = fn(lib, *inputs)
    first = _grads(lib, _inner(lib, [out], [w]), inputs, create_graph=True)
    second = _grads(lib, _inner(lib, first, vs), inputs, create_graph=False)
    return out, [_numpy(g) for g in first], [_numpy(g) for g in second]


def _central_differences(scalar_fn: Callable, arrays: tuple, eps: float) -> list:
    """d scalar_fn / d each element of each array, by central differences."""
    result = []
    for i, a in enumerate(arrays):
        numeric = np.zeros(np.shape(a))
        for idx in np.ndindex(np.shape(a)):
            shifted = [np.array(x, dtype=np.float64) for x in arrays]
            shifted[i][idx] += eps
            hi = scalar_fn(shifted)
            shifted[i][idx] -= 2 * eps
            lo = scalar_fn(shifted)
            numeric[idx] = (hi - lo) / (2 * eps)
        result.append(numeric)
    return result


def _close(got: list, expected: list, what: str, rtol: float, atol: float) -> None:
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol,
                                   err_msg=f"{what} with respect to input {i}")


def check_derivatives(fn: Callable, *arrays: Any, torch: Any = None, seed: int = 0,
                      eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-7,
                      second: bool = True) -> None:
    """Check fn's first (and second) derivatives by finite differences, and against torch."""
    arrays = tuple(np.array(a, dtype=np.float64) for a in arrays)
    rng = np.random.default_rng(seed)
    out_shape = tuple(fn(tapegrad, *_tensors(tapegrad, arrays, False)).shape)
    w = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(a.shape) for a in arrays]

    out, first, second_grads = _analytic(tapegrad, fn, arrays, w, vs)

    def value(xs: list) -> float:
        with tapegrad.no_grad():
            return float((_numpy(fn(tapegrad, *_tensors(tapegrad, xs, False))) * w).sum())

    _close(first, _central_differences(value, arrays, eps), "first derivative", rtol, atol)

    if second:
        def first_derivative(xs: list) -> float:
            inputs = _tensors(tapegrad, xs, True)
            grads = _grads(tapegrad, _inner(tapegrad, [fn(tapegrad, *inputs)], [w]), inputs,
                           create_graph=False)
            return float(sum((_numpy(g) * v).sum() for g, v in zip(grads, vs, strict=True)))

        _close(second_grads, _central_differences(first_derivative, arrays, eps),
               "second derivative", rtol, atol)

    if torch is not None:
        t_out, t_first, t_second = _analytic(torch, fn, arrays, w, vs)
        assert str(out.dtype) == str(t_out.dtype)
        assert tuple(out.shape) == tuple(t_out.shape)
        np.testing.assert_allclose(_numpy(out), _numpy(t_out), rtol=1e-12, atol=1e-12)
        _close(first, t_first, "first derivative (vs torch)", 1e-10, 1e-12)
        if second:
            _close(second_grads, t_second, "second derivative (vs torch)", 1e-10, 1e-12)
