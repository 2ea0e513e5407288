"""Reductions beyond sum/mean: prod, max/min (full and per dim), amax/amin, arg-reductions,
var/std, norms, logsumexp, scans (cumsum, cumprod, cummax), sort/topk/median, all/any.

Gradient conventions follow torch: a full max/min/amax/median sends the gradient in equal
shares to every tied element; a per-dim max/min/median/sort/topk sends it to the one
selected index. Per-dim results are ``(values, indices)`` named tuples printed as torch's
``torch.return_types.<name>(...)``.
"""

from __future__ import annotations

import builtins
import math
import warnings
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
from .pointwise import div, kernel_missing, refuse_limited
from .reduction import _kept_shape, _ReduceNode, reduce_dims, sum

_make = Tensor._make


# -- shared plumbing ------------------------------------------------------------------------------

def _axis(dims: tuple | None) -> tuple | None:
    return None if dims is None else dims


def _save_result(node: Node, out_tensor: Tensor, *inputs: Any) -> None:
    """Save inputs and the node's own output (as SavedResult, no reference cycle)."""
    save_values(node, (*inputs, SavedResult(out_tensor._data, out_tensor._counter)))


def _reduce_node(cls: type, input: Tensor, dims: tuple | None, keepdim: bool) -> Node:
    node = cls((edge(input),))
    node.shape = input._data.shape
    node.dims = dims
    node.keepdim = keepdim or dims == ()
    return node


ReturnType = tuple       # one of the (values, indices) classes of tapegrad.return_types


# -- "evenly distributed" reductions: max/min/amax/amin/median over all or some dims --------------

class _EvenNode(_ReduceNode):
    """Gradient shared equally among the elements equal to the result (ties split)."""

    __slots__ = ("mask",)
    selects = True

    def backward(self, ns, grads):
        mask = self.mask
        count = mask.sum(axis=_axis(self.dims), keepdims=True)
        share = (mask / np.maximum(count, 1)).astype(ns.np_dtype(grads[0]))
        g = self.spread(ns, grads[0])
        if self.selects:        # max()/min()/median(): +0.0 off the extremum, as torch
            return (ns.keep(g, mask, share),)
        return (ns.mul(g, ns.constant(share)),)     # amax/amin: torch multiplies


def _even_class(name: str) -> type:
    return type(name, (_EvenNode,), {"__slots__": ()})


MaxBackward1 = _even_class("MaxBackward1")
MinBackward1 = _even_class("MinBackward1")
AmaxBackward0 = _even_class("AmaxBackward0")
AminBackward0 = _even_class("AminBackward0")
AmaxBackward0.selects = AminBackward0.selects = False
MedianBackward0 = _even_class("MedianBackward0")


def _even_reduce(input: Tensor, out: np.ndarray, dims: tuple | None, keepdim: bool,
                 node_cls: type) -> Tensor:
    if not needs_grad(input):
        return _make(out)
    node = _reduce_node(node_cls, input, dims, keepdim)
    a = input._data
    kept = out.reshape(_kept_shape(a.shape, dims)) if dims != () else out
    node.mask = (a == kept) | (np.isnan(a) & np.isnan(kept))
    return record(node, out)


def _empty_check(name: str, a: np.ndarray, dims: tuple | None) -> None:
    if a.size == 0:
        if dims is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        for d in dims:
            if a.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _extreme(fn: Any, a: np.ndarray, dims: tuple | None, keepdim: bool) -> np.ndarray:
    if dims == ():
        return a.copy()
    # torch propagates NaN through max/min; np.max does as well.
    return np.asarray(fn(a, axis=_axis(dims), keepdims=keepdim))


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """torch.amax(input, dim=(), keepdim=False)"""
    return _amax_amin(input, dim, keepdim, "amax", np.max, AmaxBackward0)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """torch.amin(input, dim=(), keepdim=False)"""
    return _amax_amin(input, dim, keepdim, "amin", np.min, AminBackward0)


def _amax_amin(input, dim, keepdim, name, fn, node_cls):
    a = input._data
    refuse_limited(f"{name[1:]}_values_cpu", a.dtype)
    dims = reduce_dims(a, None if dim == () or dim == [] else dim)
    if dims and not a.size:
        # torch names the empty dim as it was given (-1), unlike max(dim)
        for given in (dim,) if isinstance(dim, (builtins.int, np.integer)) else dim:
            if a.shape[wrap_dim(given, a.ndim)] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {given} to have non-zero "
                                 "size.")
    _empty_check(name, a, dims)
    return _even_reduce(input, _extreme(fn, a, dims, keepdim), dims, keepdim, node_cls)


