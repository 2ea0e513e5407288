"""More reductions and scans: aminmax (one node, two outputs), mode (value-selecting) and
logcumsumexp (with torch's overflow-free backward in the log domain)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .. import return_types
from ..autograd.graph import SavedResult
from .define import (
    Node,
    Tensor,
    edge,
    formula,
    needs_grad,
    record,
    record_many,
    save_values,
    tensor_method,
    wrap_dim,
)
from .indexing import flip
from .pointwise import kernel_missing
from .reduction import _ReduceNode, reduce_dims
from .reductions_extra import _select_class, _select_result

__all__ = ["aminmax", "mode", "logcumsumexp"]

_make = Tensor._make


# -- aminmax -------------------------------------------------------------------------------

class AminmaxBackward0(_ReduceNode):
    """Each output's gradient shared equally among the elements equal to it (ties split)."""

    __slots__ = ("shares", "n_outputs")

    def backward(self, ns, grads):
        total = None
        for g, share in zip(grads, self.shares):
            if g is None:
                continue
            part = ns.mul(self.spread(ns, g), ns.constant(share.astype(ns.np_dtype(g))))
            total = part if total is None else ns.add(total, part)
        return (total,)


def _even_share(a: np.ndarray, kept: np.ndarray, dims: tuple | None) -> np.ndarray:
    mask = (a == kept) | (np.isnan(a) & np.isnan(kept))
    return mask / np.maximum(mask.sum(axis=dims, keepdims=True), 1)


@tensor_method()
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> tuple:
    """torch.aminmax(input, *, dim=None, keepdim=False) -> (min, max)"""
    a = input._data
    _dt.refuse_limited("aminmax_cpu", a.dtype)
    if dim is not None and (not isinstance(dim, (builtins.int, np.integer))
                            or isinstance(dim, builtins.bool)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = reduce_dims(a, dim)
    if a.size == 0:
        if dims is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        if dims and a.shape[dims[0]] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero "
                             "size.")
    if dims == ():
        lo, hi = a.copy(), a.copy()
    else:
        lo = np.asarray(np.min(a, axis=dims, keepdims=keepdim))
        hi = np.asarray(np.max(a, axis=dims, keepdims=keepdim))
    if not needs_grad(input):
        return return_types.aminmax((_make(lo), _make(hi)))
    node = AminmaxBackward0((edge(input),))
    node.shape, node.dims, node.keepdim = a.shape, dims, keepdim or dims == ()
    kept = [v.reshape(np.min(a, axis=dims, keepdims=True).shape) if dims != () else v
            for v in (lo, hi)]
    node.shares = tuple(_even_share(a, k, dims) for k in kept)
    return return_types.aminmax(record_many(node, [lo, hi]))


# -- mode ----------------------------------------------------------------------------------

ModeBackward0 = _select_class("ModeBackward0")


def _mode_along(a: np.ndarray, d: int) -> tuple:
    """(values, last index of the value) along ``d``: the most frequent value, the smallest
    among equally frequent ones, as torch picks them."""
    moved = np.moveaxis(a, d, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    values = np.empty(flat.shape[0], a.dtype)
    index = np.empty(flat.shape[0], np.int64)
    for row, x in enumerate(flat):
        order = np.argsort(x, kind="stable")
        sorted_x = x[order]
        uniq, first, counts = np.unique(sorted_x, return_index=True, return_counts=True,
                                        equal_nan=False)
        best = int(np.argmax(counts))               # first maximum: the smallest value
        values[row] = uniq[best]
        index[row] = order[first[best] + counts[best] - 1]
    shape = moved.shape[:-1]
    return values.reshape(shape), index.reshape(shape)


@tensor_method()
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """torch.mode(input, dim=-1, keepdim=False) -> (values, indices)"""
    a = input._data
    _dt.refuse_limited("mode_cpu", a.dtype)
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return _select_result("mode", input, a.copy(), np.zeros((), np.int64), 0, True,
                              ModeBackward0)
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    values, index = _mode_along(a, d)
    values, idx = np.expand_dims(values, d), np.expand_dims(index, d)
    return _select_result("mode", input, values if keepdim else np.squeeze(values, d), idx, d,
                          keepdim, ModeBackward0)


# -- logcumsumexp --------------------------------------------------------------------------

def _logcumsumexp_array(a: np.ndarray, dim: int) -> np.ndarray:
    return np.logaddexp.accumulate(a, axis=dim) if a.ndim else a.copy()


class LogcumsumexpBackward0(Node):
    """sum_{j >= i} g_j exp(x_i - r_j), with positive and negative g summed apart in the log
    domain so that nothing overflows."""

    __slots__ = ("dim",)

    def backward(self, ns, grads):
        g = grads[0]
        x, result = self.unpack(ns.graph)
        if not len(g.shape):
            return (g,)
        with np.errstate(all="ignore"):         # log(0) and lowest - result are intended
            lowest = ns.constant(np.array(np.finfo(ns.np_dtype(g)).min, ns.np_dtype(g)))
            log_abs = ns.log(ns.abs(g))
            parts = []
            for sign in (ns.gt, ns.lt):
                log_part = ns.where(sign(g, 0), log_abs, lowest)
                backwards = ns.flip(ns.logcumsumexp(
                    ns.flip(ns.sub(log_part, result), (self.dim,)), self.dim), (self.dim,))
                parts.append(ns.exp(ns.add(backwards, x)))
            return (ns.sub(parts[0], parts[1]),)


@tensor_method()
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """torch.logcumsumexp(input, dim) -> Tensor"""
    a = input._data
    if a.dtype.kind in "biu":
        raise kernel_missing("logcumsumexp_out_cpu", a.dtype)
    d = wrap_dim(dim, a.ndim)
    out = _logcumsumexp_array(a, d)
    if not needs_grad(input):
        return _make(out)
    node = LogcumsumexpBackward0((edge(input),))
    node.dim = d
    result = record(node, out)
    save_values(node, (input, SavedResult(out, result._counter)))
    return result


formula("logcumsumexp", _logcumsumexp_array, logcumsumexp)
formula("flip", lambda a, dims: np.flip(a, dims), flip)
