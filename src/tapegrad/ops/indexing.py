"""Gathers and scatters: ops whose output element i is input element ``positions[i]``.

Every op here is reduced to flat positions: NumPy rearranges ``arange(numel)`` of the
input (flip, roll, tile, take_along_axis, pad, ...) and the output is the input's flat
data taken at those positions. Their gradient is one rule, written once: add the
gradient back at the positions (``ns.index_backward``, which repeats accumulate into),
and that rule's own gradient is indexing again, so every op here is differentiable to
any order. Scatters (scatter, scatter_add, index_add, masked_fill) are the transpose:
values are written, or added, at positions of a copy of the input.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import SavedResult
from .define import (
    Node,
    Tensor,
    as_tensor_arg,
    edge,
    formula,
    inplace,
    mark_view,
    needs_grad,
    record,
    record_many,
    save_values,
    tensor_method,
    wrap_dim,
)
from .join import cat
from .no_derivative import record_no_derivative
from .shape import getitem, permute, reshape, unsqueeze

_make = Tensor._make

# ---------------------------------------------------------------------------------------
# The gather primitive
# ---------------------------------------------------------------------------------------


def positions(shape: tuple) -> np.ndarray:
    """Flat position of each element of a tensor of ``shape``."""
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


class _GatherNode(Node):
    """out = input.flatten()[index]: the gradient is added back at ``index``."""

    __slots__ = ("shape", "index")

    def backward(self, ns, grads):
        numel = int(np.prod(self.shape, dtype=np.int64))
        flat = ns.index_backward(grads[0], (numel,), self.index, False)
        return (ns.reshape(flat, self.shape),)


_GATHER_NODES: dict[str, type] = {}


def gather_flat(input: Tensor, index: np.ndarray, node_name: str,
                out: np.ndarray | None = None) -> Tensor:
    """The elements of ``input`` at flat positions ``index`` (shape of ``index``); ``out``
    is those elements when the caller already has them (as a view)."""
    a = input._data
    if out is None:
        out = a.reshape(-1)[index]
    if not needs_grad(input):
        return _make(out)
    cls = _GATHER_NODES.get(node_name)
    if cls is None:
        cls = _GATHER_NODES[node_name] = type(node_name, (_GatherNode,), {"__slots__": ()})
    node = cls((edge(input),))
    node.shape = a.shape
    node.index = index
    return record(node, out)


# torch's wording, per op, for an index of the wrong dtype; None: int32 and int64 accepted
_LONG_ONLY = {"take": "take(): Expected a long tensor for index, but got {}",
              "take_along_dim": "torch.take_along_dim(): dtype of indices should be Long but "
                                "got {}"}
_SCATTER_DTYPE_ERROR = "scatter(): Expected dtype int32/int64 for index"
_INT_DTYPE_ERRORS = {"index_add": "index_add_(): Expected dtype int32/int64 for index but got: "
                                  "{}",
                     "scatter_add": _SCATTER_DTYPE_ERROR, "scatter_reduce": _SCATTER_DTYPE_ERROR}


def _int_index(index: Tensor, fn: str) -> np.ndarray:
    """The index array of an op that takes integer indices, after torch's dtype check."""
    a = index._data
    name = _dt.from_numpy_dtype(a.dtype).scalar_name
    if fn in _LONG_ONLY:
        if a.dtype != np.int64:
            raise RuntimeError(_LONG_ONLY[fn].format(name))
    elif a.dtype not in (np.int64, np.int32):
        raise RuntimeError(_INT_DTYPE_ERRORS.get(fn, f"{fn}(): Expected dtype int32/int64 for "
                                                     "index").format(name))
    return a


def _dims_arg(dims: Any) -> tuple:
    if isinstance(dims, (builtins.int, np.integer)):
        return (int(dims),)
    return tuple(int(d) for d in dims)


# -- flip / roll / repeat / tile / repeat_interleave ---------------------------------------