# -- index-selecting reductions: max/min/median(dim), sort, topk, cummax ---------------------------

def _put_along_array(g: np.ndarray, idx: np.ndarray, dim: int, shape: tuple) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``idx`` along ``dim`` (repeats accumulate)."""
    out = np.zeros(shape, dtype=g.dtype)
    gm = np.moveaxis(np.broadcast_to(g, idx.shape), dim, -1)
    im = np.moveaxis(idx, dim, -1)
    om = np.moveaxis(out, dim, -1)      # a view: writes land in ``out``
    lead = np.indices(im.shape[:-1])
    index = tuple(np.broadcast_to(i[..., None], im.shape) for i in lead) + (im,)
    np.add.at(om, index, gm)
    return out


class PutAlongBackward(Node):
    """Backward of the scatter used by index-selecting reductions: a gather."""

    __slots__ = ("idx", "dim")

    def backward(self, ns, grads):
        return (ns.take_along(grads[0], self.idx, self.dim),)


class TakeAlongBackward(Node):
    __slots__ = ("idx", "dim", "shape")

    def backward(self, ns, grads):
        return (ns.put_along(grads[0], self.idx, self.dim, self.shape),)


def _put_along(g: Tensor, idx: np.ndarray, dim: int, shape: tuple) -> Tensor:
    out = _put_along_array(g._data, idx, dim, shape)
    if not needs_grad(g):
        return _make(out)
    node = PutAlongBackward((edge(g),))
    node.idx, node.dim = idx, dim
    return record(node, out)


def _take_along(x: Tensor, idx: np.ndarray, dim: int) -> Tensor:
    out = np.take_along_axis(x._data, idx, dim)
    if not needs_grad(x):
        return _make(out)
    node = TakeAlongBackward((edge(x),))
    node.idx, node.dim, node.shape = idx, dim, x._data.shape
    return record(node, out)


formula("put_along", _put_along_array, _put_along)
formula("take_along", lambda a, idx, dim: np.take_along_axis(a, idx, dim), _take_along)


class _SelectNode(Node):
    """Gradient goes to the selected indices (``idx``, kept-dim shaped) along ``dim``."""

    __slots__ = ("idx", "dim", "shape", "keepdim")

    def backward(self, ns, grads):
        g = grads[0]
        if not self.shape:              # a 0-d input selects itself
            return (g,)
        if not self.keepdim:
            g = ns.unsqueeze(g, self.dim)
        return (ns.put_along(g, self.idx, self.dim, self.shape),)


def _select_class(name: str) -> type:
    return type(name, (_SelectNode,), {"__slots__": ()})


MaxBackward0 = _select_class("MaxBackward0")
MinBackward0 = _select_class("MinBackward0")
MedianBackward1 = _select_class("MedianBackward1")
SortBackward0 = _select_class("SortBackward0")
TopkBackward0 = _select_class("TopkBackward0")
CummaxBackward0 = _select_class("CummaxBackward0")
CumminBackward0 = _select_class("CumminBackward0")
KthvalueBackward0 = _select_class("KthvalueBackward0")


def _select_result(name: str, input: Tensor, values: np.ndarray, idx: np.ndarray, dim: int,
                   keepdim: bool, node_cls: type) -> ReturnType:
    """Build the (values, indices) result; ``idx`` is kept-dim shaped."""
    indices = idx if keepdim else np.squeeze(idx, dim)
    ind = _make(np.array(indices, dtype=np.int64))      # a copy that keeps 0-d as 0-d
    rt = _RETURN_TYPES[name]
    if not needs_grad(input):
        return rt((_make(values), ind))
    node = node_cls((edge(input),))
    node.idx, node.dim, node.shape, node.keepdim = idx, dim, input._data.shape, keepdim
    return rt((record(node, values), ind))


_RETURN_TYPES = {n: getattr(return_types, n) for n in (
    "max", "min", "median", "sort", "topk", "cummax", "cummin", "kthvalue", "mode")}


def _dim_extreme(name: str, input: Tensor, dim: int, keepdim: bool, arg: Any,
                 node_cls: type) -> ReturnType:
    a = input._data
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return _select_result(name, input, a.copy(), np.zeros((), np.int64), 0, True, node_cls)
    d = wrap_dim(dim, a.ndim)
    _empty_check(name, a, (d,))
    idx = np.expand_dims(arg(a, axis=d), d)
    values = np.take_along_axis(a, idx, d)
    return _select_result(name, input, values if keepdim else np.squeeze(values, d), idx, d,
                          keepdim, node_cls)


def _nan_first(arg):
    """argmax/argmin that pick the first NaN, as torch does."""
    def pick(a: np.ndarray, axis: int) -> np.ndarray:
        if a.dtype.kind in "fc":
            nan = np.isnan(a)
            if nan.any():
                return np.where(nan.any(axis=axis), np.argmax(nan, axis=axis),
                                arg(np.where(nan, 0, a), axis=axis))
        return arg(a, axis=axis)
    return pick


_argmax_nan = _nan_first(np.argmax)
_argmin_nan = _nan_first(np.argmin)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """torch.max(input) / torch.max(input, dim, keepdim=False) / torch.max(input, other)"""
    return _max_min(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """torch.min(input) / torch.min(input, dim, keepdim=False) / torch.min(input, other)"""
    return _max_min(input, dim, keepdim, "min")


def _max_min(input, dim, keepdim, name):
    is_max = name == "max"
    if isinstance(dim, Tensor):
        from .binary_math import maximum, minimum
        return (maximum if is_max else minimum)(input, dim)
    a = input._data
    refuse_limited(f"{name}_all" if dim is None else f"{name}_cpu", a.dtype)
    if dim is None:
        _empty_check(name, a, None)
        return _even_reduce(input, _extreme(np.max if is_max else np.min, a, None, False),
                            None, False, MaxBackward1 if is_max else MinBackward1)
    return _dim_extreme(name, input, dim, keepdim, _argmax_nan if is_max else _argmin_nan,
                        MaxBackward0 if is_max else MinBackward0)


def _arg_reduce(name: str, arg: Any):
    def op(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
        a = input._data
        if a.dtype == np.bool_:
            raise RuntimeError(f"{name}(): does not support bool input")
        refuse_limited(f"{name}_cpu", a.dtype)
        if dim is None:
            if a.size == 0:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                 "input.numel() == 0.")
            out = np.asarray(arg(a.reshape(-1), axis=0), dtype=np.int64)
            return _make(out.reshape((1,) * a.ndim) if keepdim else out)
        if a.ndim == 0:
            wrap_dim(dim, 0)
            return _make(np.zeros((), np.int64))
        d = wrap_dim(dim, a.ndim)
        _empty_check(name, a, (d,))
        out = arg(a, axis=d).astype(np.int64)
        return _make(np.expand_dims(out, d) if keepdim else out)
    op.__name__ = name
    op.__doc__ = f"torch.{name}(input, dim=None, keepdim=False) -> LongTensor"
    return op


argmax = _arg_reduce("argmax", _argmax_nan)
argmin = _arg_reduce("argmin", _argmin_nan)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """torch.median(input) (lower median) / torch.median(input, dim, keepdim=False)"""
    a = input._data
    if a.dtype == np.bool_ or a.dtype.kind == "u" and a.dtype.itemsize > 1:
        raise kernel_missing("median_cpu" if dim is None else "median_out", a.dtype)
    if dim is None:
        if a.size == 0:     # NaN, and a zero gradient (nothing ties with it)
            return _even_reduce(input, np.asarray(np.nan, dtype=a.dtype), None, False,
                                MedianBackward0)
        flat = np.sort(a.reshape(-1))
        value = flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        return _even_reduce(input, np.asarray(value, dtype=a.dtype), None, False,
                            MedianBackward0)

    def pick(x, axis):
        order = np.argsort(x, axis=axis, kind="stable")
        mid = np.take(order, [(x.shape[axis] - 1) // 2], axis=axis)
        return np.squeeze(mid, axis)
    return _dim_extreme("median", input, dim, keepdim, pick, MedianBackward1)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
         ) -> ReturnType:
    """torch.sort(input, dim=-1, descending=False, stable=False) -> (values, indices)"""
    a = input._data
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return _select_result("sort", input, a.copy(), np.zeros((), np.int64), 0, True,
                              SortBackward0)
    d = wrap_dim(dim, a.ndim)
    idx = _argsort_array(a, d, descending)
    return _select_result("sort", input, np.take_along_axis(a, idx, d), idx, d, True,
                          SortBackward0)


def _argsort_array(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    if descending:
        # Stable descending order: sort keys that reverse the order (NaN first: torch's NaN
        # is the largest), so ties keep their original order.
        if a.dtype.kind == "b":
            key = ~a
        elif a.dtype.kind == "u":
            key = np.iinfo(a.dtype).max - a
        else:
            key = -a
        return np.argsort(key, axis=d, kind="stable")
    return np.argsort(a, axis=d, kind="stable")


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """torch.argsort(input, dim=-1, descending=False, stable=False) -> LongTensor"""
    a = input._data
    if a.ndim == 0:
        wrap_dim(dim, 0)
        return _make(np.zeros((), np.int64))
    return _make(_argsort_array(a, wrap_dim(dim, a.ndim), descending).astype(np.int64))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> ReturnType:
    """torch.topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)"""
    a = input._data
    if a.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    refuse_limited("topk_cpu", a.dtype)
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return _select_result("topk", input, a.copy(), np.zeros((), np.int64), 0, True,
                              TopkBackward0)
    idx = np.take(_argsort_array(a, d, largest), np.arange(k), axis=d)
    return _select_result("topk", input, np.take_along_axis(a, idx, d), idx, d, True,
                          TopkBackward0)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ReturnType:
    """torch.kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)"""
    if input._data.dtype == np.bool_:
        raise kernel_missing("kthvalue_cpu", input._data.dtype)
    refuse_limited("kthvalue_cpu", input._data.dtype)
    def pick(x, axis):
        if not 1 <= k <= x.shape[axis]:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                               f"{axis}")
        order = np.argsort(x, axis=axis, kind="stable")
        return np.squeeze(np.take(order, [k - 1], axis=axis), axis)
    return _dim_extreme("kthvalue", input, dim, keepdim, pick, KthvalueBackward0)


def _cum_extreme(name: str, input: Tensor, dim: int, better: Any, node_cls: type
                 ) -> ReturnType:
    a = input._data
    refuse_limited(f"{name}_cpu", a.dtype)
    if a.ndim == 0:
        if dim not in (-1, 0):
            raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
        return _select_result(name, input, a.copy(), np.zeros((), np.int64), 0, True,
                              node_cls)
    d = wrap_dim(dim, a.ndim)
    values = better.accumulate(a, axis=d) if a.size else a.copy()
    positions = np.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)])
    # The latest position that reaches the running extreme is the index (torch's >=).
    hits = np.where(a == values, positions, 0)
    idx = np.maximum.accumulate(hits, axis=d) if a.size else hits
    return _select_result(name, input, values, idx.astype(np.int64), d, True, node_cls)


def cummax(input: Tensor, dim: int) -> ReturnType:
    """torch.cummax(input, dim) -> (values, indices)"""
    return _cum_extreme("cummax", input, dim, np.maximum, CummaxBackward0)


def cummin(input: Tensor, dim: int) -> ReturnType:
    """torch.cummin(input, dim) -> (values, indices)"""
    return _cum_extreme("cummin", input, dim, np.minimum, CumminBackward0)


# -- prod ------------------------------------------------------------------------------------------

def _prod_others(ns, x: Any) -> Any:
    """For each element along the last dim, the product of all the others (exact with zeros):
    an (n, n) matrix per row with 1 on the diagonal, multiplied along its last dim."""
    n = x.shape[-1]
    eye = ns.constant(np.eye(n, dtype=bool))
    rows = ns.where(eye, ns.constant(np.ones((), ns.np_dtype(x))), ns.unsqueeze(x, -2))
    return ns.prod(rows, -1)


class ProdBackward0(_ReduceNode):
    """prod over all elements (dims None) or over one dim (ProdBackward1)."""

    __slots__ = ()
    saved_names = ("self", "result")

    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        g = self.spread(ns, grads[0])
        xa = ns.unwrap(x)
        if xa.ndim == 0:
            return (grads[0],)          # torch passes the gradient through unchanged
        if xa.size == 0:
            return (g,)
        if not (xa == 0).any():
            return (ns.mul(g, ns.div(self.spread(ns, result), x)),)
        if self.dims is None:
            others = ns.reshape(_prod_others(ns, ns.reshape(x, (-1,))), self.shape)
        else:
            d = self.dims[0]
            others = ns.transpose(_prod_others(ns, ns.transpose(x, d, -1)), d, -1)
        return (ns.mul(g, others),)


ProdBackward1 = type("ProdBackward1", (ProdBackward0,), {"__slots__": ()})


def _acc_dtype(a: np.ndarray, dtype: Any) -> np.ndarray:
    if dtype is not None:
        return a.astype(_dt.to_numpy_dtype(dtype))
    if a.dtype.kind in "bu" or (a.dtype.kind == "i" and a.dtype != np.int64):
        return a.astype(np.int64)
    return a


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    """torch.prod(input, dim=None, keepdim=False, *, dtype=None)"""
    a = _acc_dtype(input._data, dtype)
    if dim is None:
        dims = None
        out = np.asarray(np.prod(a), dtype=a.dtype)
    else:
        dims = reduce_dims(a, dim)
        out = a.copy() if dims == () else np.asarray(np.prod(a, axis=dims, keepdims=keepdim))
    if not needs_grad(input) or a.dtype.kind not in "fc":
        return _make(out)
    node = _reduce_node(ProdBackward0 if dim is None else ProdBackward1, input, dims, keepdim)
    result = record(node, out)
    _save_result(node, result, input)
    return result


def _prod_array(a, dim=None, keepdim=False):
    return np.prod(a, axis=dim, keepdims=keepdim)


formula("prod", _prod_array, prod)


# -- var / std -------------------------------------------------------------------------------------

def _parse_correction(dim: Any, unbiased: Any, correction: Any) -> tuple:
    if isinstance(dim, builtins.bool):          # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var_forward(a: np.ndarray, dims: tuple | None, correction: float, keepdim: bool,
                 name: str) -> tuple[np.ndarray, int]:
    n = a.size if dims is None else int(np.prod([a.shape[d] for d in dims]))
    if n - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    with np.errstate(all="ignore"):
        mean = np.mean(a, axis=dims, keepdims=True) if a.size else np.full(
            _kept_shape(a.shape, dims), np.nan, a.dtype)
        dev = a - mean
        sq = np.sum(dev * dev.conj(), axis=dims, keepdims=keepdim).real
        out = np.asarray(sq / builtins.max(n - correction, 0), dtype=a.dtype)
    return out, n


class VarBackward0(_ReduceNode):
    """d var / dx = 2 (x - mean) / (N - correction)."""

    __slots__ = ("correction", "count")
    saved_names = ("self", "result")

    def centred(self, ns, x):
        dims = self.dims if self.dims is not None else tuple(range(len(self.shape)))
        return ns.sub(x, ns.mean(x, dims, True))

    def var_grad(self, ns, g, x):
        dof = self.count - self.correction
        if dof <= 0 and (self.dims is None or not self.shape):
            # torch, over all elements: inf * 0 is NaN where x is the mean, else inf; a
            # constant, so nothing flows through it to a second derivative.
            xa = ns.unwrap(x)
            at_mean = xa == xa.mean(axis=self.dims, keepdims=True)
            factor = np.where(at_mean, np.nan, np.inf).astype(ns.np_dtype(g))
            return ns.mul(self.spread(ns, g), ns.constant(factor))
        with np.errstate(all="ignore"):
            scale = 2.0 / dof if dof > 0 else math.inf
        return ns.mul(ns.mul(self.spread(ns, g), scale), self.centred(ns, x))

    def output_grad(self, ns, g, x, result):
        return self.var_grad(ns, g, x)

    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        return (self.output_grad(ns, grads[0], x, result),)


class StdBackward0(VarBackward0):
    """d std = d var / (2 std); 0 where std == 0 (torch)."""

    __slots__ = ()

    def output_grad(self, ns, g, x, result):
        zero = ns.eq(result, 0)
        g = ns.where(zero, ns.zeros_like(g), ns.div(g, ns.mul(ns.where(zero, ns.add(result, 1),
                                                                     result), 2)))
        return self.var_grad(ns, g, x)


def _with_mean(base: type, name: str) -> type:
    """The node of var_mean/std_mean: one node, two outputs (the statistic, the mean)."""
    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        g_stat, g_mean = grads
        total = None if g_stat is None else self.output_grad(ns, g_stat, x, result)
        if g_mean is not None:
            from_mean = ns.div(self.spread(ns, g_mean), self.count)
            total = from_mean if total is None else ns.add(total, from_mean)
        return (total,)
    return type(name, (base,), {"__slots__": ("n_outputs",), "backward": backward})


VarMeanBackward0 = _with_mean(VarBackward0, "VarMeanBackward0")
StdMeanBackward0 = _with_mean(StdBackward0, "StdMeanBackward0")
_NODES = {("var", False): VarBackward0, ("std", False): StdBackward0,
          ("var", True): VarMeanBackward0, ("std", True): StdMeanBackward0}


def _var_std(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any,
             name: str, with_mean: bool = False) -> Any:
    dim, correction = _parse_correction(dim, unbiased, correction)
    a = input._data
    if a.dtype.kind not in "fc":
        which = f"{name}_mean" if with_mean else "std and var"
        raise RuntimeError(f"{which} only support floating point and complex dtypes")
    dims = reduce_dims(a, dim)
    out, n = _var_forward(a, dims if dims != () else (), correction, keepdim, name)
    if name == "std":
        out = np.sqrt(out)
    outs = [out]
    if with_mean:
        with np.errstate(all="ignore"):
            outs.append(np.asarray(np.mean(a, axis=dims if dims != () else (),
                                           keepdims=keepdim), dtype=a.dtype))
    if not needs_grad(input):
        return tuple(_make(o) for o in outs) if with_mean else _make(out)
    node = _reduce_node(_NODES[name, with_mean], input, dims, keepdim)
    node.correction, node.count = correction, n
    if not with_mean:
        result = record(node, out)
        _save_result(node, result, input)
        return result
    results = record_many(node, outs)
    _save_result(node, results[0], input)
    return tuple(results)


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """torch.var(input, dim=None, *, correction=1, keepdim=False)"""
    return _var_std(input, dim, unbiased, keepdim, correction, "var")


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """torch.std(input, dim=None, *, correction=1, keepdim=False)"""
    return _var_std(input, dim, unbiased, keepdim, correction, "std")


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """torch.var_mean(input, dim=None, *, correction=1, keepdim=False) -> (var, mean)"""
    return _var_std(input, dim, unbiased, keepdim, correction, "var", with_mean=True)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """torch.std_mean(input, dim=None, *, correction=1, keepdim=False) -> (std, mean)"""
    return _var_std(input, dim, unbiased, keepdim, correction, "std", with_mean=True)


# -- norms -----------------------------------------------------------------------------------------

class LinalgVectorNormBackward0(_ReduceNode):
    """Gradient of the p-norm; 0 at the zero vector (torch's subgradient)."""

    __slots__ = ("ord",)
    saved_names = ("self", "result")

    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        p = self.ord
        g = self.spread(ns, grads[0])
        if p == 0:
            return (ns.mul(g, ns.mul(x, 0)),)
        if p == 1:
            return (ns.mul(ns.sgn(x), g),)
        r = self.spread(ns, result)
        ra = ns.unwrap(r)
        if math.isinf(p):
            xa = ns.unwrap(x)
            mask = np.abs(xa) == ra
            count = mask.sum(axis=self.dims, keepdims=True)
            share = ns.constant((mask / np.maximum(count, 1)).astype(ns.np_dtype(g)))
            return (ns.mul(ns.sgn(x), ns.mul(g, share)),)
        # torch's norm_backward, term for term (its node names under create_graph).
        zero = ns.constant(ra == 0)
        with np.errstate(all="ignore"):
            if p == 2:
                return (ns.mul(g, ns.masked_fill(ns.div(x, r), zero, 0.0)),)
            if p < 1:
                at_zero = ns.constant(ns.unwrap(x) == 0)
                scaled = ns.mul(ns.sgn(x), ns.masked_fill(ns.pow(ns.abs(x), p - 1), at_zero,
                                                          0.0))
                return (ns.mul(ns.mul(scaled, g), ns.pow(r, 1 - p)),)
            if p < 2:
                scaled = ns.mul(ns.sgn(x), ns.pow(ns.abs(x), p - 1))
            else:
                scaled = ns.mul(x, ns.pow(ns.abs(x), p - 2))
            return (ns.mul(scaled, ns.masked_fill(ns.div(g, ns.pow(r, p - 1)), zero, 0.0)),)


def _no_identity_check(a: np.ndarray, dims: tuple | None, p: float) -> None:
    """The inf norms have no value over nothing: torch refuses an empty reduction."""
    if a.size:
        return
    which = "inf" if p > 0 else "-inf"
    if dims is None:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on an empty "
                           "tensor because the operation does not have an identity")
    for d in dims:
        if a.shape[d] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on the "
                               f"dimension {d}because this dimension is empty and the "
                               "operation does not have an identity")


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """torch.linalg.vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)"""
    a = x._data
    if dtype is not None:
        a = a.astype(_dt.to_numpy_dtype(dtype))
    if a.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.scalar_name}")
    dims = reduce_dims(a, dim)
    ax = np.abs(a)
    p = builtins.float(ord)
    axis = dims if dims != () else None
    if dims == ():
        out = ax.copy()
    elif math.isinf(p):
        _no_identity_check(a, dims, p)
        out = (np.max if p > 0 else np.min)(ax, axis=axis, keepdims=keepdim)
    elif p == 0:
        out = np.sum(ax != 0, axis=axis, keepdims=keepdim).astype(ax.dtype)
    elif p == 2:
        out = np.sqrt(np.sum(ax * ax, axis=axis, keepdims=keepdim))
    else:
        with np.errstate(all="ignore"):
            out = np.sum(ax ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)
    out = np.asarray(out, dtype=ax.dtype)
    if not needs_grad(x):
        return _make(out)
    src = x if dtype is None else x.to(dtype)
    node = _reduce_node(LinalgVectorNormBackward0, src, dims if dims != () else (), keepdim)
    node.ord = p
    result = record(node, out)
    _save_result(node, result, src)
    return result


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """torch.norm(input, p='fro', dim=None, keepdim=False, dtype=None): vector norms only."""
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise NotImplementedError(f"norm with p={p!r} (a matrix norm) is not supported; "
                                  "use tapegrad.linalg.matrix_norm.")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# -- logsumexp, nansum, nanmean ------------------------------------------------------------------

