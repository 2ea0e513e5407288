"""How torch.tensor reads nested Python data: dtype inference, shape, and scalar conversion.

torch promotes the dtypes of all the scalars it finds (a NumPy scalar or a tensor keeps its
own dtype, a Python float is the default dtype), walks the nesting depth first to find the
shape, then stores each scalar with range checks: an integer out of range raises, except
that a negative one wraps into an unsigned type when its magnitude fits.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor

__all__ = ["infer_dtype", "array_from_data"]

_SEQUENCES = (list, tuple, range, np.ndarray)


def _scalar_dtype(x: Any) -> np.dtype:
    if isinstance(x, Tensor):
        return x._data.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype
    if isinstance(x, builtins.bool):
        return np.dtype(np.bool_)
    if isinstance(x, builtins.int):
        return np.dtype(np.int64)
    if isinstance(x, builtins.float):
        return _dt.get_default_dtype().np
    if isinstance(x, builtins.complex):
        return _dt._default_complex().np
    if isinstance(x, str):
        raise ValueError("too many dimensions 'str'")
    if isinstance(x, bytes):
        raise TypeError("new(): invalid data type 'bytes'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


_PYTHON_SCALARS = {builtins.bool, builtins.int, builtins.float, builtins.complex}


def _python_dtype(kinds: set) -> np.dtype:
    if builtins.complex in kinds:
        return _dt._default_complex().np
    if builtins.float in kinds:
        return _dt.get_default_dtype().np
    return np.dtype(np.int64 if builtins.int in kinds else np.bool_)


def infer_dtype(data: Any) -> np.dtype:
    """The promoted dtype of every scalar in ``data``; an empty sequence is the default dtype."""
    if not isinstance(data, (list, tuple, range)):
        return _scalar_dtype(data)
    found = None
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, (list, tuple, range)):
            if not len(d):
                d = _dt.get_default_dtype().np
            else:
                kinds = set(map(type, d))
                if kinds <= _PYTHON_SCALARS:        # the common case, without a loop here
                    d = _python_dtype(kinds)
                else:
                    stack.extend(d)
                    continue
        else:
            d = _scalar_dtype(d)
        found = d if found is None else _dt._promote_np(found, d)
    return found


def _shape(data: Any) -> list:
    """torch's sizes: the lengths met following the first element down."""
    sizes = []
    seq = data
    while isinstance(seq, _SEQUENCES):
        if isinstance(seq, np.ndarray) and seq.ndim == 0:
            raise TypeError("len() of unsized object")
        sizes.append(len(seq))
        if not sizes[-1]:
            break
        seq = seq[0]
    return sizes


def _leaves(data: Any, sizes: list, target: np.dtype) -> list:
    """The scalars of ``data`` depth first, checking every sequence has the length of its dim."""
    out = []
    stack = [(data, 0)]
    ndim = len(sizes)
    while stack:
        obj, dim = stack.pop()
        if dim == ndim:
            if isinstance(obj, _SEQUENCES):
                raise _not_scalar(obj, target)
            out.append(obj)
            continue
        if isinstance(obj, Tensor) and obj.ndim:    # read as a sequence below the top
            obj = list(obj)
        elif not isinstance(obj, _SEQUENCES):
            raise TypeError("not a sequence")
        if len(obj) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                             f"(got {len(obj)})")
        if dim + 1 == ndim:         # the last dim: its items are the scalars
            if any(isinstance(x, _SEQUENCES) for x in obj):
                raise _not_scalar(next(x for x in obj if isinstance(x, _SEQUENCES)), target)
            out.extend(obj)
        else:
            stack.extend((item, dim + 1) for item in reversed(obj))
    return out


def _type_name(x: Any) -> str:
    module = type(x).__module__
    return type(x).__name__ if module == "builtins" else f"{module}.{type(x).__name__}"


def _not_scalar(x: Any, target: np.dtype) -> TypeError:
    if target.kind in "iu":
        return TypeError(f"'{_type_name(x)}' object cannot be interpreted as an integer")
    return TypeError(f"must be real number, not {_type_name(x)}")


def _overflow(target: np.dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _as_integer(x: Any, target: np.dtype) -> builtins.int:
    """One scalar stored into an integer dtype, with torch's range check."""
    info = np.iinfo(target)
    if isinstance(x, Tensor):
        if x._data.size != 1 or x._data.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        x = x._data.item()
    if isinstance(x, builtins.float):          # Python floats (np.float64 too) truncate
        if not info.min <= x <= info.max:
            raise _overflow(target)
        return builtins.int(x)
    if not isinstance(x, (builtins.int, np.integer)):
        raise _not_scalar(x, target)
    x = builtins.int(x)
    if target == np.uint64:                     # read as an unsigned 64-bit C integer
        if x < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if x >= 2 ** 64:
            raise OverflowError("int too big to convert")
        return x
    if not -2 ** 63 <= x < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    low = -info.max if info.min == 0 else info.min      # negatives wrap into unsigned types
    if not low <= x <= info.max:
        raise _overflow(target)
    return x % (info.max + 1) if x < 0 and info.min == 0 else x


def _as_real(x: Any, target: np.dtype) -> Any:
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        x = x._data.item()
    if target.kind == "b":
        return builtins.bool(x)
    if target.kind == "c":
        return builtins.complex(x)
    if isinstance(x, (builtins.complex, np.complexfloating)):
        raise _not_scalar(x, target)
    return builtins.float(x)


def array_from_data(data: Any, target: np.dtype) -> np.ndarray:
    """torch.tensor(data, dtype=target)'s array for nested sequences and Python/NumPy scalars."""
    sizes = _shape(data)
    if 0 in sizes:              # torch stores nothing, so checks nothing, when empty
        return np.empty(sizes, target)
    leaves = _leaves(data, sizes, target)
    kinds = set(map(type, leaves))
    if kinds <= _FAST.get(target.kind, set()) and (target.kind != "i" or target == np.int64):
        try:                        # plain Python scalars NumPy converts exactly as torch
            with np.errstate(over="ignore"):
                return np.array(leaves, dtype=target).reshape(sizes)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
    store = _as_integer if target.kind in "iu" else _as_real
    with np.errstate(over="ignore"):
        return np.array([store(x, target) for x in leaves], dtype=target).reshape(sizes)


_FAST = {"f": {builtins.float, builtins.int, builtins.bool}, "i": {builtins.int, builtins.bool},
         "b": {builtins.bool}, "c": {builtins.float, builtins.int, builtins.bool, builtins.complex}}