def flip(input: Tensor, dims: Any, *more_dims: int) -> Tensor:
    """torch.flip(input, dims); the method also takes the dims unpacked (x.flip(0, 1))."""
    nd = input._data.ndim
    ds = tuple(wrap_dim(d, nd) for d in _dims_arg((dims, *more_dims) if more_dims else dims))
    if len(set(ds)) != len(ds):
        dup = next(d for d in ds if ds.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return gather_flat(input, np.flip(positions(input._data.shape), ds), "FlipBackward0")


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """torch.roll(input, shifts, dims=None)"""
    shape = input._data.shape
    if dims is None:
        idx = np.roll(positions(shape).reshape(-1), _dims_arg(shifts)[0]).reshape(shape)
        return gather_flat(input, idx, "RollBackward0")
    sh, ds = _dims_arg(shifts), _dims_arg(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:"
                           f"{len(ds)}")
    ds = tuple(wrap_dim(d, len(shape)) for d in ds)
    return gather_flat(input, np.roll(positions(shape), sh, ds), "RollBackward0")


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tensor.repeat(*sizes)"""
    if len(sizes) == 1 and not isinstance(sizes[0], (builtins.int, np.integer)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    pos = positions(shape).reshape((1,) * (len(sizes) - len(shape)) + shape)
    return gather_flat(input, np.tile(pos, sizes), "RepeatBackward0")


def tile(input: Tensor, dims: Any) -> Tensor:
    """torch.tile(input, dims)"""
    dims = _dims_arg(dims)
    nd = input._data.ndim
    return repeat(input, (1,) * (nd - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats: Any, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """torch.repeat_interleave(input, repeats, dim=None, *, output_size=None)"""
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    # torch expands and flattens for a Python int (a view of a copy), else index_selects
    name = "IndexSelectBackward0" if isinstance(repeats, Tensor) else "ViewBackward0"
    if dim is None:
        pos = positions(input._data.shape).reshape(-1)
        return gather_flat(input, np.repeat(pos, reps), name)
    d = wrap_dim(dim, input._data.ndim)
    pos = positions(input._data.shape)
    return gather_flat(input, np.repeat(pos, reps, axis=d), name)


# -- index_select / gather / take / take_along_dim / masked_select ---------------------------


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """torch.index_select(input, dim, index)"""
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    pos = positions(input._data.shape)
    if nd == 0:
        return gather_flat(input, pos.reshape(1)[np.zeros(idx.size, np.int64)].reshape(idx.shape),
                           "IndexSelectBackward0")
    n = pos.shape[d]
    bad = idx[(idx < -n) | (idx >= n)] if idx.size else idx[:0]
    if bad.size or (idx < 0).any():
        raise IndexError("index out of range in self")
    return gather_flat(input, np.take(pos, idx.reshape(-1), axis=d), "IndexSelectBackward0")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """torch.gather(input, dim, index)"""
    idx = _int_index(index, "gather")
    shape = input._data.shape
    nd = max(len(shape), 1)
    d = wrap_dim(dim, nd)
    if max(idx.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    pos = positions(shape).reshape(shape or (1,))
    idx2 = idx.reshape(idx.shape or (1,))
    for i in range(nd):
        if i != d and idx2.shape[i] > pos.shape[i]:
            raise RuntimeError(f"Size does not match at dimension {i} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {d}")
    if idx2.size and (idx2.min() < 0 or idx2.max() >= pos.shape[d]):
        bad = idx2[(idx2 < 0) | (idx2 >= pos.shape[d])][0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                           f"{pos.shape[d]}")
    sub = pos[tuple(slice(0, s) if i != d else slice(None) for i, s in enumerate(idx2.shape))]
    out_idx = np.take_along_axis(sub, idx2, d).reshape(idx.shape)
    return gather_flat(input, out_idx, "GatherBackward0")


def take(input: Tensor, index: Tensor) -> Tensor:
    """torch.take(input, index): elements at flat positions."""
    idx = _int_index(index, "take")
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return gather_flat(input, idx % max(n, 1), "TakeBackward0")


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """torch.take_along_dim(input, indices, dim=None)"""
    _int_index(indices, "take_along_dim")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    shape, ishape = input._data.shape, indices._data.shape
    d = wrap_dim(dim, len(shape))
    bshape = list(np.broadcast_shapes(tuple(s for i, s in enumerate(shape) if i != d),
                                      tuple(s for i, s in enumerate(ishape) if i != d)))
    in_shape = tuple(bshape[:d] + [shape[d]] + bshape[d:])
    ix_shape = tuple(bshape[:d] + [ishape[d]] + bshape[d:])
    src = input if in_shape == shape else input.expand(in_shape)
    idx = indices if ix_shape == ishape else indices.expand(ix_shape)
    return gather(src, d, idx)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """torch.masked_select(input, mask)"""
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(input._data.shape, m.shape)
    pos = np.broadcast_to(positions(input._data.shape), shape)
    return gather_flat(input, pos[np.broadcast_to(m, shape)], "MaskedSelectBackward0")


# -- diagonal / trace ------------------------------------------------------------------------


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """torch.diagonal(input, offset=0, dim1=0, dim2=1): a view of the diagonal."""
    a = input._data
    d1, d2 = wrap_dim(dim1, a.ndim), wrap_dim(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    out = np.diagonal(a, offset, d1, d2)
    if a.flags.writeable:
        out.flags.writeable = True          # NumPy hands it out read-only; torch's is a view
    if needs_grad(input):
        res = gather_flat(input, np.diagonal(positions(a.shape), offset, d1, d2),
                          "DiagonalBackward0", out)
    else:
        res = _make(out)
    return mark_view(res, input, lambda ns, x: ns.diagonal(x, offset, d1, d2))


class TraceBackward0(Node):
    __slots__ = ("shape", "index")

    def backward(self, ns, grads):
        numel = int(np.prod(self.shape, dtype=np.int64))
        g = ns.expand(grads[0], self.index.shape)
        return (ns.reshape(ns.index_backward(g, (numel,), self.index, False), self.shape),)


def trace(input: Tensor) -> Tensor:
    """torch.trace(input): sum of the main diagonal of a matrix."""
    a = input._data
    if a.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim "
                           f"{a.ndim}")
    out = np.asarray(np.trace(a))
    if out.dtype.kind in "bu" or out.dtype == np.int32:
        out = out.astype(np.int64)
    if not needs_grad(input):
        return _make(out)
    node = TraceBackward0((edge(input),))
    node.shape = a.shape
    node.index = np.diagonal(positions(a.shape)).copy()
    return record(node, out)


# ---------------------------------------------------------------------------------------
# The scatter primitive
# ---------------------------------------------------------------------------------------


class _ScatterNode(Node):
    """out = input with src's values at ``src_pos`` written (or added) at ``index``."""

    __slots__ = ("shape", "index", "src_shape", "src_pos", "accumulate", "keep")

    def backward(self, ns, grads):
        g = grads[0]
        gs = gv = None
        if self._edges[0] is not None:
            gs = g if self.accumulate else ns.keep(g, self.keep)
        if len(self._edges) == 2:       # a value given as a number
            return (gs,)
        if self._edges[2] is not None:
            picked = ns.getitem(ns.reshape(g, (-1,)), self.index)
            numel = int(np.prod(self.src_shape, dtype=np.int64))
            gv = ns.reshape(ns.index_backward(picked, (numel,), self.src_pos, False),
                            self.src_shape)
        return (gs, gv)


_SCATTER_NODES: dict[str, type] = {}


def scatter_flat(input: Tensor, index: np.ndarray, src: Tensor, src_pos: np.ndarray,
                 accumulate: bool, node_name: str, number: bool = False) -> Tensor:
    """A copy of ``input`` with ``src.flatten()[src_pos]`` put (or added) at ``index``;
    ``number``: src stands for a Python number, no input of the node (torch's Scalar
    overloads have one edge)."""
    a = input._data
    out = a.copy()
    flat = out.reshape(-1)
    vals = src._data.reshape(-1)[src_pos].astype(a.dtype, copy=False)
    if accumulate:
        np.add.at(flat, index, vals)
    else:
        flat[index] = vals
    if not needs_grad(input, src):
        return _make(out)
    cls = _SCATTER_NODES.get(node_name)
    if cls is None:
        cls = _SCATTER_NODES[node_name] = type(node_name, (_ScatterNode,), {"__slots__": ()})
    node = cls((edge(input),) if number else (edge(input), edge(src)))
    node.shape, node.index, node.accumulate = a.shape, index, accumulate
    node.src_shape, node.src_pos = src._data.shape, src_pos
    if not accumulate:
        keep = np.ones(a.size, dtype=np.bool_)
        keep[index] = False
        node.keep = keep.reshape(a.shape)
    return record(node, out)


def _scatter_positions(input: Tensor, dim: int, index: Tensor, src_shape: tuple, fn: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(positions in input, positions in src) addressed by scatter's ``index`` along dim."""
    idx = _int_index(index, fn)
    shape = input._data.shape
    nd = max(len(shape), 1)
    d = wrap_dim(dim, nd)
    shape1 = shape or (1,)
    idx1 = idx.reshape(idx.shape or (1,))
    if idx1.ndim != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    if idx1.size and (idx1.min() < 0 or idx1.max() >= shape1[d]):
        bad = idx1[(idx1 < 0) | (idx1 >= shape1[d])][0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                           f"{shape1[d]}")
    grid = list(np.indices(idx1.shape, sparse=True))
    grid[d] = idx1
    dst = np.ravel_multi_index(tuple(np.broadcast_to(g, idx1.shape) for g in grid), shape1)
    src_grid = np.indices(idx1.shape, sparse=False)
    src_pos = np.ravel_multi_index(tuple(src_grid), src_shape or (1,)) if idx1.size else \
        np.zeros(idx1.shape, np.int64)
    return dst, src_pos


def _value_tensor(src: Any, like: Tensor, shape: tuple) -> Tensor:
    if isinstance(src, Tensor):
        return src
    return _make(np.full(shape, src, dtype=like._data.dtype))


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """torch.scatter(input, dim, index, src) / scatter(input, dim, index, value=...)"""
    if src is None:
        src = value
    elif not isinstance(src, Tensor):
        value = src
    src = _value_tensor(src, input, index._data.shape)
    dst, src_pos = _scatter_positions(input, dim, index, src._data.shape, "scatter")
    name = "ScatterBackward1" if value is not None else "ScatterBackward0"
    return scatter_flat(input, dst, src, src_pos, False, name, value is not None)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """torch.scatter_add(input, dim, index, src)"""
    dst, src_pos = _scatter_positions(input, dim, index, src._data.shape, "scatter_add")
    return scatter_flat(input, dst, src, src_pos, True, "ScatterAddBackward0")


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: float = 1) -> Tensor:
    """torch.index_add(input, dim, index, source, *, alpha=1)"""
    idx = _int_index(index, "index_add").reshape(-1)
    shape = input._data.shape
    d = wrap_dim(dim, max(len(shape), 1))
    if not shape:
        dst = np.zeros(idx.shape, np.int64)
        src_pos = np.arange(idx.size)
    else:
        if idx.size and (idx.min() < 0 or idx.max() >= shape[d]):
            raise IndexError("index out of range in self")
        pos = positions(shape)
        sel = np.take(pos, idx, axis=d)
        if tuple(sel.shape) != tuple(source._data.shape):
            raise RuntimeError("index_add_(): Source/destination tensor must have same slice "
                               "shapes. Destination slice shape: "
                               f"{list(shape[:d] + shape[d + 1:])} at dimension {d} and "
                               "source slice shape: "
                               f"{list(source._data.shape[:d] + source._data.shape[d + 1:])} "
                               f"at dimension 0.")
        dst, src_pos = sel, positions(source._data.shape)
    if alpha != 1:
        source = source * alpha
    return scatter_flat(input, dst, source, src_pos, True, "IndexAddBackward0")


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """torch.masked_fill(input, mask, value)"""
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_dt.cpp_type_name(m.dtype)}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    shape = input._data.shape
    try:
        mb = np.broadcast_to(m, shape)
    except ValueError:
        from .define import broadcast_error
        raise broadcast_error(shape, m.shape) from None
    dst = np.flatnonzero(mb)
    v = value if isinstance(value, Tensor) else as_tensor_arg(value, "value", "masked_fill")
    by_tensor = isinstance(value, Tensor)
    return scatter_flat(input, dst, v, np.zeros(dst.shape, np.int64), False,
                        "MaskedFillBackward1" if by_tensor else "MaskedFillBackward0",
                        not by_tensor)