class LogsumexpBackward0(_ReduceNode):
    __slots__ = ()
    saved_names = ("self", "result")

    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        return (ns.mul(self.spread(ns, grads[0]),
                       ns.exp(ns.sub(x, self.spread(ns, result)))),)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """torch.logsumexp(input, dim, keepdim=False)"""
    a = input._data
    if a.dtype.kind in "biu":
        a = a.astype(_dt.get_default_dtype().np)
    dims = reduce_dims(a, dim)
    if dims is None and not keepdim:
        # torch reduces every dim for an empty dim list, then fails to write the 0-d
        # result into its output shaped as if reduced with keepdim.
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                           f"{[1] * a.ndim}")
    if dims == ():
        out = a.copy()
    else:
        with np.errstate(all="ignore"):
            m = np.max(a, axis=dims, keepdims=True) if a.size else np.zeros(
                _kept_shape(a.shape, dims), a.dtype)
            m = np.where(np.isinf(m), 0, m)
            s = np.log(np.sum(np.exp(a - m), axis=dims, keepdims=True)) + m
        out = np.asarray(s if keepdim else s.reshape(
            [n for i, n in enumerate(a.shape) if i not in dims]), dtype=a.dtype)
    if not needs_grad(input):
        return _make(out)
    node = _reduce_node(LogsumexpBackward0, input, dims, keepdim)
    result = record(node, out)
    _save_result(node, result, input)
    return result


