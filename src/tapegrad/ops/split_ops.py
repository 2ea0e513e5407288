"""Splitting into views at given positions: tensor_split and its hsplit/vsplit/dsplit forms.

Each piece is a slice of the input (``SliceBackward0``, as in torch, where these ops are
composites of ``slice``).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .define import Tensor, tensor_method, wrap_dim
from .indexing import narrow

__all__ = ["tensor_split", "hsplit", "vsplit", "dsplit"]

_INT = (builtins.int, np.integer)


def _pieces(input: Tensor, bounds: list, d: int) -> tuple:
    """The slices [start, stop) along ``d``, clamped to the dimension as torch clamps."""
    n = input._data.shape[d]
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start = builtins.min(builtins.max(start if start >= 0 else start + n, 0), n)
        stop = builtins.min(builtins.max(stop if stop >= 0 else stop + n, 0), n)
        out.append(narrow(input, d, start, builtins.max(stop - start, 0)))
    return tuple(out)


def _indices_or_sections(arg: Any) -> int | list:
    """An int (sections) or a list of indices, from any form torch accepts."""
    if isinstance(arg, Tensor):
        a = arg._data
        if a.dtype != np.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_dt.from_numpy_dtype(a.dtype).scalar_name}")
        if a.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {a.ndim} dims")
        return builtins.int(a) if a.ndim == 0 else [builtins.int(i) for i in a]
    if isinstance(arg, _INT) and not isinstance(arg, builtins.bool):
        return builtins.int(arg)
    if isinstance(arg, (list, tuple)) and all(isinstance(i, _INT) for i in arg):
        return [builtins.int(i) for i in arg]
    raise TypeError(
        f"tensor_split() received an invalid combination of arguments - got (Tensor, "
        f"{type(arg).__name__}), but expected one of:\n"
        " * (Tensor input, tuple of ints indices, int dim = 0)\n"
        " * (Tensor input, Tensor tensor_indices_or_sections, int dim = 0)\n"
        " * (Tensor input, int sections, int dim = 0)\n")


@tensor_method()
def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """torch.tensor_split(input, indices_or_sections, dim=0) -> tuple of views"""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    spec = _indices_or_sections(indices_or_sections)
    d = wrap_dim(dim, a.ndim)
    if isinstance(spec, builtins.int):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        size, extra = divmod(a.shape[d], spec)
        bounds = [0]
        for i in range(spec):
            bounds.append(bounds[-1] + size + (i < extra))
    else:
        bounds = [0, *spec, a.shape[d]]
    return _pieces(input, bounds, d)


def _directional_split(name: str, min_dims: int, dim_of: Any) -> Any:
    def split(input: Tensor, indices_or_sections: Any) -> tuple:
        nd = input._data.ndim
        if nd < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} "
                               f"dimension, but got a tensor with {nd} dimensions!")
        d = dim_of(nd)
        if isinstance(indices_or_sections, _INT) and not isinstance(indices_or_sections,
                                                                    builtins.bool):
            size, sections = input._data.shape[d], builtins.int(indices_or_sections)
            if sections == 0 or size % sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but "
                                   f"the size of the dimension {size} is not divisible by the "
                                   f"split_size {sections}!")
        return tensor_split(input, indices_or_sections, d)

    split.__name__ = split.__qualname__ = name
    split.__doc__ = f"torch.{name}(input, indices_or_sections) -> tuple of views"
    return tensor_method(name)(split)


hsplit = _directional_split("hsplit", 1, lambda nd: 1 if nd > 1 else 0)
vsplit = _directional_split("vsplit", 2, lambda nd: 0)
dsplit = _directional_split("dsplit", 3, lambda nd: 2)
