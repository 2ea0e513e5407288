"""Fused backward ops: an activation's derivative as one differentiable op of the
incoming gradient and a saved value (torch's ``threshold_backward``,
``sigmoid_backward``, ``_softmax_backward_data`` ...).

Derivative formulas call them as ``ns.<name>(grad, saved, *params)``. On arrays (plain
backward) that is a single NumPy expression; on Tensors (``create_graph=True``) it
records one node named as torch names it (``SigmoidBackwardBackward0`` ...), whose own
derivatives, with respect to the gradient and to the saved value, are formulas again,
so every order can be differentiated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .define import Node, Tensor, edge, formula, needs_grad, ns_array, record, save_values

__all__ = ["backward_op", "keep_array", "pointwise_backward_op", "zero_derivative"]

_make = Tensor._make


class FusedBackwardNode(Node):
    """``out = op(grad, saved, *params)``, linear in ``grad``: its derivative with respect
    to ``grad`` is the transposed op applied to the incoming gradient (``transposed``;
    the op itself when None: the op is symmetric, as pointwise ones are); ``second``
    gives the one with respect to ``saved``."""

    __slots__ = ("params",)
    op_name: str
    transposed: Callable | None
    second: Callable

    def backward(self, ns: Any, grads: list) -> tuple:
        gg = grads[0]
        *grad, saved = self.unpack(ns.graph)          # grad is saved only when needed
        grad_fn, _, saved_fn, _ = self._edges
        d_grad = None
        if grad_fn:
            d_grad = (self.transposed(ns, gg, saved, *self.params) if self.transposed
                      else getattr(ns, self.op_name)(gg, saved, *self.params))
        if saved_fn:
            d_saved = self.second(ns, gg, grad[0] if grad else None, saved, *self.params)
        else:
            d_saved = None
        return (d_grad, d_saved)


def backward_op(name: str, node_name: str, array_fn: Callable, second: Callable,
                saved_name: str = "self", owned_fn: Callable | None = None,
                transposed: Callable | None = None) -> None:
    """Register ``ns.<name>(grad, saved, *params)``: ``array_fn`` on arrays, a
    ``node_name`` node on Tensors whose derivative for ``saved`` is
    ``second(ns, grad_of_output, grad, saved, *params)`` and for ``grad`` is
    ``transposed(ns, grad_of_output, saved, *params)`` (default: the op itself)."""
    # A zero derivative for ``saved`` needs no gradient kept alive (torch saves none).
    keeps_grad = second is not zero_derivative
    node_cls = type(node_name, (FusedBackwardNode,),
                    {"__slots__": (), "op_name": name, "second": staticmethod(second),
                     "transposed": staticmethod(transposed) if transposed else None,
                     "saved_names": ("grad_output", saved_name)[not keeps_grad:],
                     "__module__": __name__})

    def tensor_fn(grad: Tensor, saved: Tensor, *params: Any) -> Tensor:
        out = array_fn(grad._data, saved._data, *params)
        if not needs_grad(grad, saved):
            return _make(out)
        node = node_cls((edge(grad), edge(saved)))
        node.params = params
        save_values(node, (grad, saved) if keeps_grad else (saved,))
        return record(node, out)

    tensor_fn.__name__ = tensor_fn.__qualname__ = name
    tensor_fn.node_class = node_cls
    formula(name, array_fn, tensor_fn, owned_fn)


def zero_derivative(ns: Any, gg: Any, grad: Any, saved: Any, *params: Any) -> Any:
    """The derivative of a piecewise-constant slope's op with respect to its input: zeros
    (torch's ``zeros_like``, so the input still gets a gradient, not None)."""
    return ns.zeros(tuple(saved.shape), ns.np_dtype(saved))


def pointwise_backward_op(name: str, node_name: str, slope: Callable,
                          slope_derivative: Callable | None = None, **kw: Any) -> None:
    """``grad * slope(saved)`` as a fused op; ``slope(ns, saved, *params)`` and its
    derivative ``slope_derivative`` (None: piecewise constant) are formulas."""
    def array_fn(grad: Any, saved: Any, *params: Any) -> Any:
        return grad * slope(ns_array, saved, *params)

    def second(ns: Any, gg: Any, grad: Any, saved: Any, *params: Any) -> Any:
        return ns.mul(ns.mul(gg, grad), slope_derivative(ns, saved, *params))

    backward_op(name, node_name, kw.pop("array_fn", array_fn),
                second if slope_derivative else zero_derivative, **kw)


# -- masked gradients --------------------------------------------------------------------------
# torch's masked kernels (threshold_backward, clamp_backward, evenly distributed max ...)
# select: where the mask is off the gradient is +0.0, never the -0.0 of ``g * 0`` for a
# negative g. On arrays the selection is an AND of the float's bits with an integer mask
# (all ones or zero): as fast as ``g * mask``, where np.where is several times slower. On
# Tensors the product is recorded (the node torch's graph has) and its bits then cleared.


def bits_mask(keep: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integers of ``dtype``'s width: all bits set where ``keep`` (bool), 0 elsewhere."""
    return np.asarray(np.negative(keep.view(np.int8), dtype=f"i{dtype.itemsize}"))


def select_bits(g: np.ndarray, mask: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g`` where ``mask`` (from bits_mask) is set, +0.0 elsewhere, bit for bit."""
    ints = mask.dtype
    return np.bitwise_and(g.view(ints), mask, out=out.view(ints) if out is not None else (
        mask if mask.shape == g.shape else None)).view(g.dtype)


def keep_array(g: Any, keep: Any, weight: Any = None) -> Any:
    kept = np.asarray(g if weight is None else g * weight)
    keep = np.asarray(keep, dtype=np.bool_)
    if kept.dtype.kind != "f":
        return np.where(keep, kept, np.zeros((), kept.dtype))
    return select_bits(kept, bits_mask(keep, kept.dtype))


def _keep_tensor(g: Tensor, keep: Any, weight: Any = None) -> Tensor:
    from .pointwise import mul
    w = keep if weight is None else weight
    out = mul(g, _make(np.asarray(w, dtype=g._data.dtype)))
    np.copyto(out._data, 0, where=np.logical_not(np.broadcast_to(keep, out._data.shape)))
    return out


def _zeros_like_array(g: Any) -> Any:
    return np.zeros(np.shape(g), np.result_type(g))


formula("keep", keep_array, _keep_tensor)
formula("zeros_like", _zeros_like_array, lambda g: _make(_zeros_like_array(g._data)))