# -- scatter_reduce ----------------------------------------------------------------------------


class ScatterReduceBackward0(Node):
    """Gradients of scatter_reduce. sum / mean / amax / amin: a per-position weight for
    ``self`` and for each src element, computed in the forward (their derivatives are
    piecewise constant). prod: torch's formula on the saved input, src and result, so that
    it is differentiable again."""

    __slots__ = ("index", "src_shape", "src_pos", "w_self", "w_src", "include_self", "reduce")
    saved_names = ("self", "src", "result")      # saved for every reduce, as torch does

    def backward(self, ns, grads):
        saved = self.unpack(ns.graph)          # (also checks versions)
        if self.reduce == "prod":
            return self._prod_backward(ns, grads[0], *saved)
        g = grads[0]
        gs = gv = None
        if self._edges[0] is not None:
            gs = ns.mul(g, ns.constant(self.w_self.astype(ns.np_dtype(g))))
        if self._edges[2] is not None:
            picked = ns.mul(ns.gather_flat(g, self.index),
                            ns.constant(self.w_src.astype(ns.np_dtype(g))))
            gv = self._to_src(ns, picked)
        return (gs, gv)

    def _to_src(self, ns, picked):
        """A gradient laid out as the index (torch's gather) put into src's shape."""
        if tuple(self.src_shape) == tuple(self.index.shape):
            return picked
        numel = int(np.prod(self.src_shape, dtype=np.int64))
        return ns.reshape(ns.index_backward(ns.reshape(picked, (-1,)), (numel,),
                                            self.src_pos.reshape(-1), False), self.src_shape)

    def _prod_backward(self, ns, g, input, src, result):
        # Products of the others: result / x, except where x is 0 (then the product is
        # recomputed with that 0 replaced by 1; two zeros at one position give 0).
        dst, src_pos, include_self = self.index, self.src_pos, self.include_self
        gs = gv = None
        if self._edges[0] is not None:
            masked_self = ns.masked_fill(input, ns.constant(ns.unwrap(input) == 0), 1)
            others = ns.scatter_reduce_flat(masked_self, dst, src, src_pos, "prod",
                                            include_self)
            gs = ns.div(ns.mul(g, others), masked_self)
            if not include_self:
                gs = ns.scatter_zero_flat(gs, dst)
        if self._edges[2] is not None:
            src_a = ns.unwrap(src)
            src_zero = src_a == 0
            n_zeros = np.zeros(ns.unwrap(input).size, np.int64)
            np.add.at(n_zeros, dst.reshape(-1), src_zero.reshape(-1)[src_pos.reshape(-1)])
            single = np.zeros(src_a.size, np.bool_)
            single[src_pos.reshape(-1)] = src_zero.reshape(-1)[src_pos.reshape(-1)] & (
                n_zeros[dst.reshape(-1)] == 1)
            single = single.reshape(src_a.shape)
            masked_src = ns.masked_fill(src, ns.constant(single), 1)
            others = ns.scatter_reduce_flat(input, dst, masked_src, src_pos, "prod",
                                            include_self)
            picked_single = ns.gather_flat(ns.mul(g, others), dst)
            picked = ns.div(ns.gather_flat(ns.mul(g, result), dst),
                            ns.masked_fill(src, ns.constant(src_zero), 1))
            gv = self._to_src(ns, ns.where(ns.constant(self._at_index(single)),
                                           picked_single, picked))
        return (gs, gv)

    def _at_index(self, src_mask):
        return src_mask.reshape(-1)[self.src_pos]


