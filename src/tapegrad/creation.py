"""Making tensors: from data (tensor, as_tensor, from_numpy), filled, ranges, random.

Random numbers come from one global NumPy generator seeded by ``manual_seed``
(reproducible within tapegrad; the streams differ from torch's).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes as _dt
from .devices import on_cpu
from .tensor import Tensor, _to_nested
from .tensor_data import array_from_data, infer_dtype

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
           "randint_like", "arange", "linspace", "logspace", "eye", "rand", "randn", "randint",
           "normal", "randperm", "manual_seed", "seed", "initial_seed", "Generator",
           "default_generator", "get_rng_state", "set_rng_state", "scalar_tensor"]

_make = Tensor._make


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(data)
    if requires_grad:
        if data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


@on_cpu
def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """torch.tensor(data, *, dtype=None, requires_grad=False): always copies."""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    np_dtype = _dt.to_numpy_dtype(dtype) if dtype is not None else infer_dtype(data)
    if isinstance(data, (Tensor, np.ndarray, np.generic)):
        arr = np.array(_to_nested(data), dtype=np_dtype)
    else:
        arr = array_from_data(data, np_dtype)
    return _finish(arr, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.scalar_tensor(s): a 0-d tensor of the default dtype."""
    d = _dt.to_numpy_dtype(dtype) if dtype is not None else _dt.get_default_dtype().np
    return _finish(np.array(s, dtype=d), requires_grad)


@on_cpu
def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """torch.as_tensor(data, dtype=None): shares memory with a tensor or array when it can."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        _dt.from_numpy_dtype(data.dtype)
        np_dtype = _dt.to_numpy_dtype(dtype) if dtype is not None else data.dtype
        return _make(data if np_dtype == data.dtype else data.astype(np_dtype))
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """torch.from_numpy(ndarray): shares memory with the array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dt.from_numpy_dtype(array.dtype)
    return _make(array)


def _shape(size: tuple, negative_error: str | None = None) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(negative_error or "Trying to create tensor with negative "
                               f"dimension {s}: {list(size)}")
    return tuple(builtins.int(s) for s in size)


def _dtype_or_default(dtype: Any) -> np.dtype:
    return _dt.to_numpy_dtype(dtype) if dtype is not None else _dt.get_default_dtype().np


@on_cpu
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Any = None) -> Tensor:
    """torch.zeros(*size, dtype=None, requires_grad=False)"""
    shape = _shape(size, "zeros: Dimension size must be non-negative.")
    return _finish(np.zeros(shape, _dtype_or_default(dtype)), requires_grad)


@on_cpu
def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         out: Any = None) -> Tensor:
    """torch.ones(*size, dtype=None, requires_grad=False)"""
    return _finish(np.ones(_shape(size), _dtype_or_default(dtype)), requires_grad)


@on_cpu
def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          memory_format: Any = None) -> Tensor:
    """torch.empty(*size): uninitialised memory (zeros here, for reproducibility)."""
    return _finish(np.zeros(_shape(size), _dtype_or_default(dtype)), requires_grad)


@on_cpu
def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """torch.full(size, fill_value): dtype inferred from fill_value as torch does."""
    if dtype is None:
        dtype_np = infer_dtype(fill_value)
    else:
        dtype_np = _dt.to_numpy_dtype(dtype)
    return _finish(np.full(_shape((size,)), fill_value, dtype_np), requires_grad)


def _like(input: Tensor, dtype: Any) -> tuple:
    return input._data.shape, (_dt.to_numpy_dtype(dtype) if dtype is not None
                                else input._data.dtype)


@on_cpu
def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(np.zeros(shape, d), requires_grad)


@on_cpu
def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(np.ones(shape, d), requires_grad)


@on_cpu
def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(np.zeros(shape, d), requires_grad)


@on_cpu
def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(np.full(shape, fill_value, d), requires_grad)


@on_cpu
def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.arange(start=0, end, step=1): int64 for integer arguments, else default float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) for v in vals)
        np_dtype = np.dtype(np.int64) if is_int else _dt.get_default_dtype().np
    else:
        np_dtype = _dt.to_numpy_dtype(dtype)
        _dt.refuse_limited("arange_cpu", np_dtype)
    n = math.ceil((end - start) / step)
    # torch computes start + i*step in double, then casts.
    data = (start + np.arange(n, dtype=np.float64) * step) if np_dtype.kind in "fc" else \
        np.arange(start, end, step)
    return _finish(data.astype(np_dtype), requires_grad)


