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

from .define import Node, Tensor, edge, formula, needs_grad, ns_array, record, save_values

__all__ = ["backward_op", "pointwise_backward_op", "zero_derivative", "MulBackward1"]

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
        (grad_fn, _), (saved_fn, _) = self.next_functions
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


class MulBackward1(Node):
    """``tensor * scalar`` as derivative formulas record it (torch's ``mul.Scalar``, as in
    pow's ``grad * (exponent * self.pow(exponent - 1))``): the scalar is kept as a number,
    not wrapped in a tensor, and its own derivative is the same product again."""

    __slots__ = ("other",)

    def backward(self, ns: Any, grads: list) -> tuple:
        return (ns.mul_scalar(grads[0], self.other),)


def _mul_scalar(input: Tensor, other: Any) -> Tensor:
    out = input._data * other
    if not needs_grad(input):
        return _make(out)
    node = MulBackward1((edge(input),))
    node.other = other
    return record(node, out)


formula("mul_scalar", lambda a, other: a * other, _mul_scalar)
