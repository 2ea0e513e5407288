"""Shape ops and indexing: views that share memory, and the copies that undo them.

A view's gradient is the inverse reshaping of the incoming gradient. Views
share the base's memory and version counter (``define.mark_view``), so an
in-place write through a view is seen by the base and by saved values.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd.forward_ad import state as _fw
from ..autograd.grad_mode import state as _grad_state
from .define import (
    Node,
    Tensor,
    as_tensor_arg,
    broadcast_error,
    edge,
    formula,
    inplace,
    mark_view,
    needs_grad,
    record,
    record_many,
    tensor_method,
    wrap_dim,
)

_make = Tensor._make


class _ShapeNode(Node):
    """A one-input shape op; ``shape`` is the input's shape."""

    __slots__ = ("shape", "arg")


def _view_result(input: Tensor, out: np.ndarray, node_cls: type, arg: Any, replay) -> Tensor:
    if (input._requires_grad and _grad_state.grad_enabled) or (_fw.active
                                                               and needs_grad(input)):
        node = node_cls((edge(input),))
        node.shape = input._data.shape
        node.arg = arg
        t = record(node, out)
    else:
        t = _make(out)
    if replay is not None and (out.base is not None or out is input._data):
        mark_view(t, input, replay)
    return t


def _sizes(args: tuple) -> tuple:
    if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer, Tensor)):
        args = tuple(args[0])
    return tuple(builtins.int(s) for s in args)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for i, s in enumerate(shape):
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                                   f"{list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(numel // known if s == -1 else s for s in shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# -- view / reshape ---------------------------------------------------------------------------


class ViewBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.reshape(grads[0], self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    """reshape that had to copy (torch: clone + _unsafe_view): not a view of its input."""

    __slots__ = ()


def _reshape_replay(shape):
    return lambda ns, x: ns.reshape(x, shape)


@tensor_method("view")
def view(self: Tensor, *shape: Any) -> Tensor:
    """Tensor.view(*shape): same memory, new shape; the tensor must be view-compatible."""
    if len(shape) == 1 and not isinstance(shape[0], (builtins.int, np.integer, tuple, list)):
        from .conversion import to
        return to(self, shape[0])
    shape = _infer_shape(_sizes(shape), self._data.size)
    a = self._data
    try:
        out = a.view()
        out.shape = shape           # raises instead of copying when no view is possible
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.") from None
    return _view_result(self, out, ViewBackward0, shape, _reshape_replay(shape))


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """torch.reshape(input, shape): a view when possible, else a copy."""
    shape = _infer_shape(_sizes(shape), input._data.size)
    out = input._data.view()
    try:
        out.shape = shape           # raises instead of copying when no view is possible
    except AttributeError:
        return _unsafe_view(input, input._data.reshape(shape), shape)
    return _view_result(input, out, ViewBackward0, shape, _reshape_replay(shape))


def _unsafe_view(input: Tensor, out: np.ndarray, shape: tuple) -> Tensor:
    if not needs_grad(input):
        return _make(out)
    node = UnsafeViewBackward0((edge(input),))
    node.shape = input._data.shape
    node.arg = shape
    return record(node, out)


def unsafe_view(input: Tensor, shape: tuple) -> Tensor:
    """The result of ``input`` reshaped, as a new tensor (torch's ``_unsafe_view``: the
    grad_fn of composites such as kron that reshape a fresh result)."""
    return _unsafe_view(input, np.ascontiguousarray(input._data).reshape(shape), shape)


tensor_method("reshape")(reshape)
formula("reshape", lambda a, shape: a.reshape(shape), reshape)


@tensor_method("view_as")
def view_as(self: Tensor, other: Tensor) -> Tensor:
    return view(self, other._data.shape)


@tensor_method("reshape_as")
def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """torch.flatten(input, start_dim=0, end_dim=-1)"""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


tensor_method("flatten")(flatten)

# -- expand --------------------------------------------------------------------------------------


class ExpandBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.sum_to(grads[0], self.shape),)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Tensor.expand(*sizes): broadcast to a larger shape without copying (-1 keeps a size)."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        have, want = ", ".join(map(str, shape)), ", ".join(map(str, sizes))
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{have}]}}, size=[{want}]): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   "leading, non-existing dimension 0")
            target.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            target.append(cur)
        elif cur == 1 or cur == s:
            target.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"[{', '.join(map(str, sizes))}].  Tensor sizes: "
                               f"[{', '.join(map(str, shape))}]")
    return expand_to(input, tuple(target))