_REDUCE_INIT = {"sum": 0.0, "prod": 1.0, "mean": 0.0, "amax": -np.inf, "amin": np.inf}
_REDUCE_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
                 "amin": np.minimum}


def _scatter_reduce_array(a, dst, vals, reduce, include_self):
    """(flat result, touched mask, count per position) of scatter_reduce on arrays."""
    flat_in = a.reshape(-1)
    touched = np.zeros(a.size, dtype=np.bool_)
    touched[dst] = True
    acc = flat_in.copy()
    if not include_self:
        acc[touched] = _REDUCE_INIT[reduce] if a.dtype.kind == "f" else (
            0 if reduce in ("sum", "mean") else 1 if reduce == "prod" else
            np.iinfo(a.dtype).min if reduce == "amax" else np.iinfo(a.dtype).max)
    _REDUCE_UFUNC[reduce].at(acc, dst, vals)
    count = np.ones(a.size) * include_self
    np.add.at(count, dst, 1)
    if reduce == "mean":
        c = np.where(touched, np.maximum(count, 1), 1)
        acc = acc / c if a.dtype.kind == "f" else acc // c.astype(a.dtype)
        acc = acc.astype(a.dtype)
    return acc, touched, count


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """torch.scatter_reduce(input, dim, index, src, reduce, *, include_self=True)"""
    if reduce not in _REDUCE_INIT:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    dst, src_pos = _scatter_positions(input, dim, index, src._data.shape, "scatter_reduce")
    return _scatter_reduce_flat(input, dst, src, src_pos, reduce, include_self)


