"""No op silently drops the graph: every public op, called with inputs that require grad,
gives a result that requires grad exactly when torch's does. Ops without a derivative are
recorded as torch records them and raise, naming the op, when a backward reaches them;
ops that torch differentiates but tapegrad cannot raise as soon as they are recorded."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from torch_compare import assert_same_message

import tapegrad as tg

torch = pytest.importorskip("torch")


def _leaf(T: Any, shape: tuple = (3, 3)) -> Any:
    return T.tensor(np.random.default_rng(0).random(shape) + 0.5, requires_grad=True)


# Argument patterns tried in order; the first that torch accepts is the one compared.
PATTERNS: list[Callable] = [
    lambda T: (_leaf(T),), lambda T: (_leaf(T), _leaf(T)), lambda T: (_leaf(T), 0),
    lambda T: (_leaf(T), 1), lambda T: (_leaf(T), _leaf(T), _leaf(T)), lambda T: (_leaf(T), 2.0),
    lambda T: (_leaf(T, (3,)),), lambda T: (_leaf(T, (3,)), _leaf(T, (3,))),
    lambda T: (_leaf(T), 0, 1), lambda T: (_leaf(T, (2, 3, 3)),),
    lambda T: (_leaf(T, (1, 2, 4)), (1, 1)),
]
NOT_OPS = {"manual_seed", "set_default_dtype", "load", "save", "set_printoptions", "seed",
           "set_rng_state", "is_grad_enabled", "get_default_dtype"}
METHODS_NOT_OPS = {"backward", "register_hook", "retain_grad", "numpy", "tolist", "item",
                   "register_post_accumulate_grad_hook"}
DUNDERS = {"__add__", "__mul__", "__pow__", "__rpow__", "__truediv__", "__rtruediv__",
           "__getitem__", "__matmul__", "__neg__", "__abs__", "__mod__", "__floordiv__",
           "__rsub__", "__radd__", "__rmul__", "__sub__"}


def _public_ops() -> list[tuple[str, Callable, Callable]]:
    ops = []
    for prefix, g_mod, t_mod in (("", tg, torch), ("linalg.", tg.linalg, torch.linalg),
                                 ("F.", tg.nn.functional, torch.nn.functional)):
        for name in sorted(dir(g_mod)):
            g, t = getattr(g_mod, name), getattr(t_mod, name, None)
            if (name.startswith("_") or name in NOT_OPS or not callable(g) or not callable(t)
                    or inspect.isclass(g) or inspect.ismodule(g)):
                continue
            ops.append((prefix + name, t, g))
    for name in sorted(dir(tg.Tensor)):
        if (name.startswith("_") and name not in DUNDERS) or name.endswith("_") or \
                name in METHODS_NOT_OPS:
            continue
        g, t = getattr(tg.Tensor, name, None), getattr(torch.Tensor, name, None)
        if callable(g) and callable(t) and not isinstance(g, property):
            def call(*args: Any, _n: str = name) -> Any:
                return getattr(args[0], _n)(*args[1:])
            ops.append(("Tensor." + name, call, call))
    return ops


def _grad_flags(result: Any) -> Any:
    if isinstance(result, (tuple, list)):
        return [_grad_flags(r) for r in result]
    if hasattr(result, "requires_grad") and hasattr(result, "dtype"):
        return bool(result.requires_grad)
    return None


def test_no_public_op_silently_drops_the_graph() -> None:
    mismatches = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, t_fn, g_fn in _public_ops():
            for pattern in PATTERNS:
                try:
                    want = _grad_flags(t_fn(*pattern(torch)))
                except Exception:
                    continue
                try:
                    got = _grad_flags(g_fn(*pattern(tg)))
                except Exception:
                    break           # argument handling is another test's business
                if got != want:
                    mismatches.append(f"{name}: torch {want}, tapegrad {got}")
                break
    assert mismatches == []


NO_DERIVATIVE = [
    ("floor_divide", lambda T, x: T.floor_divide(x, 2.0)),
    ("floordiv_operator", lambda T, x: x // x),
    ("floor_divide_method", lambda T, x: x.floor_divide(x)),
    ("unique", lambda T, x: T.unique(x)),
    ("unique_unsorted", lambda T, x: x.unique(sorted=False)),
    ("unique_dim", lambda T, x: T.unique(x, dim=0)),
]


@pytest.mark.parametrize("fn", [c[1] for c in NO_DERIVATIVE], ids=[c[0] for c in NO_DERIVATIVE])
def test_op_without_derivative_is_recorded_and_backward_names_it(fn: Callable) -> None:
    seen = []
    for T in (torch, tg):
        x = T.tensor([[1.5, 2.0], [1.5, 2.0]], requires_grad=True)
        out = fn(T, x)
        with pytest.raises(Exception) as info:
            out.sum().backward()
        seen.append((type(out.grad_fn).__name__, out.requires_grad, type(info.value),
                     str(info.value)))
    (t_node, t_req, t_type, t_msg), (g_node, g_req, g_type, g_msg) = seen
    assert (g_node, g_req, g_type) == (t_node, t_req, t_type)
    assert_same_message(g_msg, t_msg)         # torch's words, then what to do about it
    assert "no_grad" in g_msg


def test_op_without_derivative_on_integers_records_nothing() -> None:
    x = tg.tensor([3.0, 4.0], requires_grad=True)
    out = tg.floor_divide(x.detach().long(), 2)
    assert out.grad_fn is None and not out.requires_grad


def test_integer_results_never_require_grad() -> None:
    x = tg.tensor([[0.5, 2.0], [1.5, -1.0]], requires_grad=True)
    for out in (x.argmax(), x.argsort(), x > 0, x.isnan(), x.sort()[1], x.max(0)[1]):
        assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("args", [("tensor", 1.0), (0.0, "tensor"), ("tensor", "tensor")],
                         ids=["mean", "std", "both"])
def test_normal_records_torchs_node_with_zero_gradients(args: tuple) -> None:
    seen = []
    for T in (torch, tg):
        leaf = T.ones(3, requires_grad=True)
        out = T.normal(*[leaf if a == "tensor" else a for a in args])
        out.sum().backward()
        seen.append((type(out.grad_fn).__name__, leaf.grad.tolist()))
    assert seen[0] == seen[1]


def test_missing_tapegrad_derivative_raises_when_recorded_naming_the_op() -> None:
    wide = tg.randn(2, 4, requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'linalg_qr' is not "
                                                  "implemented in tapegrad"):
        tg.linalg.qr(wide)
    q, r = tg.linalg.qr(wide.detach())           # without grad the op itself works
    np.testing.assert_allclose((q @ r).numpy(), wide.detach().numpy(), atol=1e-5)
    with pytest.raises(NotImplementedError, match="'linalg_svd'"):
        tg.linalg.svd(tg.randn(3, 2, requires_grad=True))
