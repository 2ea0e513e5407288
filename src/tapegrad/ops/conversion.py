"""Copies and dtype conversions: clone, contiguous, to(dtype), float(), long(), ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..devices import check_device, device
from .define import Node, Tensor, edge, formula, needs_grad, record, tensor_method

_make = Tensor._make


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, ns, grads):
        return (grads[0],)


class ToCopyBackward0(Node):
    """A dtype conversion: the gradient is converted back to the input's dtype."""

    __slots__ = ("dtype",)

    def backward(self, ns, grads):
        g = grads[0]
        if self.dtype.kind not in "c" and ns.np_dtype(g).kind == "c":
            g = ns.real(g)
        return (ns.cast(g, self.dtype),)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """torch.clone(input): a copy that stays in the graph."""
    out = input._data.copy()
    if not needs_grad(input):
        return _make(out)
    return record(CloneBackward0((edge(input),)), out)


tensor_method("clone")(clone)


@tensor_method("contiguous")
def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """Tensor.contiguous(): self if already contiguous, else a copy."""
    if self._data.flags.c_contiguous:
        return self
    return clone(self)


def _parse_to(args: tuple, kwargs: dict) -> tuple:
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, bool):
            copy = a
        elif isinstance(a, (str, int, device)) or a is None:
            check_device(a)
    check_device(kwargs.get("device"))
    return dtype, copy


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Tensor.to(dtype) / to(device) / to(other): self when nothing changes, as in torch."""
    dtype, copy = _parse_to(args, kwargs)
    if dtype is None or _dt.to_numpy_dtype(dtype) == input._data.dtype:
        return clone(input) if copy else input
    target = _dt.to_numpy_dtype(dtype)
    if input._data.dtype.kind == "c" and target.kind != "c":
        out = input._data.real.astype(target)
    else:
        out = input._data.astype(target)
    if not (needs_grad(input) and target.kind in "fc"):
        return _make(out)
    node = ToCopyBackward0((edge(input),))
    node.dtype = input._data.dtype
    return record(node, out)


tensor_method("to")(to)


def _cast_array(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return a.astype(dtype)


def _cast_tensor(t: Tensor, dtype: np.dtype) -> Tensor:
    return to(t, _dt.from_numpy_dtype(dtype))


formula("cast", _cast_array, _cast_tensor)


def _converter(name: str, d: _dt.dtype):
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return to(self, d)
    convert.__name__ = name
    convert.__doc__ = f"Tensor.{name}(): self.to({d!r})"
    return convert


for _name, _d in {"float": _dt.float32, "double": _dt.float64, "half": _dt.float16,
                  "long": _dt.int64, "int": _dt.int32, "short": _dt.int16, "char": _dt.int8,
                  "byte": _dt.uint8, "bool": _dt.bool, "cfloat": _dt.complex64,
                  "cdouble": _dt.complex128, "bfloat16": _dt.float32}.items():
    tensor_method(_name)(_converter(_name, _d))


@tensor_method("type")
def type_(self: Tensor, dtype: Any = None) -> Any:
    """Tensor.type(dtype=None): the legacy type name, or a converted tensor."""
    if dtype is None:
        return self.dtype.legacy
    return to(self, dtype)


@tensor_method("type_as")
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


@tensor_method("cpu")
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """Tensor.cpu(): self, tensors live on the CPU."""
    return self


@tensor_method("cuda")
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False,
         memory_format: Any = None) -> Tensor:
    """Tensor.cuda(device=None): raises as a CPU-only torch build does."""
    check_device("cuda" if device is None else device)
    return self