class NansumBackward0(_ReduceNode):
    __slots__ = ()
    saved_names = ("self",)

    def backward(self, ns, grads):
        (x,) = self.unpack(False)
        keep = ns.constant(~np.isnan(x))
        return (ns.mul(self.spread(ns, grads[0]), keep),)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
           ) -> Tensor:
    """torch.nansum(input, dim=None, keepdim=False, *, dtype=None)"""
    a = _acc_dtype(input._data, dtype)
    dims = reduce_dims(a, dim)
    clean = np.where(np.isnan(a), 0, a) if a.dtype.kind in "fc" else a
    out = clean.copy() if dims == () else np.asarray(np.sum(clean, axis=dims, keepdims=keepdim))
    if not needs_grad(input):
        return _make(out)
    node = _reduce_node(NansumBackward0, input, dims, keepdim)
    save_values(node, (input,))
    return record(node, out)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
            ) -> Tensor:
    """torch.nanmean(input, dim=None, keepdim=False, *, dtype=None): nansum / non-NaN count"""
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype.scalar_name}")
    count = sum(_make(~np.isnan(input._data)), dim, keepdim)
    return div(nansum(input, dim, keepdim, dtype=dtype), count)


# -- scans: cumsum, cumprod ----------------------------------------------------------------------

class CumsumBackward0(Node):
    """The gradient of a running sum is the reversed running sum of the gradient."""

    __slots__ = ("dim", "dtype")

    def backward(self, ns, grads):
        g = grads[0]
        if self.dim is None:            # 0-d input: the running sum is the input itself
            return (g if ns.np_dtype(g) == self.dtype else ns.cast(g, self.dtype),)
        total = ns.sum(g, (self.dim,), True)
        rev = ns.add(ns.sub(total, ns.cumsum(g, self.dim)), g)
        if ns.np_dtype(rev) != self.dtype:
            rev = ns.cast(rev, self.dtype)
        return (rev,)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """torch.cumsum(input, dim, *, dtype=None)"""
    a = _acc_dtype(input._data, dtype)
    d = wrap_dim(dim, a.ndim)
    out = a.copy() if a.ndim == 0 else np.cumsum(a, axis=d, dtype=a.dtype)
    if not needs_grad(input):
        return _make(out)
    node = CumsumBackward0((edge(input),))
    node.dim, node.dtype = d if a.ndim else None, input._data.dtype
    return record(node, out)


