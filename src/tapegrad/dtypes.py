"""dtypes: torch's dtype objects over NumPy dtypes, the default dtype, and type promotion.

Promotion follows torch, not NumPy: operands fall into three tiers (tensors with
dimensions, 0-d tensors, Python scalars). A lower tier only decides the result
when it belongs to a higher category (bool < integer < float < complex), and a
Python scalar then contributes the default dtype of its category. So a float32
tensor times 2.5 stays float32, and int64 * 2.5 gives float32.
"""

from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "half", "float", "double",
    "bfloat16", "int8", "int16", "int32", "int64", "short", "int", "long", "uint8",
    "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
    "can_cast", "finfo", "iinfo",
]

# Categories, ordered: a higher category wins promotion across tiers.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type; prints as torch does (``torch.float32``)."""

    __slots__ = ("name", "np", "category", "itemsize", "legacy", "scalar_name")

    def __init__(self, name: str, np_dtype: np.dtype, category: builtins.int,
                 legacy: str, scalar_name: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.legacy = legacy          # torch.FloatTensor, used in error messages
        self.scalar_name = scalar_name  # c10 name ("Float"), used in error messages

    @property
    def is_floating_point(self) -> builtins.bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> builtins.bool:
        return self.category == _COMPLEX

    @property
    def is_signed(self) -> builtins.bool:
        return self.np.kind != "u" and self.np.kind != "b"

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> dtype:
        return {float32: complex64, float64: complex128, float16: complex64}.get(self, self)

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16, _FLOAT, "torch.HalfTensor", "Half")
float32 = float = dtype("float32", np.float32, _FLOAT, "torch.FloatTensor", "Float")
float64 = double = dtype("float64", np.float64, _FLOAT, "torch.DoubleTensor", "Double")
# NumPy has no bfloat16; it is accepted as a name and stored as float32.
bfloat16 = float32
int8 = dtype("int8", np.int8, _INT, "torch.CharTensor", "Char")
int16 = short = dtype("int16", np.int16, _INT, "torch.ShortTensor", "Short")
int32 = int = dtype("int32", np.int32, _INT, "torch.IntTensor", "Int")
int64 = long = dtype("int64", np.int64, _INT, "torch.LongTensor", "Long")
uint8 = dtype("uint8", np.uint8, _INT, "torch.ByteTensor", "Byte")
# torch 2.13's "limited support" unsigned types: they are created, printed, converted and
# (for some kernels) computed with, but promote with no other integer or bool dtype.
uint16 = dtype("uint16", np.uint16, _INT, "torch.UInt16Tensor", "UInt16")
uint32 = dtype("uint32", np.uint32, _INT, "torch.UInt32Tensor", "UInt32")
uint64 = dtype("uint64", np.uint64, _INT, "torch.UInt64Tensor", "UInt64")
bool = dtype("bool", np.bool_, _BOOL, "torch.BoolTensor", "Bool")
complex64 = cfloat = dtype("complex64", np.complex64, _COMPLEX, "torch.ComplexFloatTensor",
                           "ComplexFloat")
complex128 = cdouble = dtype("complex128", np.complex128, _COMPLEX,
                             "torch.ComplexDoubleTensor", "ComplexDouble")

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
        bool, complex64, complex128)
_WIDE_UNSIGNED = frozenset(np.dtype(t) for t in (np.uint16, np.uint32, np.uint64))
_FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in _ALL}


def _by_name(name: str) -> dtype:
    return next(d for d in _ALL if d.name == name)


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The tapegrad dtype of a NumPy dtype; TypeError for ones torch has no twin of."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _FROM_NP:
        return _FROM_NP[np_dtype]
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{np_dtype.name}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
        "uint32, uint16, uint8, and bool.")


_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "uint16": "unsigned short", "uint32": "unsigned int",
              "uint64": "unsigned long", "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}


def kernel_missing(kernel: str, np_dtype: np.dtype) -> NotImplementedError:
    """torch's error for a CPU kernel that has no implementation for ``np_dtype``."""
    return NotImplementedError(f'"{kernel}" not implemented for '
                               f"'{from_numpy_dtype(np_dtype).scalar_name}'")


def refuse_limited(kernel: str, np_dtype: np.dtype) -> None:
    """Raise torch's error where its CPU kernel ``kernel`` lacks uint16/32/64 (torch 2.13
    gives these dtypes "limited support": creation, conversion and a few kernels)."""
    if np_dtype in _WIDE_UNSIGNED:
        raise kernel_missing(kernel, np_dtype)


def cpp_type_name(np_dtype: np.dtype) -> str:
    """The C++ name of an element type ("long int"), as some torch errors print it."""
    return _CPP_NAMES[from_numpy_dtype(np_dtype).name]