def _reduce_weights(a, dst, vals, res, touched, count, reduce, include_self):
    """(weight of each self element, of each src element) in the gradient of a sum, mean,
    amax or amin scatter_reduce: constants, as these derivatives are piecewise constant."""
    flat_in = a.reshape(-1)
    w_self = np.ones(a.size)
    w_src = np.ones(dst.shape)
    if reduce == "mean":
        c = np.maximum(count, 1)
        w_self = np.where(touched, include_self / c, 1.0)
        w_src = 1.0 / c[dst]
    elif reduce in ("amax", "amin"):
        self_hit = (flat_in == res) & touched & include_self
        src_hit = vals == res[dst]
        n = self_hit.astype(np.float64)
        np.add.at(n, dst, src_hit)
        w_self = np.where(touched, self_hit / np.maximum(n, 1), 1.0)
        w_src = src_hit / np.maximum(n[dst], 1)
    elif not include_self:
        w_self = (~touched).astype(np.float64)
    return w_self.reshape(a.shape), w_src


def _scatter_reduce_flat(input: Tensor, dst: np.ndarray, src: Tensor, src_pos: np.ndarray,
                         reduce: str, include_self: bool) -> Tensor:
    """scatter_reduce with the positions resolved: src.flatten()[src_pos] reduced into
    input's flat positions ``dst``."""
    a = input._data
    vals = src._data.reshape(-1)[src_pos].astype(a.dtype, copy=False)
    acc, touched, count = _scatter_reduce_array(a, dst, vals, reduce, include_self)
    out = acc.reshape(a.shape)
    if not needs_grad(input, src):
        return _make(out)
    node = ScatterReduceBackward0((edge(input), edge(src)))
    node.index, node.src_shape, node.src_pos = dst, src._data.shape, src_pos
    node.include_self, node.reduce = include_self, reduce
    if reduce != "prod":
        node.w_self, node.w_src = _reduce_weights(a, dst, vals, acc, touched, count, reduce,
                                                  include_self)
    result = record(node, out)
    save_values(node, (input, src, SavedResult(out, result._counter)))
    return result