def _cumsum_array(a, dim):
    return a.copy() if a.ndim == 0 else np.cumsum(a, axis=dim)


formula("cumsum", _cumsum_array, cumsum)


class CumprodBackward0(Node):
    """Without zeros: reversed running sum of g*result, divided by x. With zeros: each
    output's derivative by each input, as a product of the others (exact)."""

    __slots__ = ("dim",)
    saved_names = ("self", "result")

    def backward(self, ns, grads):
        x, result = self.unpack(ns.graph)
        g = grads[0]
        xa = ns.unwrap(x)
        if xa.ndim == 0:
            return (g,)
        d = self.dim
        if not (xa == 0).any():
            # torch: the reversed cumulative sum of result * grad, over the input.
            gr = ns.mul(result, g)
            return (ns.div(ns.flip(ns.cumsum(ns.flip(gr, (d,)), d), (d,)), x),)
        xt = ns.transpose(x, d, -1)
        gt = ns.transpose(g, d, -1)
        n = xa.shape[d]
        eye = ns.constant(np.eye(n, dtype=bool))
        rows = ns.where(eye, ns.constant(np.ones((), ns.np_dtype(xt))), ns.unsqueeze(xt, -2))
        upper = ns.constant(np.triu(np.ones((n, n), ns.np_dtype(xt))))
        partial = ns.mul(ns.cumprod(rows, -1), upper)        # [i, j]: d out_j / d x_i
        gx = ns.sum(ns.mul(partial, ns.unsqueeze(gt, -2)), (xa.ndim,), False)
        return (ns.transpose(gx, d, -1),)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """torch.cumprod(input, dim, *, dtype=None)"""
    a = _acc_dtype(input._data, dtype)
    d = wrap_dim(dim, a.ndim)
    out = a.copy() if a.ndim == 0 else np.cumprod(a, axis=d, dtype=a.dtype)
    if not needs_grad(input) or a.dtype.kind not in "fc":
        return _make(out)
    node = CumprodBackward0((edge(input),))
    node.dim = d
    result = record(node, out)
    _save_result(node, result, input)
    return result


