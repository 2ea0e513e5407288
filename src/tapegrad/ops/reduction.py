"""Reductions: the gradient of a reduced tensor is spread back over what was reduced."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import state as _fw
from ..autograd.grad_mode import state as _grad_state
from .define import Node, Tensor, edge, formula, needs_grad, record, tensor_method, wrap_dims

_make = Tensor._make


def reduce_dims(a: np.ndarray, dim: Any) -> tuple | None:
    """None (all dims) or a sorted tuple; a 0-d input accepts dim 0/-1 and reduces nothing."""
    dims = wrap_dims(dim, a.ndim)
    if dims == () and a.ndim:
        return None                 # torch: an empty dim list reduces every dim
    return dims if a.ndim or dims is None else ()


def _kept_shape(shape: tuple, dims: tuple | None) -> tuple:
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class _ReduceNode(Node):
    """A reduction over ``dims`` (None: all) of an input of ``shape``."""

    __slots__ = ("shape", "dims", "keepdim", "dtype")

    def spread(self, ns, g):
        """The gradient of the reduced tensor, broadcast back to the input's shape: as
        torch, the reduced dims put back one unsqueeze each (none for a full reduction,
        whose 0-d gradient expands as it is), then one expand."""
        if not self.keepdim and self.dims is not None:
            for d in self.dims:
                g = ns.unsqueeze(g, d)
        return ns.expand_to(g, self.shape)


class SumBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (self.spread(ns, grads[0]),)


SumBackward1 = type("SumBackward1", (SumBackward0,), {"__slots__": ()})


class MeanBackward0(_ReduceNode):
    __slots__ = ("count",)

    def backward(self, ns, grads):
        return (ns.div(self.spread(ns, grads[0]), self.count),)


MeanBackward1 = type("MeanBackward1", (MeanBackward0,), {"__slots__": ()})


def _reduce_record(node_cls: type, input: Tensor, out: np.ndarray, dims: tuple | None,
                   keepdim: bool) -> Tensor:
    node = node_cls((edge(input),))
    node.shape = input._data.shape
    node.dims = dims
    node.keepdim = keepdim
    return node, record(node, out)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.sum(input, dim=None, keepdim=False, *, dtype=None)"""
    a = input._data
    if dim is None and dtype is None and a.dtype.kind in "fc":
        # The usual full sum of a floating tensor: no dims to check, no cast.
        out = _add_reduce(a, None, None, None, keepdim)
        if not (input._requires_grad and _grad_state.grad_enabled) and not (
                _fw.active and needs_grad(input)):
            return _make(out)
        return _reduce_record(SumBackward0, input, out, None, keepdim)[1]
    dims = reduce_dims(a, dim)
    if dtype is not None:
        a = a.astype(_dt.to_numpy_dtype(dtype))
    elif a.dtype.kind in "bu" or (a.dtype.kind == "i" and a.dtype != np.int64):
        a = a.astype(np.int64)
    if dims == ():
        out = a.copy() if not keepdim or a.ndim else a.copy()
    else:
        out = _add_reduce(a, dims, None, None, keepdim)
    out = np.asarray(out)
    if not needs_grad(input):
        return _make(out)
    node, t = _reduce_record(SumBackward0 if dim is None else SumBackward1, input, out,
                             dims, keepdim or dims == ())
    return t


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.mean(input, dim=None, keepdim=False, *, dtype=None)"""
    a = input._data
    if dtype is not None:
        a = a.astype(_dt.to_numpy_dtype(dtype))
    elif a.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_dt.from_numpy_dtype(a.dtype).scalar_name}")
    dims = reduce_dims(a, dim)
    if dims == ():
        out = a.copy()
        count = 1
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.asarray(np.mean(a, axis=dims, keepdims=keepdim, dtype=a.dtype))
        count = a.size if dims is None else int(np.prod([a.shape[d] for d in dims]))
    if not needs_grad(input):
        return _make(out)
    node, t = _reduce_record(MeanBackward0 if dim is None else MeanBackward1, input, out,
                             dims, keepdim or dims == ())
    node.count = count
    return t


tensor_method("sum")(sum)
tensor_method("mean")(mean)


# np.sum is a Python wrapper around this (same dtypes and results), three times slower on
# small arrays.
_add_reduce = np.add.reduce


def _sum_array(a: np.ndarray, dims: Any = None, keepdim: bool = False) -> np.ndarray:
    return _add_reduce(a, dims, None, None, keepdim)


formula("sum", _sum_array, sum)
formula("mean", lambda a, dims=None, keepdim=False: np.mean(a, axis=dims, keepdims=keepdim),
        mean)