def _scatter_reduce_flat_array(a, dst, src, src_pos, reduce, include_self):
    vals = src.reshape(-1)[src_pos].astype(a.dtype, copy=False)
    return _scatter_reduce_array(a, dst, vals, reduce, include_self)[0].reshape(a.shape)


def _scatter_zero_flat_array(a, dst):
    out = a.copy()
    out.reshape(-1)[dst] = 0
    return out


def _scatter_zero_flat(t, dst):
    """torch's grad.scatter(dim, index, 0): zeros written at ``dst``."""
    zero = _make(np.zeros((), t._data.dtype))
    return scatter_flat(t, dst, zero, np.zeros(dst.shape, np.int64), False, "ScatterBackward1",
                        True)


formula("scatter_reduce_flat", _scatter_reduce_flat_array, _scatter_reduce_flat)
formula("scatter_zero_flat", _scatter_zero_flat_array, _scatter_zero_flat)
formula("gather_flat", lambda a, index: a.reshape(-1)[index],
        lambda t, index: gather_flat(t, index, "GatherBackward0"))


# ---------------------------------------------------------------------------------------
# Splitting into views, and views by another name
# ---------------------------------------------------------------------------------------

MULTI_VIEW_INPLACE = (
    "Output {} of {} is a view and is being modified inplace. This view is the output of a "
    "function that returns multiple views. Such functions do not allow the output views to be "
    "modified inplace. You should replace the inplace operation by an out-of-place one.")


