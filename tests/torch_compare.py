"""Comparing tapegrad with torch in tests: one place for every comparison helper.

torch is never imported here: a test module gets it with ``pytest.importorskip`` and
passes it in, so modules skip cleanly without torch.

- Tensors: ``to_numpy``, ``assert_same_tensor`` (values, dtype, shape), ``zeros_if_none``,
  ``second_derivatives``, ``tensor_pair``,
  ``copy_params``, ``assert_close`` (nn tolerances), ``backward_both``,
  ``assert_module_matches`` (a torch module and a tapegrad one, forward and backward).
- Errors: ``assert_same_message`` (torch's exact text, optionally followed by tapegrad's
  hint, ``HINT_PREFIXES``), ``same_outcome``, ``assert_same_error``.
- Whole snippets ``fn(lib)`` run with both libraries: ``assert_same_repr`` (printed result
  and warnings) and ``assert_same_result`` (values, dtypes, requires_grad, within a tolerance).
- Derivatives: ``central_differences`` and ``check_derivatives`` (float64 finite
  differences, first and second order, and against torch).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import tapegrad

# nn modules run the same float64 computation in both libraries: nearly bit-equal.
NN_RTOL = 1e-10
NN_ATOL = 1e-12

# What tapegrad may append to torch's exact error text, where torch is vague.
HINT_PREFIXES = (" (tapegrad: ", " It was last modified in place by ")


# --- tensors -----------------------------------------------------------------------------

def to_numpy(t: Any) -> np.ndarray:
    """A tensor of either library (or an array-like) as a NumPy array.

    ``force=True``: torch hands back some all-zero gradients as ZeroTensors (e.g. through
    sign in abs's double backward), which refuse a plain ``numpy()``."""
    if hasattr(t, "detach"):
        return np.asarray(t.detach().numpy(force=True))
    return np.asarray(t)


def assert_same_tensor(ours: Any, theirs: Any, rtol: float = 1e-6, atol: float = 1e-9,
                       err_msg: str = "") -> None:
    """Same shape, same dtype name and the same values (NaN where torch has NaN)."""
    a = to_numpy(ours)
    assert a.shape == tuple(theirs.shape), (a.shape, tuple(theirs.shape), err_msg)
    assert str(ours.dtype) == str(theirs.dtype), (ours.dtype, theirs.dtype, err_msg)
    np.testing.assert_allclose(a, to_numpy(theirs), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=err_msg)


def zeros_if_none(grads: Sequence, inputs: Sequence) -> list:
    """Gradients from ``autograd.grad(..., allow_unused=True)`` with zeros for None."""
    return [g if g is not None else x.detach() * 0 for g, x in zip(grads, inputs, strict=True)]


def second_derivatives(lib: Any, inputs: Sequence, grads: Sequence,
                       rng: np.random.Generator) -> list | None:
    """The gradient of sum(<g, random w>) over the first derivatives ``grads`` that carry a
    graph (zeros for inputs it does not reach); None when none does (a linear function)."""
    total = 0
    for g in grads:
        if g is not None and g.requires_grad:
            total = total + (g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum()
    if isinstance(total, int):
        return None
    return zeros_if_none(lib.autograd.grad(total, inputs, allow_unused=True), inputs)


def tensor_pair(torch: Any, array: Any, requires_grad: bool = True) -> tuple:
    """The same values as a torch tensor and a tapegrad tensor (grad only for floats)."""
    a = np.asarray(array)
    grad = requires_grad and a.dtype.kind == "f"
    return torch.tensor(a, requires_grad=grad), tapegrad.tensor(a, requires_grad=grad)


def copy_params(torch_module: Any, tg_module: Any) -> None:
    """Copy torch's parameters and buffers into the tapegrad module (same names)."""
    state = {k: tapegrad.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    tg_module.load_state_dict(state)


def assert_close(tg_value: Any, torch_value: Any) -> None:
    """Same shape and values within the nn tolerances (float64 on both sides)."""
    a, b = to_numpy(tg_value), to_numpy(torch_value)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=NN_RTOL, atol=NN_ATOL)


def backward_both(out_t: Any, out_g: Any, rng: np.random.Generator | None = None) -> None:
    """Backpropagate the same random upstream gradient through torch's and tapegrad's output."""
    rng = rng or np.random.default_rng(0)
    upstream = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(out_t.new_tensor(upstream))
    out_g.backward(tapegrad.tensor(upstream, dtype=out_g.dtype))


def assert_module_matches(torch: Any, tm: Any, gm: Any, array: Any,
                          same_node: bool = True) -> tuple:
    """torch's module ``tm`` and tapegrad's ``gm`` (with equal parameters) on the same input:
    the same output (and grad_fn name unless ``same_node`` is False), then, after the same
    upstream gradient, the same input and parameter gradients. Returns (torch's, tapegrad's
    output)."""
    xt, xg = tensor_pair(torch, array)
    ot, og = tm(xt), gm(xg)
    assert_close(og, ot)
    if same_node:
        assert type(og.grad_fn).__name__ == type(ot.grad_fn).__name__
    backward_both(ot, og)
    assert_close(xg.grad, xt.grad)
    for pt, pg in zip(tm.parameters(), gm.parameters(), strict=True):
        assert_close(pg.grad, pt.grad)
    return ot, og


# --- errors ------------------------------------------------------------------------------

def assert_same_message(ours: Any, theirs: Any) -> None:
    """torch's text exactly, optionally followed by tapegrad's hint on what to do."""
    message, expected = str(ours), str(theirs)
    assert message == expected or any(message.startswith(expected + hint)
                                      for hint in HINT_PREFIXES), \
        f"{message!r} instead of {expected!r}"


def same_outcome(ours: Any, theirs: Any) -> bool:
    """Where torch raised, ours must raise the same (True: nothing more to compare);
    where it did not, ours must not either (False)."""
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), (ours, theirs)
        assert_same_message(ours, theirs)
        return True
    assert not isinstance(ours, Exception), ours
    return False


def assert_same_error(call_ours: Callable[[], Any], call_theirs: Callable[[], Any]) -> None:
    """Both calls raise: the same exception type and message."""
    outcomes = []
    for call in (call_ours, call_theirs):
        try:
            call()
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            outcomes.append(e)
        else:
            raise AssertionError(f"{call} did not raise")
    same_outcome(*outcomes)


# --- whole snippets ----------------------------------------------------------------------

# Warnings torch emits once per process (TORCH_WARN_ONCE); tapegrad emits them every
# time, so they are tested on tapegrad alone, not compared.
ONCE_IN_TORCH = ("The .grad attribute of a Tensor that is not a leaf",
                 "Converting a tensor with requires_grad=True")


def _printed(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_printed(v) for v in value]
    if isinstance(value, dict):
        return {k: _printed(v) for k, v in value.items()}
    return repr(value).replace("tapegrad.", "torch.")


def _observed(value: Any) -> Any:
    """Tensors -> (values, dtype name, requires_grad), recursively."""
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return ("tensor", to_numpy(value).tolist(), str(value.dtype), bool(value.requires_grad))
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [_observed(v) for v in value]
    if isinstance(value, dict):
        return {k: _observed(v) for k, v in value.items()}
    return value


def _outcome(fn: Callable[[Any], Any], lib: Any, describe: Callable[[Any], Any]) -> tuple:
    """('ok', describe(result), warning texts) or ('err', exception, None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(lib)
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return ("err", e, None)
    texts = [(w.category.__name__, str(w.message)[:60]) for w in caught
             if not str(w.message).startswith(ONCE_IN_TORCH)]
    return ("ok", describe(value), texts)


def _run_both(fn: Callable[[Any], Any], torch: Any, describe: Callable[[Any], Any]) -> tuple:
    """The outcomes of fn(tapegrad) and fn(torch), having checked that both returned or
    both raised the same error."""
    expected = _outcome(fn, torch, describe)
    got = _outcome(fn, tapegrad, describe)
    assert got[0] == expected[0], (got, expected)
    if expected[0] == "err":
        same_outcome(got[1], expected[1])
    return got, expected


def assert_same_repr(fn: Callable[[Any], Any], torch: Any, warns: bool = True) -> None:
    """fn(torch) and fn(tapegrad) print the same result (and warn alike), or raise alike."""
    got, expected = _run_both(fn, torch, _printed)
    if got[0] == "ok":
        assert got[1] == expected[1], (got, expected)
        if warns:
            assert got[2] == expected[2], (got, expected)


def assert_same_result(fn: Callable[[Any], Any], torch: Any, tol: float = 1e-6) -> Any:
    """fn(torch) and fn(tapegrad) give the same values, dtypes and requires_grad (floats
    within ``tol``, relative), or raise alike. Returns what tapegrad gave: the exception
    it raised, or its result with tensors as ("tensor", values, dtype, requires_grad) and
    sequences as (type name, [items])."""
    got, expected = _run_both(fn, torch, _observed)
    if got[0] == "ok":
        _assert_observed_equal(got[1], expected[1], tol)
    return got[1]


def _assert_observed_equal(got: Any, exp: Any, tol: float) -> None:
    if isinstance(exp, float) and isinstance(got, float):
        assert abs(got - exp) <= tol * (1 + abs(exp)), (got, exp)
    elif isinstance(exp, (list, tuple)) and isinstance(got, (list, tuple)):
        assert len(got) == len(exp), (got, exp)
        for g, e in zip(got, exp):
            _assert_observed_equal(g, e, tol)
    elif isinstance(exp, dict):
        assert got.keys() == exp.keys()
        for k in exp:
            _assert_observed_equal(got[k], exp[k], tol)
    else:
        assert got == exp, (got, exp)


# --- derivatives -------------------------------------------------------------------------

def central_differences(scalar_fn: Callable[[list], float], arrays: Sequence,
                        eps: float = 1e-6) -> list:
    """d scalar_fn(arrays) / d each element of each array, by central differences in float64."""
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


def _float64_tensors(lib: Any, arrays: Sequence, requires_grad: bool) -> list:
    return [lib.tensor(a, dtype=lib.float64, requires_grad=requires_grad) for a in arrays]


def _grads_or_zeros(lib: Any, output: Any, inputs: list, create_graph: bool) -> list:
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
    inputs = _float64_tensors(lib, arrays, True)
    out = fn(lib, *inputs)
    first = _grads_or_zeros(lib, _inner(lib, [out], [w]), inputs, create_graph=True)
    second = _grads_or_zeros(lib, _inner(lib, first, vs), inputs, create_graph=False)
    return out, [to_numpy(g) for g in first], [to_numpy(g) for g in second]


def _assert_all_close(got: list, expected: list, what: str, rtol: float, atol: float) -> None:
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol,
                                   err_msg=f"{what} with respect to input {i}")


def check_derivatives(fn: Callable, *arrays: Any, torch: Any = None, seed: int = 0,
                      eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-7,
                      second: bool = True) -> None:
    """Check ``fn(lib, *tensors)``'s first (and second) derivatives by finite differences
    in float64, and the value and both derivatives against torch's when torch is given.

    With random cotangents ``w`` (output) and ``v`` (one per input): the gradient of
    ``<fn(x), w>``, and the double-backward gradient of ``<grad <fn(x), w>, v>`` against
    central differences of the first derivative as a plain backward computes it, so both
    formula currencies (arrays, Tensors) are exercised."""
    arrays = tuple(np.array(a, dtype=np.float64) for a in arrays)
    rng = np.random.default_rng(seed)
    out_shape = tuple(fn(tapegrad, *_float64_tensors(tapegrad, arrays, False)).shape)
    w = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(a.shape) for a in arrays]

    out, first, second_grads = _analytic(tapegrad, fn, arrays, w, vs)

    def value(xs: list) -> float:
        with tapegrad.no_grad():
            return float((to_numpy(fn(tapegrad, *_float64_tensors(tapegrad, xs, False))) * w).sum())

    _assert_all_close(first, central_differences(value, arrays, eps), "first derivative",
                      rtol, atol)

    if second:
        def first_derivative(xs: list) -> float:
            inputs = _float64_tensors(tapegrad, xs, True)
            grads = _grads_or_zeros(tapegrad, _inner(tapegrad, [fn(tapegrad, *inputs)], [w]),
                                    inputs, create_graph=False)
            return float(sum((to_numpy(g) * v).sum() for g, v in zip(grads, vs, strict=True)))

        _assert_all_close(second_grads, central_differences(first_derivative, arrays, eps),
                          "second derivative", rtol, atol)

    if torch is not None:
        t_out, t_first, t_second = _analytic(torch, fn, arrays, w, vs)
        assert_same_tensor(out, t_out, rtol=1e-12, atol=1e-12)
        _assert_all_close(first, t_first, "first derivative (vs torch)", 1e-10, 1e-12)
        if second:
            _assert_all_close(second_grads, t_second, "second derivative (vs torch)",
                              1e-10, 1e-12)
