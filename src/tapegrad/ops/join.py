"""Joining tensors: cat and stack (the gradient is split back into the pieces)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import dtypes as _dt
from .define import Node, Tensor, edge, formula, needs_grad, record, wrap_dim

_make = Tensor._make


class CatBackward0(Node):
    __slots__ = ("dim", "sizes", "dtypes")

    def backward(self, ns, grads):
        g = grads[0]
        out = []
        start = 0
        for (nxt, _), size, dt in zip(self.next_functions, self.sizes, self.dtypes):
            if nxt is None:
                out.append(None)
            else:
                idx = (slice(None),) * self.dim + (slice(start, start + size),)
                piece = ns.getitem(g, idx)
                out.append(piece if ns.np_dtype(piece) == dt else ns.cast(piece, dt))
            start += size
        return tuple(out)


class StackBackward0(Node):
    __slots__ = ("dim", "dtypes")

    def backward(self, ns, grads):
        g = grads[0]
        out = []
        for i, ((nxt, _), dt) in enumerate(zip(self.next_functions, self.dtypes)):
            if nxt is None:
                out.append(None)
            else:
                piece = ns.getitem(g, (slice(None),) * self.dim + (i,))
                out.append(piece if ns.np_dtype(piece) == dt else ns.cast(piece, dt))
        return tuple(out)


def _arrays(tensors: Sequence[Tensor], fn: str) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    if len(tensors) == 0:
        if fn in ("cat", "concat", "concatenate"):
            raise ValueError("torch.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    arrays = [t._data for t in tensors]
    dt = _dt.result_np_dtype(tuple(a for a in arrays))
    return [a.astype(dt, copy=False) for a in arrays]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """torch.cat(tensors, dim=0)"""
    arrays = _arrays(tensors, "cat")
    ref = next((a for a in arrays if a.ndim), arrays[0])
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    keep = [(t, a) for t, a in zip(tensors, arrays) if not (a.ndim == 1 and a.shape[0] == 0)]
    for i, a in enumerate(arrays):
        if a.ndim != ref.ndim and not (a.ndim == 1 and a.shape[0] == 0):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {a.ndim}")
        if a.ndim == ref.ndim:
            for j in range(ref.ndim):
                if j != d and a.shape[j] != ref.shape[j]:
                    raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                       f"Expected size {ref.shape[j]} but got size {a.shape[j]} "
                                       f"for tensor number {i} in the list.")
    out = np.concatenate([a for _, a in keep], axis=d)
    if not needs_grad(*tensors):
        return _make(out)
    node = CatBackward0(tuple(edge(t) for t, _ in keep))
    node.dim = d
    node.sizes = [a.shape[d] for _, a in keep]
    node.dtypes = [t._data.dtype for t, _ in keep]
    return record(node, out)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """torch.stack(tensors, dim=0)"""
    arrays = _arrays(tensors, "stack")
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at "
                               f"entry {i}")
    d = wrap_dim(dim, arrays[0].ndim + 1)
    out = np.stack(arrays, axis=d)
    if not needs_grad(*tensors):
        return _make(out)
    node = StackBackward0(tuple(edge(t) for t in tensors))
    node.dim = d
    node.dtypes = [t._data.dtype for t in tensors]
    return record(node, out)


formula("stack", lambda arrays, dim=0: np.stack(arrays, dim), stack)
formula("cat", lambda arrays, dim=0: np.concatenate(arrays, dim), cat)