@on_cpu
def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """torch.linspace(start, end, steps)"""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    np_dtype = _dtype_or_default(dtype)
    _dt.refuse_limited("linspace_cpu", np_dtype)
    data = np.linspace(float(start), float(end), steps, dtype=np.float64)
    return _finish(data.astype(np_dtype), requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """torch.logspace(start, end, steps, base=10.0)"""
    data = np.power(base, np.linspace(float(start), float(end), steps))
    return _finish(data.astype(_dtype_or_default(dtype)), requires_grad)


@on_cpu
def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """torch.eye(n, m=None)"""
    return _finish(np.eye(n, m, dtype=_dtype_or_default(dtype)), requires_grad)


# -- random -------------------------------------------------------------------------------------


class Generator:
    """torch.Generator: a seedable source of random numbers."""

    def __init__(self, device: Any = "cpu") -> None:
        self._seed = 67280421310721
        self._numpy_rng: np.random.Generator | None = None

    @property
    def _rng(self) -> np.random.Generator:
        # Made on first use: importing numpy.random would add ~15 ms to ``import tapegrad``.
        if self._numpy_rng is None:
            self._numpy_rng = np.random.default_rng(self._seed & 0xFFFFFFFFFFFFFFFF)
        return self._numpy_rng

    def manual_seed(self, seed: int) -> Generator:
        self._seed = builtins.int(seed)
        self._numpy_rng = None
        return self

    def seed(self) -> int:
        s = builtins.int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        import json
        state = json.dumps(self._rng.bit_generator.state).encode()
        return _make(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> Generator:
        import json
        self._rng.bit_generator.state = json.loads(bytes(state._data.astype(np.uint8)))
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """torch.manual_seed(seed): seed the global generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng


@on_cpu
def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """torch.rand(*size): uniform on [0, 1)."""
    d = _dtype_or_default(dtype)
    return _finish(_rng(generator).random(_shape(size)).astype(d), requires_grad)


@on_cpu
def randn(*size: Any, generator: Generator | None = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.randn(*size): standard normal."""
    d = _dtype_or_default(dtype)
    return _finish(_rng(generator).standard_normal(_shape(size)).astype(d), requires_grad)


@on_cpu
def randint(low: int, high: int | None = None, size: Sequence[int] = (), *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """torch.randint(low=0, high, size): int64 unless dtype says otherwise."""
    if high is None:
        low, high = 0, low
    elif not isinstance(high, (int, np.integer)) and size == ():
        low, high, size = 0, low, high      # torch.randint(high, size)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    d = _dt.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _finish(_rng(generator).integers(low, high, _shape((size,))).astype(d),
                   requires_grad)


@on_cpu
def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.randperm(n): a random permutation of 0..n-1."""
    d = _dt.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _finish(_rng(generator).permutation(n).astype(d), requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence[int] | None = None, *,
           generator: Generator | None = None, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """torch.normal(mean, std, size=None): tensor or float mean/std."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _shape((size,)) if size is not None else np.broadcast_shapes(np.shape(m),
                                                                          np.shape(s))
    d = (m.dtype if isinstance(m, np.ndarray) else
         s.dtype if isinstance(s, np.ndarray) else _dtype_or_default(dtype))
    data = _rng(generator).normal(m, s, shape).astype(d)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from .ops.no_derivative import record_zero_derivative
        # torch's gradient of a sample with respect to mean and std is zero
        kind = (1 if not isinstance(std, Tensor) else 2 if not isinstance(mean, Tensor) else 3)
        return record_zero_derivative(f"NormalBackward{kind}", (mean, std), data)
    return _finish(data, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(_rng(None).random(shape).astype(d), requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, d = _like(input, dtype)
    return _finish(_rng(None).standard_normal(shape).astype(d), requires_grad)


def randint_like(input: Tensor, low: int, high: int | None = None, *, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    shape, d = _like(input, dtype)
    return _finish(_rng(None).integers(low, high, shape).astype(d), requires_grad)
