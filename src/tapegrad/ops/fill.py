"""In-place fills: zero_, fill_. They are writes of a constant, so the old value gets no
gradient (and a tensor fill value gets the summed gradient)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .define import Node, Tensor, edge, inplace, needs_grad, record, tensor_method

_make = Tensor._make


class FillBackward0(Node):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.zeros_like(grads[0]),)


class ZeroBackward0(FillBackward0):
    """zero_: fill_ with 0 (torch names its node apart)."""

    __slots__ = ()


class FillBackward1(Node):
    """fill_ with a 0-d tensor value: that value gets the sum of the gradient."""

    __slots__ = ("dtype",)

    def backward(self, ns, grads):
        g = ns.sum(grads[0], None, False)
        return (ns.zeros_like(grads[0]),
                g if ns.np_dtype(g) == self.dtype else ns.cast(g, self.dtype))


def _filled(input: Tensor, value: Any, node_cls: type = FillBackward0) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        out = np.full(input._data.shape, value._data, input._data.dtype)
        if not needs_grad(input, value):
            return _make(out)
        node = FillBackward1((edge(input), edge(value)))
        node.dtype = value._data.dtype
        return record(node, out)
    out = np.full(input._data.shape, value, input._data.dtype)
    if not needs_grad(input):
        return _make(out)
    return record(node_cls((edge(input),)), out)


@tensor_method("fill_")
def fill_(self: Tensor, value: Any) -> Tensor:
    """Tensor.fill_(value)"""
    return inplace(self, _filled, "fill_", value)


@tensor_method("zero_")
def zero_(self: Tensor) -> Tensor:
    """Tensor.zero_()"""
    return inplace(self, _filled, "zero_", 0, ZeroBackward0)