class _SplitNode(Node):
    __slots__ = ("dim", "sizes", "shape", "dtype", "n_outputs")

    def backward(self, ns, grads):
        parts = []
        for g, size in zip(grads, self.sizes):
            if g is None:
                shp = self.shape[:self.dim] + (size,) + self.shape[self.dim + 1:]
                g = ns.zeros(shp, self.dtype)
            parts.append(g)
        return (ns.cat(parts, self.dim),)


SplitBackward0 = type("SplitBackward0", (_SplitNode,), {"__slots__": ()})
SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (_SplitNode,), {"__slots__": ()})


def _split_sizes(input: Tensor, sizes: Sequence[int], d: int, node_cls: type) -> tuple:
    a = input._data
    starts = np.cumsum((0,) + tuple(sizes))
    idxs = [(slice(None),) * d + (slice(int(s), int(s) + int(n)),)
            for s, n in zip(starts, sizes)]
    arrays = [a[i] for i in idxs]
    if needs_grad(input):
        node = node_cls((edge(input),))
        node.dim, node.sizes, node.shape, node.dtype = d, tuple(sizes), a.shape, a.dtype
        outs = record_many(node, arrays)
        for i, o in enumerate(outs):
            mark_view(o, input, None, MULTI_VIEW_INPLACE.format(i, node_cls.__name__))
        return tuple(outs)
    outs = []
    for arr, i in zip(arrays, idxs):
        o = _make(arr)
        mark_view(o, input, lambda ns, x, i=i: ns.getitem(x, i))
        outs.append(o)
    return tuple(outs)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """torch.split(tensor, split_size_or_sections, dim=0): views."""
    a = tensor._data
    if a.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and n != 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        count = max((n + step - 1) // step, 1) if step else 1
        sizes = [min(step, n - i * step) for i in range(count)]
        return _split_sizes(tensor, sizes, d, SplitBackward0)
    sizes = [int(s) for s in split_size_or_sections]
    if builtins.sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_sizes(tensor, sizes, d, SplitWithSizesBackward0)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """torch.chunk(input, chunks, dim=0): views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = a.shape[wrap_dim(dim, a.ndim)]
    return split(input, max((n + chunks - 1) // chunks, 1) if n else 0, dim) if n else \
        split(input, 0, dim)


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """torch.narrow(input, dim, start, length): a view."""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, a.ndim)
    start = int(start._data) if isinstance(start, Tensor) else int(start)
    n = a.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    start %= max(n, 1) if start < 0 else n + 1
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """torch.select(input, dim, index): a view."""
    a = input._data
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(a.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),))


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """torch.movedim(input, source, destination): a view."""
    nd = input._data.ndim
    src, dst = _dims_arg(source), _dims_arg(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(wrap_dim(s, nd) for s in src)
    dst = tuple(wrap_dim(s, nd) for s in dst)
    rest = [i for i in range(nd) if i not in src]
    perm = [-1] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p != -1 else next(it) for p in perm]
    return permute(input, tuple(perm))


moveaxis = movedim


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """torch.unflatten(input, dim, sizes): a view."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = int(np.prod([s for s in sizes if s != -1]))
    if -1 not in sizes and known != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return input.view(shape[:d] + sizes + shape[d + 1:])


def _non_empty(tensors: Sequence[Tensor], fn: str) -> None:
    if len(tensors) == 0:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """torch.hstack(tensors)"""
    _non_empty(tensors, "hstack")
    ts = [t if t._data.ndim else reshape(t, (1,)) for t in tensors]
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """torch.vstack(tensors)"""
    _non_empty(tensors, "vstack")
    ts = [t if t._data.ndim >= 2 else (unsqueeze(t, 0) if t._data.ndim == 1
                                        else reshape(t, (1, 1))) for t in tensors]
    return cat(ts, 0)


row_stack = vstack


# ---------------------------------------------------------------------------------------
# Non-differentiable index producers
# ---------------------------------------------------------------------------------------


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """torch.nonzero(input, *, as_tuple=False)"""
    a = input._data
    _dt.refuse_limited("nonzero_count_cpu", a.dtype)
    if as_tuple:
        if a.ndim == 0:
            return (_make(np.zeros(int(a != 0), np.int64)),)
        return tuple(_make(i.astype(np.int64)) for i in np.nonzero(a))
    if a.ndim == 0:
        return _make(np.zeros((int(a != 0), 0), np.int64))
    return _make(np.argwhere(a).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    """torch.argwhere(input)"""
    return nonzero(input)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, **_: Any
                 ) -> Tensor:
    """torch.tril_indices(row, col, offset=0)"""
    r, c = np.tril_indices(row, offset, col)
    return _make(np.stack([r, c]).astype(np.int64))


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, **_: Any
                 ) -> Tensor:
    """torch.triu_indices(row, col, offset=0)"""
    r, c = np.triu_indices(row, offset, col)
    return _make(np.stack([r, c]).astype(np.int64))


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """torch.meshgrid(*tensors, indexing='ij'): expanded views."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = [t if t._data.ndim else reshape(t, (1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    outs = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        outs.append(reshape(t, tuple(view)).expand(shape))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """torch.unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)"""
    a = input._data
    if dim is None:
        vals, inv, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = wrap_dim(dim, a.ndim)
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    res = [record_no_derivative("Unique2Backward0", "_unique2", (input,), vals)
           if dim is None else
           record_no_derivative("UniqueDimBackward0", "unique_dim", (input,), vals)]
    if return_inverse:
        res.append(_make(inv.astype(np.int64)))
    if return_counts:
        res.append(_make(counts.astype(np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


# ---------------------------------------------------------------------------------------
# Tensor methods and in-place variants
# ---------------------------------------------------------------------------------------

for _fn in (flip, roll, repeat, tile, repeat_interleave, index_select, gather, take,
            take_along_dim, masked_select, diagonal, trace, scatter, scatter_add, index_add,
            masked_fill, scatter_reduce, split, chunk, narrow, select, movedim,
            unflatten, nonzero, argwhere, unique):
    tensor_method(_fn.__name__)(_fn)
tensor_method("moveaxis")(moveaxis)
formula("diagonal", np.diagonal, diagonal)
formula("masked_fill", lambda a, mask, value: np.where(mask, np.asarray(value, a.dtype), a),
        masked_fill)


def _inplace_variant(fn: Any, name: str) -> None:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return inplace(self, fn, name, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"Tensor.{name}: in-place {fn.__name__}."
    tensor_method(name)(method)


for _fn in (scatter, scatter_add, index_add, masked_fill, scatter_reduce):
    _inplace_variant(_fn, _fn.__name__ + "_")