def expand_to(input: Tensor, shape: tuple) -> Tensor:
    """expand to a shape already known to be valid (a reduction's backward: no checks)."""
    return _view_result(input, broadcast_view(input._data, shape), ExpandBackward0, shape,
                        lambda ns, x: ns.expand_to(x, shape))


def broadcast_view(a: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(a, shape)``: a read-only view, zero strides on broadcast dims.
    For a contiguous array (the usual gradient) it is made directly, without NumPy's
    Python-level set-up (a third of a small backward node's time)."""
    if a.__class__ is not np.ndarray and isinstance(a, np.generic):
        a = np.asarray(a)           # a NumPy scalar (a 0-d gradient's arithmetic gives one)
    if a.__class__ is np.ndarray and not a.ndim:       # a full reduction's gradient
        out = np.ndarray(shape, a.dtype, a, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    lead = len(shape) - a.ndim
    if a.__class__ is np.ndarray and lead >= 0 and a.size and a.flags.c_contiguous:
        strides = [0] * lead
        for size, want, stride in zip(a.shape, shape[lead:], a.strides):
            if size == 1:                   # NumPy's stride for every size-1 dim
                strides.append(0)
            elif size == want:
                strides.append(stride)
            else:
                break
        else:
            out = np.ndarray(shape, a.dtype, a, 0, tuple(strides))
            out.flags.writeable = False
            return out
    return np.broadcast_to(a, shape)


tensor_method("expand")(expand)
formula("expand", broadcast_view, expand)
formula("expand_to", broadcast_view, expand_to)


@tensor_method("expand_as")
def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, other._data.shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    """torch.broadcast_to(input, size)"""
    return expand(input, tuple(size))


tensor_method("broadcast_to")(broadcast_to)

# -- transpose / permute ------------------------------------------------------------------------


class TransposeBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        d0, d1 = self.arg
        return (ns.transpose(grads[0], d0, d1),)


class PermuteBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.permute(grads[0], _inverse_permutation(self.arg)),)


def _inverse_permutation(dims: tuple) -> tuple:
    """The dims that undo ``permute(dims)`` (argsort of a permutation, without NumPy)."""
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


class TBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.t(grads[0]),)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """torch.transpose(input, dim0, dim1)"""
    nd = input._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    out = input._data.swapaxes(d0, d1) if nd else input._data.view()
    return _view_result(input, out, TransposeBackward0, (d0, d1),
                        lambda ns, x: ns.transpose(x, d0, d1))


swapaxes = swapdims = transpose
tensor_method("transpose", "swapaxes", "swapdims")(transpose)
formula("transpose", lambda a, d0, d1: a.swapaxes(d0, d1), transpose)


def permute(input: Tensor, *dims: Any) -> Tensor:
    """torch.permute(input, dims)"""
    dims = _sizes(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permuted(input, dims)


def _permuted(input: Tensor, dims: tuple) -> Tensor:
    """permute by dims already checked (a tuple of distinct ints in range)."""
    return _view_result(input, input._data.transpose(dims), PermuteBackward0, dims,
                        lambda ns, x: ns.permute(x, dims))


tensor_method("permute")(permute)
formula("permute", lambda a, dims: a.transpose(dims), permute)


def t(input: Tensor) -> Tensor:
    """torch.t(input): transpose of a tensor with at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    out = input._data.T if input._data.ndim == 2 else input._data.view()
    return _view_result(input, out, TBackward0, None, lambda ns, x: ns.t(x))


tensor_method("t")(t)
formula("t", lambda a: a.T, t)


def _T(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd == 2:
        return _permuted(self, _REVERSED_2D)
    return permute(self, tuple(range(nd))[::-1])


_REVERSED_2D = (1, 0)


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
formula("mT", lambda a: a.swapaxes(-1, -2), _mT)

# -- squeeze / unsqueeze ------------------------------------------------------------------------


class UnsqueezeBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.squeeze(grads[0], self.arg),)


class SqueezeBackward0(_ShapeNode):
    __slots__ = ()

    def backward(self, ns, grads):
        return (ns.reshape(grads[0], self.shape),)


SqueezeBackward1 = type("SqueezeBackward1", (SqueezeBackward0,), {"__slots__": ()})


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """torch.unsqueeze(input, dim)"""
    d = wrap_dim(dim, input._data.ndim + 1)
    out = _unsqueeze_array(input._data, d)
    return _view_result(input, out, UnsqueezeBackward0, d, lambda ns, x: ns.unsqueeze(x, d))


def _unsqueeze_array(a: np.ndarray, dim: int) -> np.ndarray:
    """``np.expand_dims(a, dim)`` for one int dim: a reshape, which adding a size-1 dim
    always does as a view (expand_dims itself is several times slower)."""
    shape = a.shape
    if dim < 0:
        dim += len(shape) + 1
    return a.reshape(shape[:dim] + (1,) + shape[dim:])


tensor_method("unsqueeze")(unsqueeze)
formula("unsqueeze", _unsqueeze_array, unsqueeze)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """torch.squeeze(input, dim=None): drop size-1 dims (all, or the given ones)."""
    shape = input._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        node_cls = SqueezeBackward0
    else:
        dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
        dims = tuple(wrap_dim(d, len(shape)) for d in dims) if shape else ()
        dims = tuple(d for d in dims if shape[d] == 1)
        node_cls = SqueezeBackward1
    out = input._data.squeeze(dims) if dims else input._data.view()
    return _view_result(input, out, node_cls, dims, lambda ns, x: ns.squeeze(x, dims))


tensor_method("squeeze")(squeeze)


def _squeeze_array(a: np.ndarray, dim: Any) -> np.ndarray:
    if isinstance(dim, (builtins.int, np.integer)):
        return a.squeeze(dim) if a.ndim and a.shape[dim] == 1 else a
    return a.squeeze(tuple(d for d in dim if a.shape[d] == 1)) if dim else a


formula("squeeze", _squeeze_array, squeeze)

# -- indexing --------------------------------------------------------------------------------


def _index_part(p: Any) -> Any:
    if isinstance(p, Tensor):
        a = p._data
        if a.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a
    if isinstance(p, list):
        return np.asarray([_index_part(q) for q in p])
    if isinstance(p, np.ndarray) and p.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    _check_index_scalar(p)
    return p


def normalize_index(idx: Any) -> tuple[Any, bool]:
    """An index -> (NumPy index, whether it is basic, i.e. gives a view)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    parts = tuple(_index_part(p) for p in parts)
    basic = all(p is None or p is Ellipsis or isinstance(p, (slice, builtins.int, np.integer))
                and not isinstance(p, builtins.bool) for p in parts)
    return (parts if isinstance(idx, tuple) or len(parts) != 1 else parts[0]), basic


def _index_node_name(parts: Any, basic: bool) -> str:
    if not basic:
        return "IndexBackward0"
    parts = parts if isinstance(parts, tuple) else (parts,)
    for p in reversed(parts):
        if isinstance(p, (builtins.int, np.integer)):
            return "SelectBackward0"
        if isinstance(p, slice) and p != slice(None):
            return "SliceBackward0"
        if p is None:
            return "UnsqueezeBackward0"
    return "AliasBackward0"


class _IndexNode(Node):
    """x[idx]: the gradient lands at the indexed positions (summed where they repeat)."""

    __slots__ = ("shape", "index", "basic")

    def backward(self, ns, grads):
        return (ns.index_backward(grads[0], self.shape, self.index, self.basic),)


# torch names the node after the last basic step of the index (or IndexBackward0).
_INDEX_NODES = {name: type(name, (_IndexNode,), {"__slots__": ()})
                for name in ("IndexBackward0", "SelectBackward0", "SliceBackward0",
                             "UnsqueezeBackward0", "AliasBackward0")}


def _index_error(e: IndexError, shape: tuple, np_idx: Any) -> IndexError:
    """NumPy's indexing error in torch's words."""
    msg = str(e)
    if "out of bounds" in msg:
        # NumPy: "index 5 is out of bounds for axis 0 with size 3"
        msg = msg.replace("axis", "dimension")
    elif msg.startswith("too many indices"):
        msg = f"too many indices for tensor of dimension {len(shape)}"
    elif msg.startswith("boolean index did not match"):
        msg = _mask_mismatch(shape, np_idx) or msg
    return IndexError(msg)


def _mask_mismatch(shape: tuple, np_idx: Any) -> str | None:
    """torch's message for the first boolean mask whose shape does not fit its dims."""
    parts = np_idx if isinstance(np_idx, tuple) else (np_idx,)
    # the shape as torch sees it when checking masks: with the dims that None inserts
    full = list(shape)
    dim = 0
    for p in parts:
        if p is None:
            full.insert(dim, 1)
            dim += 1
        elif p is Ellipsis:
            used = builtins.sum(np.ndim(q) if isinstance(q, np.ndarray) and q.dtype == np.bool_
                                else 0 if q is None or q is Ellipsis else 1 for q in parts)
            dim += len(shape) - used
        elif isinstance(p, np.ndarray) and p.dtype == np.bool_:
            for j, size in enumerate(p.shape):
                if dim + j < len(full) and full[dim + j] != size:
                    return (f"The shape of the mask {list(p.shape)} at index {j} does not "
                            f"match the shape of the indexed tensor {full} at index {dim + j}")
            dim += p.ndim
        else:
            dim += 1
    return None


def _check_index_scalar(p: Any) -> None:
    if isinstance(p, (builtins.float, builtins.complex, np.floating)):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {type(p).__name__})")


def getitem(input: Tensor, idx: Any) -> Tensor:
    """Tensor.__getitem__: ints, slices (with steps), None, ..., integer and bool indices."""
    np_idx, basic = normalize_index(idx)
    if basic and isinstance(np_idx, tuple):
        for p in np_idx:
            if isinstance(p, slice) and p.step is not None and p.step <= 0:
                raise ValueError("step must be greater than zero")
    try:
        out = input._data[np_idx]
    except IndexError as e:
        raise _index_error(e, input._data.shape, np_idx) from None
    if isinstance(out, np.generic) or not isinstance(out, np.ndarray):
        out = np.asarray(out)
        if basic:
            out = input._data[np_idx + (Ellipsis,) if isinstance(np_idx, tuple)
                              else (np_idx, Ellipsis)]
    if needs_grad(input):
        node = _INDEX_NODES[_index_node_name(np_idx, basic)]((edge(input),))
        node.shape = input._data.shape
        node.index = np_idx
        node.basic = basic
        t = record(node, out)
    else:
        t = _make(out)
    if basic:
        mark_view(t, input, lambda ns, x: ns.getitem(x, np_idx))
    return t


def _index_backward_array(g: np.ndarray, shape: tuple, index: Any, basic: bool) -> np.ndarray:
    z = np.zeros(shape, dtype=g.dtype)
    if basic:
        z[index] = g
    else:
        np.add.at(z, index, g)
    return z


class IndexBackwardBackward0(Node):
    """The gradient of scattering a gradient into zeros is indexing again."""

    __slots__ = ("index",)

    def backward(self, ns, grads):
        return (ns.getitem(grads[0], self.index),)


def _index_backward_tensor(g: Tensor, shape: tuple, index: Any, basic: bool) -> Tensor:
    out = _index_backward_array(g._data, shape, index, basic)
    if not needs_grad(g):
        return _make(out)
    node = IndexBackwardBackward0((edge(g),))
    node.index = index
    return record(node, out)


formula("getitem", lambda a, idx: a[idx], getitem)
formula("index_backward", _index_backward_array, _index_backward_tensor)
Tensor.__getitem__ = getitem


class CopyBackwards(Node):
    """dst.copy_(src): the old value of dst gets no gradient; src gets it, summed to shape."""

    __slots__ = ("src_shape", "src_dtype")

    def backward(self, ns, grads):
        g = grads[0]
        gs = None
        if self._edges[2] is not None:
            gs = ns.sum_to(g, self.src_shape)
            if ns.np_dtype(gs) != self.src_dtype:
                gs = ns.cast(gs, self.src_dtype)
        return (None, gs)


def _copy_from(dst: Tensor, src: Any) -> Tensor:
    """The value ``dst.copy_(src)`` writes: src broadcast to dst's shape and dtype."""
    src = as_tensor_arg(src, "src", "copy_")
    try:
        data = np.broadcast_to(src._data, dst._data.shape).astype(dst._data.dtype)
    except ValueError:
        raise broadcast_error(dst._data.shape, src._data.shape) from None
    if not needs_grad(dst, src):
        return _make(data)
    node = CopyBackwards((edge(dst), edge(src)))
    node.src_shape = src._data.shape
    node.src_dtype = src._data.dtype
    return record(node, data)


@tensor_method("copy_")
def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Tensor.copy_(src): write src (broadcast, cast) into self."""
    return inplace(self, _copy_from, "copy_", src)


class IndexPutBackward0(Node):
    __slots__ = ("index", "values_shape", "values_dtype", "accumulate")

    def backward(self, ns, grads):
        g = grads[0]
        gs = gv = None
        if self._edges[0] is not None:
            if self.accumulate:
                gs = g
            else:
                mask = np.ones(g.shape, dtype=np.bool_)
                mask[self.index] = False
                gs = ns.keep(g, mask)
        if self._edges[2] is not None:
            gv = ns.sum_to(ns.getitem(g, self.index), self.values_shape)
            if ns.np_dtype(gv) != self.values_dtype:
                gv = ns.cast(gv, self.values_dtype)
        return (gs, gv)


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """torch.index_put(input, indices, values, accumulate=False)"""
    np_idx, _ = normalize_index(tuple(indices) if isinstance(indices, (list, tuple))
                                else indices)
    values = as_tensor_arg(values, "values", "index_put")
    out = input._data.copy()
    v = values._data.astype(out.dtype, copy=False)
    try:
        if accumulate:
            np.add.at(out, np_idx, v)
        else:
            out[np_idx] = v
    except IndexError as e:
        raise _index_error(e, input._data.shape, np_idx) from None
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                           f"broadcast to indexing result of shape "
                           f"{list(input._data[np_idx].shape)}") from None
    if not needs_grad(input, values):
        return _make(out)
    node = IndexPutBackward0((edge(input), edge(values)))
    node.index = np_idx
    node.values_shape = values._data.shape
    node.values_dtype = values._data.dtype
    node.accumulate = accumulate
    return record(node, out)


tensor_method("index_put")(index_put)


@tensor_method("index_put_")
def index_put_(self: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    return inplace(self, index_put, "index_put_", indices, values, accumulate)


def setitem(self: Tensor, idx: Any, value: Any) -> None:
    """Tensor.__setitem__: a write through a view (basic index) or an index_put_."""
    np_idx, basic = normalize_index(idx)
    if basic:
        view = getitem(self, idx)
        if isinstance(value, Tensor) and value._data.shape != view._data.shape:
            expand(value.detach(), view._data.shape)    # torch's error if it cannot expand
        copy_(view, value)
    else:
        inplace(self, _index_put_np, "index_put_", np_idx, value)


def _index_put_np(input: Tensor, np_idx: Any, value: Any) -> Tensor:
    return index_put(input, np_idx, value)


Tensor.__setitem__ = setitem

# -- unbind ---------------------------------------------------------------------------------


class UnbindBackward0(Node):
    __slots__ = ("dim", "shape", "dtype", "n_outputs")

    def backward(self, ns, grads):
        from .join import stack
        parts = [g if g is not None else ns.zeros(self.part_shape(), self.dtype)
                 for g in grads]
        if ns.graph:
            return (stack(parts, self.dim),)
        return (np.stack(parts, self.dim),)

    def part_shape(self) -> tuple:
        return self.shape[:self.dim] + self.shape[self.dim + 1:]


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """torch.unbind(input, dim=0): views of each slice along dim."""
    d = wrap_dim(dim, input._data.ndim)
    a = input._data
    arrays = [a[(slice(None),) * d + (i,)] for i in range(a.shape[d])]
    if needs_grad(input):
        node = UnbindBackward0((edge(input),))
        node.dim, node.shape, node.dtype = d, a.shape, a.dtype
        outs = record_many(node, arrays)
        msg = ("Output {} of UnbindBackward0 is a view and is being modified inplace. This view "
               "is the output of a function that returns multiple views. Such functions do not "
               "allow the output views to be modified inplace. You should replace the inplace "
               "operation by an out-of-place one.")
        for i, o in enumerate(outs):
            mark_view(o, input, None, msg.format(i))
        return tuple(outs)
    outs = []
    for i, arr in enumerate(arrays):
        o = _make(arr)
        idx = (slice(None),) * d + (i,)
        mark_view(o, input, lambda ns, x, idx=idx: ns.getitem(x, idx))
        outs.append(o)
    return tuple(outs)


tensor_method("unbind")(unbind)
