"""as_strided: a view with explicit sizes, strides (in elements) and storage offset.

A tensor's storage here is the contiguous NumPy array at the root of its views. The view's
gradient is scattered back (summed where elements overlap) by ``AsStridedBackward0``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .define import AsStridedBackward0 as _AsStridedNode
from .define import Tensor, edge, mark_view, needs_grad, record, tensor_method

__all__ = ["as_strided"]

_make = Tensor._make


def _storage(input: Tensor) -> tuple:
    """(the flat storage array, the input's offset in it), for a contiguous input."""
    data = input._data
    root = data.base if data.base is not None else data
    while getattr(root, "base", None) is not None:
        root = root.base
    if (isinstance(root, np.ndarray) and root.flags.c_contiguous and root.dtype == data.dtype
            and data.flags.c_contiguous):
        offset = (data.__array_interface__["data"][0]
                  - root.__array_interface__["data"][0]) // data.itemsize
        if 0 <= offset and offset + data.size <= root.size:
            return root.reshape(-1), offset
    if data.flags.c_contiguous:
        return data.reshape(-1), 0
    raise NotImplementedError("tapegrad: as_strided needs a contiguous input; call "
                              ".contiguous() first")


def _positions(size: tuple, stride: tuple, offset: int) -> np.ndarray:
    """The storage position of every element of the view."""
    pos = np.full(size, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return pos


@tensor_method()
def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """torch.as_strided(input, size, stride, storage_offset=None) -> Tensor (a view)"""
    if input._data.ndim == 0:       # a 0-d input as its one-element view: positions index it
        return as_strided(input.reshape(1), size, stride, storage_offset)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    flat, own = _storage(input)
    offset = own if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    itemsize = flat.itemsize
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > flat.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {flat.size * itemsize}")
    out = np.lib.stride_tricks.as_strided(flat[offset:] if flat.size else flat, size,
                                          tuple(s * itemsize for s in stride))
    relative = _positions(size, stride, offset - own)
    if relative.size and (relative.min() < 0 or relative.max() >= input._data.size):
        raise NotImplementedError("tapegrad: as_strided of a view may only reach the view's "
                                  "own elements")

    def replay(ns, x, _pos=relative):
        return ns.getitem(ns.reshape(x, (-1,)), (_pos,))

    if not needs_grad(input):
        return mark_view(_make(out), input, replay)
    node = _AsStridedNode((edge(input),))
    node.shape = input._data.shape
    node.replay = replay
    node.index = np.unravel_index(relative, input._data.shape)
    return mark_view(record(node, out), input, replay)