def to_numpy_dtype(d) -> np.dtype:
    """Accept a tapegrad dtype, a NumPy dtype or a Python type; return the NumPy dtype."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:
        return _default.np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool.np
    if d is builtins.complex:
        return _default_complex().np
    return from_numpy_dtype(np.dtype(d)).np


_default: dtype = float32


def get_default_dtype() -> dtype:
    """torch.get_default_dtype()"""
    return _default


def set_default_dtype(d: dtype) -> None:
    """torch.set_default_dtype(d): only float32 and float64 are allowed, as in torch."""
    global _default
    if not isinstance(d, dtype):
        raise TypeError(f"invalid dtype object: only floating-point types are supported as the "
                        f"default type, got {d!r}")
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default = d


def _default_complex() -> dtype:
    return complex128 if _default is float64 else complex64


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types(a, b): the smallest dtype both can be cast to."""
    if a is b:
        return a
    return _FROM_NP[_promote_np(a.np, b.np)]


def _promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    r = np.promote_types(a, b)
    # torch: uint8 with int8 -> int16 (NumPy agrees); int with float16 stays float16
    # (NumPy would widen to float64 for int64 + float16); complex64 + float64 -> complex128.
    ka, kb = a.kind, b.kind
    if ka in "fc" and kb in "iub":
        return a
    if kb in "fc" and ka in "iub":
        return b
    if a in _WIDE_UNSIGNED or b in _WIDE_UNSIGNED:
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {_FROM_NP[a].scalar_name} and "
                           f"{_FROM_NP[b].scalar_name}")
    return r


def _category_of_np(np_dtype: np.dtype) -> builtins.int:
    k = np_dtype.kind
    if k == "b":
        return _BOOL
    if k in "iu":
        return _INT
    if k == "f":
        return _FLOAT
    return _COMPLEX


def _scalar_category(v) -> builtins.int:
    if isinstance(v, builtins.bool):
        return _BOOL
    if isinstance(v, builtins.int):
        return _INT
    if isinstance(v, builtins.float):
        return _FLOAT
    if isinstance(v, builtins.complex):
        return _COMPLEX
    raise TypeError(f"unsupported scalar type {type(v).__name__}")


_SCALAR_DEFAULT = {_BOOL: np.dtype(np.bool_), _INT: np.dtype(np.int64)}


def _combine_tiers(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's rule for a higher-priority tier (dim tensors) meeting a lower one (0-d
    tensors, then Python scalars): the lower tier counts only if its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    kh, kl = higher.kind, lower.kind
    if kh == "c":
        return higher
    if kl == "c":
        # float32 tensor with a complex128 0-d tensor -> complex64 (precision of higher)
        return _FROM_NP[higher].to_complex().np if kh == "f" else lower
    if kh == "f":
        return higher
    if kh == "b" or kl == "f":
        return _promote_np(higher, lower)
    return higher


def result_np_dtype(arrays: tuple, scalars: tuple = ()) -> np.dtype:
    """torch's result dtype for tensors' arrays and Python scalars (three-tier rule)."""
    dim_t = zero_t = None
    for a in arrays:
        if a.ndim:
            dim_t = a.dtype if dim_t is None else _promote_np(dim_t, a.dtype)
        else:
            zero_t = a.dtype if zero_t is None else _promote_np(zero_t, a.dtype)
    scalar_t = None
    if scalars:
        cat = max(_scalar_category(s) for s in scalars)
        if cat == _FLOAT:
            scalar_t = _default.np
        elif cat == _COMPLEX:
            scalar_t = _default_complex().np
        else:
            scalar_t = _SCALAR_DEFAULT[cat]
    return _combine_tiers(dim_t, _combine_tiers(zero_t, scalar_t))


def result_type(*operands) -> dtype:
    """torch.result_type(tensor1, tensor2): the dtype an arithmetic op on them returns."""
    arrays, scalars = [], []
    for o in operands:
        data = getattr(o, "_data", None)
        if data is not None:
            arrays.append(data)
        else:
            scalars.append(o)
    return _FROM_NP[result_np_dtype(tuple(arrays), tuple(scalars))]


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: False only when casting would lower the category."""
    return _category_of_np(from_.np) <= _category_of_np(to.np)


class finfo:
    """torch.finfo(dtype): machine limits of a floating dtype."""

    def __init__(self, d: dtype | None = None) -> None:
        d = d or _default
        info = np.finfo(d.np)
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.tiny)
        self.resolution = builtins.float(info.resolution)
        self.dtype = d.name


class iinfo:
    """torch.iinfo(dtype): limits of an integer dtype."""

    def __init__(self, d: dtype) -> None:
        info = np.iinfo(d.np)
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = d.name
