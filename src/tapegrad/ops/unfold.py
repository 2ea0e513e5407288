"""Tensor.unfold: the sliding windows along one dim, as a view of the input."""

from __future__ import annotations

import numpy as np

from .define import Tensor, formula, mark_view, needs_grad, tensor_method, wrap_dim
from .indexing import gather_flat, positions


def _windows(a: np.ndarray, dim: int, size: int, step: int) -> np.ndarray:
    """The windows of ``a`` (at least 1-d) as a NumPy view: dim ``dim`` counts windows,
    a new last dim of length ``size`` walks through each."""
    shape = list(a.shape)
    strides = list(a.strides)
    shape[dim] = (a.shape[dim] - size) // step + 1
    strides[dim] = a.strides[dim] * step
    return np.lib.stride_tricks.as_strided(a, shape + [size], strides + [a.strides[dim]],
                                           writeable=a.flags.writeable)


def _check(a: np.ndarray, dimension: int, size: int, step: int) -> int:
    d = wrap_dim(dimension, a.ndim)
    length = a.shape[d] if a.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return d


def _unfold_array(a: np.ndarray, dimension: int, size: int, step: int) -> np.ndarray:
    d = _check(a, dimension, size, step)
    if a.ndim == 0:                 # torch: the 0-d tensor itself, as a 1-d window
        return a.reshape(1)[:size]
    return _windows(a, d, size, step)


@tensor_method("unfold")
def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold(dimension, size, step): a view; a 0-d tensor unfolds as if 1-d."""
    a = input._data
    out = _unfold_array(a, dimension, size, step)
    if needs_grad(input):
        index = _unfold_array(positions(a.shape), dimension, size, step)
        res = gather_flat(input, index, "UnfoldBackward0", out)
    else:
        res = Tensor._make(out)
    return mark_view(res, input, lambda ns, x: ns.unfold(x, dimension, size, step))


formula("unfold", _unfold_array, unfold)