formula("cumprod", lambda a, dim: np.cumprod(a, axis=dim), cumprod)


# -- all / any / count_nonzero -------------------------------------------------------------------

def _bool_reduce(name: str, fn: Any):
    def op(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
        a = input._data
        dims = reduce_dims(a, dim)
        if dims == ():
            out = a.astype(bool)
        else:
            out = np.asarray(fn(a, axis=dims, keepdims=keepdim))
        if a.dtype == np.uint8:
            out = out.astype(np.uint8)
        return _make(out)
    op.__name__ = name
    op.__doc__ = f"torch.{name}(input, dim=None, keepdim=False) -> Tensor"
    return op


all = _bool_reduce("all", np.all)
any = _bool_reduce("any", np.any)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """torch.count_nonzero(input, dim=None) -> LongTensor"""
    a = input._data
    refuse_limited("nonzero_count_cpu", a.dtype)
    dims = reduce_dims(a, dim)
    if dims == ():
        return _make((a != 0).astype(np.int64))
    return _make(np.asarray(np.count_nonzero(a, axis=dims), dtype=np.int64))


for _fn in (amax, amin, max, min, argmax, argmin, median, sort, argsort, topk, kthvalue,
            cummax, cummin, prod, var, std, var_mean, std_mean, norm, logsumexp, nansum,
            nanmean, cumsum, cumprod, all, any, count_nonzero):
    tensor_method(_fn.__name__)(_fn)
del _fn
