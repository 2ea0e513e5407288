"""Ops composed of other ops, as torch composes them: their derivatives (to any order) are
those of the ops they are built of, so nothing here states a formula.

Also the Tensor helpers that make new tensors like an existing one (``new_zeros`` ...) and
the memory facts about a tensor (``nbytes``, ``itemsize``, ``get_device``, ``is_signed``).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import creation
from .define import Tensor, tensor_method, wrap_dim
from .indexing import flip
from .pointwise import clamp, div, mul, sub
from .reduction import sum
from .reductions_extra import vector_norm
from .shape import expand, reshape, unsqueeze

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "normalize", "cosine_similarity",
           "pairwise_distance", "cdist", "clamp_min", "clamp_max", "ravel", "diff", "fliplr",
           "flipud", "one_hot", "broadcast_shapes", "broadcast_tensors", "positive",
           "is_nonzero"]


# -- at least n dims --------------------------------------------------------------------------


def _atleast(tensors: tuple, make: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(make(t) for t in tensors[0])
    if len(tensors) == 1:
        return make(tensors[0])
    return tuple(make(t) for t in tensors)


def _1d(t: Tensor) -> Tensor:
    return reshape(t, (1,)) if t.ndim == 0 else t


def _2d(t: Tensor) -> Tensor:
    return unsqueeze(_1d(t), 0) if t.ndim < 2 else t


def _3d(t: Tensor) -> Tensor:
    if t.ndim == 2:
        return unsqueeze(t, -1)
    return unsqueeze(unsqueeze(_1d(t), 0), -1) if t.ndim < 2 else t


def atleast_1d(*tensors: Any) -> Any:
    """torch.atleast_1d(*tensors): 0-d tensors become 1-d views; others are returned as is."""
    return _atleast(tensors, _1d)


def atleast_2d(*tensors: Any) -> Any:
    """torch.atleast_2d(*tensors)"""
    return _atleast(tensors, _2d)


def atleast_3d(*tensors: Any) -> Any:
    """torch.atleast_3d(*tensors): a 2-d (m, n) tensor becomes (m, n, 1), as in torch."""
    return _atleast(tensors, _3d)


# -- norms and distances ----------------------------------------------------------------------


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """torch.nn.functional.normalize(input, p=2.0, dim=1, eps=1e-12)"""
    denom = clamp(vector_norm(input, p, dim, True), min=eps)
    return div(input, expand(denom, input.shape))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """torch.nn.functional.cosine_similarity(x1, x2, dim=1, eps=1e-8)"""
    shape = broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = expand(x1, shape), expand(x2, shape)
    n1 = clamp(vector_norm(x1, 2, dim, True), min=eps)
    n2 = clamp(vector_norm(x2, 2, dim, True), min=eps)
    return sum(mul(div(x1, n1), div(x2, n2)), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """torch.nn.functional.pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False)"""
    dim = -1 if builtins.max(x1.ndim, x2.ndim) else 0
    return vector_norm(sub(x1, x2) + eps, p, dim, keepdim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """torch.cdist(x1, x2, p=2.0): the p-norm distance between each row of x1 and of x2
    (computed exactly, never through the matrix-product shortcut torch may take)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2}"
                           f" got: {x1.ndim if x1.ndim < 2 else x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    return vector_norm(sub(unsqueeze(x1, -2), unsqueeze(x2, -3)), p, -1)


# -- small shape helpers ----------------------------------------------------------------------


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """torch.clamp_min(input, min)"""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """torch.clamp_max(input, max)"""
    return clamp(input, max=max)


def ravel(input: Tensor) -> Tensor:
    """torch.ravel(input): a flat view when the tensor is contiguous, else a copy."""
    return reshape(input, (-1,))


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """torch.diff(input, n=1, dim=-1, prepend=None, append=None)"""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    from .join import cat
    d = wrap_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        x = sub(x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1))
    return x


def fliplr(input: Tensor) -> Tensor:
    """torch.fliplr(input): flip dim 1."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input: Tensor) -> Tensor:
    """torch.flipud(input): flip dim 0."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """torch.nn.functional.one_hot(tensor, num_classes=-1) -> LongTensor"""
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((a[..., None] == np.arange(num_classes)).astype(np.int64))


def _broadcast_error(sizes: list, bad: tuple, i: int) -> str:
    expected = list(broadcast_shapes(*sizes[:sizes.index(bad)]))
    return (f"Attempting to broadcast a dimension of length {bad[-i]} at {-i}! Mismatching "
            f"argument at index {sizes.index(bad)} had {bad}; but expected shape should be "
            f"broadcastable to {expected}")


def broadcast_shapes(*shapes: Any) -> Any:
    """torch.broadcast_shapes(*shapes) -> torch.Size"""
    from ..tensor import Size
    sizes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    out: list = []
    for i in range(1, builtins.max([0] + [len(s) for s in sizes]) + 1):
        size = 1
        for s in sizes:
            if i <= len(s) and s[-i] != 1:
                if size not in (1, s[-i]):
                    raise RuntimeError(_broadcast_error(sizes, s, i))
                size = s[-i]
        out.insert(0, size)
    return Size(out)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """torch.broadcast_tensors(*tensors): expanded views of a common shape."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, tuple(shape)) for t in tensors)


tensor_method("clamp_min")(clamp_min)
tensor_method("clamp_max")(clamp_max)
tensor_method("ravel")(ravel)
tensor_method("diff")(diff)
tensor_method("fliplr")(fliplr)
tensor_method("flipud")(flipud)


# -- new tensors like this one ----------------------------------------------------------------


def _new(fill: Any) -> Any:
    def make(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
        return fill(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)
    return make


for _name, _fill in {"new_zeros": creation.zeros, "new_ones": creation.ones,
                     "new_empty": creation.empty}.items():
    _method = _new(_fill)
    _method.__name__ = _name
    _method.__doc__ = f"Tensor.{_name}(size, *, dtype=None, device=None, requires_grad=False)"
    tensor_method(_name)(_method)


@tensor_method("new_full")
def new_full(self: Tensor, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """Tensor.new_full(size, fill_value, *, dtype=None, device=None, requires_grad=False)"""
    return creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                         device=device, requires_grad=requires_grad)


@tensor_method("new_tensor")
def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Tensor.new_tensor(data, *, dtype=None, device=None, requires_grad=False)"""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return creation.tensor(data, dtype=self.dtype if dtype is None else dtype, device=device,
                           requires_grad=requires_grad)


Tensor.nbytes = property(lambda self: self._data.nbytes, doc="Tensor.nbytes")
Tensor.itemsize = property(lambda self: self._data.itemsize, doc="Tensor.itemsize")


@tensor_method("get_device")
def get_device(self: Tensor) -> int:
    """Tensor.get_device(): -1, the CPU."""
    return -1


@tensor_method("is_signed")
def is_signed(self: Tensor) -> bool:
    """Tensor.is_signed()"""
    return self._data.dtype.kind not in "ub"


@tensor_method("storage_offset")
def storage_offset(self: Tensor) -> int:
    """Tensor.storage_offset(): where this view starts in its base, in elements."""
    if self._base is None:
        return 0
    start = self._data.__array_interface__["data"][0]
    return (start - self._base._data.__array_interface__["data"][0]) // self._data.itemsize


@tensor_method("positive")
def positive(input: Tensor) -> Tensor:
    """torch.positive(input): input itself (not a copy), as in torch."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def is_nonzero(input: Tensor) -> bool:
    """torch.is_nonzero(input): the truth of a one-element tensor."""
    if input._data.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input._data.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(-1)[0])
