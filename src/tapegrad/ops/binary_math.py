"""More two-input elementwise ops: maximum/minimum, fmax/fmin, atan2, hypot, remainder,
fmod, floor_divide, logical and bitwise ops, and the three-input lerp/addcmul/addcdiv.

Ties follow torch: ``maximum(a, b)`` with ``a == b`` sends half the gradient to each.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from .define import (
    Node,
    Tensor,
    as_tensor_arg,
    binary,
    edge,
    formula,
    inplace,
    needs_grad,
    record,
    save_values,
    tensor_method,
    unary,
)
from .no_derivative import record_no_derivative
from .pointwise import c_type_name, kernel_missing, le, lt, refuse_limited, refusing
from .unary_math import isnan

_make = Tensor._make


# -- maximum / minimum ---------------------------------------------------------------------------

def _share(ns, g, self, other, winner):
    """g where self wins, g/2 on ties, 0 where it loses (NaN: both get g, as torch)."""
    loses = ns.logical_not(ns.logical_or(winner(self, other), ns.eq(self, other)))
    half = ns.where(ns.eq(self, other), ns.mul(g, 0.5), g)
    return ns.where(ns.logical_and(loses, ns.logical_not(ns.isnan(ns.sub(self, other)))),
                    ns.zeros_like(g), half)


def _no_limited_unsigned(kernel: str, fn: Any) -> Any:
    """``fn(a, b)``, refused as torch's ``kernel`` refuses uint16/32/64 (``a`` holds the
    result dtype: binary ops promote before calling their forward)."""
    def forward(a, b):
        refuse_limited(kernel, a.dtype)
        return fn(a, b)
    forward.__name__ = fn.__name__
    return forward


maximum = binary("maximum", _no_limited_unsigned("maximum_cpu", np.maximum),
                 self=lambda ns, g, self, other: _share(ns, g, self, other, ns.gt),
                 other=lambda ns, g, self, other: _share(ns, g, other, self, ns.gt),
                 inplace_variant=False, tensors_only=True)
minimum = binary("minimum", _no_limited_unsigned("minimum_cpu", np.minimum),
                 self=lambda ns, g, self, other: _share(ns, g, self, other, ns.lt),
                 other=lambda ns, g, self, other: _share(ns, g, other, self, ns.lt),
                 inplace_variant=False, tensors_only=True)


def _fpick(ns, g, self, other, cmp):
    # torch: self gets g where cmp(self, other) or other is NaN; other gets the rest.
    return ns.where(ns.logical_or(cmp(self, other), ns.isnan(other)), g, ns.zeros_like(g))


def _frest(ns, g, self, other, cmp):
    return ns.where(ns.logical_or(cmp(self, other), ns.isnan(other)), ns.zeros_like(g), g)


fmax = binary("fmax", np.fmax,
              self=lambda ns, g, self, other: _fpick(ns, g, self, other, ns.ge),
              other=lambda ns, g, self, other: _frest(ns, g, self, other, ns.ge),
              inplace_variant=False, tensors_only=True)
fmin = binary("fmin", np.fmin,
              self=lambda ns, g, self, other: _fpick(ns, g, self, other, ns.le),
              other=lambda ns, g, self, other: _frest(ns, g, self, other, ns.le),
              inplace_variant=False, tensors_only=True)


# -- atan2, hypot --------------------------------------------------------------------------------

def _atan2_weight(ns, self, other):
    # 1 / (x^2 + y^2), with 0 at the origin (torch's zero gradient at atan2(0, 0)).
    recip = ns.reciprocal(ns.add(ns.mul(self, self), ns.mul(other, other)))
    return ns.masked_fill(recip, ns.constant(np.isinf(ns.unwrap(recip))), 0.0)


def _atan2(name: str, register: bool) -> Any:
    # torch's arctan2 names itself in its errors but records Atan2Backward0.
    return binary(name, np.arctan2, node="Atan2Backward0", to_float=True, tensors_only=True,
                  register=register,
                  self=lambda ns, g, self, other: ns.mul(
                      ns.mul(g, other), _atan2_weight(ns, self, other)),
                  other=lambda ns, g, self, other: ns.mul(
                      ns.mul(g, ns.neg(self)), _atan2_weight(ns, self, other)))


atan2 = _atan2("atan2", register=True)
arctan2 = _atan2("arctan2", register=False)

hypot = binary("hypot", refusing("hypot_cpu", "biu", np.hypot), tensors_only=True,
               self=lambda ns, g, self, result: ns.div(ns.mul(g, self), result),
               other=lambda ns, g, other, result: ns.div(ns.mul(g, other), result))


# -- remainder, fmod, floor_divide ---------------------------------------------------------------

def _quiet_binary(fn):
    def forward(a, b):
        with np.errstate(all="ignore"):
            return fn(a, b)
    return forward


def _int_checked(fn, name):
    """fn with torch's errors: bool operands are not implemented, integer division by zero
    raises; float division by zero gives inf/nan quietly."""
    def forward(a, b):
        if np.result_type(a, b).kind in "iu" and np.any(np.asarray(b) == 0):
            raise RuntimeError("ZeroDivisionError")
        with np.errstate(all="ignore"):
            return fn(a, b)
    forward.__name__ = name
    return refusing(name + "_cpu", "bU", forward)


def _torch_remainder(a, b):
    # torch's rule (not NumPy's): fmod, moved into the divisor's sign unless it is zero,
    # so that 0 % -2.5 is 0., not -0.
    m = np.fmod(a, b)
    fix = (m != 0) & ((m < 0) != (np.asarray(b) < 0))
    return np.where(fix, m + b, m) if fix.any() else m


def _remainder_other(ns, g, self, other):
    return ns.mul(ns.neg(g), ns.floor(ns.div(self, other)))


def _fmod_other(ns, g, self, other):
    return ns.mul(ns.neg(g), ns.trunc(ns.div(self, other)))


def _no_derivative_op(op_name: str, forward: Callable) -> Callable:
    """An op torch records with its ``NotImplemented`` node: backward through it raises."""
    values = binary(op_name, forward, node=f"{op_name}_values", method=False,
                    inplace_variant=False, register=False)

    def op(input: Any, other: Any, name: str = op_name) -> Tensor:
        with no_grad():
            out = values(input, other)._data
        return record_no_derivative("NotImplemented", name, (input, other), out)
    return op


_remainder_forward = _int_checked(_torch_remainder, "remainder")
_fmod_forward = _int_checked(np.fmod, "fmod")
_remainder_tt = binary("remainder", _remainder_forward, node="RemainderBackward1",
                       self=lambda ns, g: g, other=_remainder_other, method=False,
                       inplace_variant=False)
_remainder_ts = binary("remainder", _remainder_forward, node="RemainderBackward0",
                       self=lambda ns, g: g, method=False, inplace_variant=False,
                       register=False, number_other=True)
_remainder_st = _no_derivative_op("remainder", _remainder_forward)
_fmod_tt = binary("fmod", _fmod_forward, node="FmodBackward1", self=lambda ns, g: g,
                  other=_fmod_other, method=False, inplace_variant=False)
_fmod_ts = binary("fmod", _fmod_forward, node="FmodBackward0", self=lambda ns, g: g,
                  method=False, inplace_variant=False, register=False, number_other=True)
_floor_divide = _no_derivative_op("floor_divide", _int_checked(np.floor_divide, "div_floor"))


def remainder(input: Any, other: Any) -> Tensor:
    """torch.remainder(input, other): Python's modulus (sign of the divisor)."""
    if isinstance(other, Tensor):
        if not isinstance(input, Tensor):     # remainder(Scalar, Tensor): no derivative
            return _remainder_st(as_tensor_arg(input, "input", "remainder"), other)
        return _remainder_tt(input, other)
    return _remainder_ts(input, other)


def fmod(input: Tensor, other: Any) -> Tensor:
    """torch.fmod(input, other): C's fmod (sign of the dividend)."""
    if isinstance(other, Tensor):
        return _fmod_tt(input, other)
    return _fmod_ts(input, other)


def floor_divide(input: Any, other: Any) -> Tensor:
    """torch.floor_divide(input, other): Python's ``//``. Records a node whose backward
    raises, as torch does."""
    return _floor_divide(input, other)


def _floor_divide_inplace(input: Tensor, other: Any) -> Tensor:
    return _floor_divide(input, other, "floor_divide_")


def floor_divide_(self: Tensor, other: Any) -> Tensor:
    return inplace(self, _floor_divide_inplace, "floor_divide_", other)


for _name, _fn in {"remainder": remainder, "fmod": fmod, "__mod__": remainder,
                   "__floordiv__": floor_divide}.items():
    tensor_method(_name)(_fn)
    if not _name.startswith("__"):
        def _make_inplace(fn, name):
            def method(self: Tensor, other: Any) -> Tensor:
                return inplace(self, fn, name, other)
            method.__name__ = name
            return method
        tensor_method(_name + "_")(_make_inplace(_fn, _name + "_"))
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__rfloordiv__ = lambda self, other: floor_divide(as_tensor_arg(other), self)
Tensor.__imod__ = lambda self, other: inplace(self, remainder, "remainder_", other)
tensor_method("floor_divide")(floor_divide)
tensor_method("floor_divide_", "__ifloordiv__")(floor_divide_)


# -- logical and bitwise (never differentiable) ----------------------------------------------------

def _logical(fn):
    def forward(a, b):
        a, b = np.asarray(a), np.asarray(b)
        refuse_limited(fn.__name__ + "_cpu", np.result_type(a, b))
        return fn(a.astype(bool), b.astype(bool))
    return forward


def _logical_not(a):
    refuse_limited("logical_not_cpu", a.dtype)
    return np.logical_not(a)


logical_and = binary("logical_and", _logical(np.logical_and))
logical_or = binary("logical_or", _logical(np.logical_or))
logical_xor = binary("logical_xor", _logical(np.logical_xor))
logical_not = unary(_logical_not, name="logical_not", to_float=False,
                    differentiable=False)(lambda ns, g: g)


def _bitwise(name: str, fn):
    def forward(a, b):
        kinds = {np.asarray(a).dtype.kind, np.asarray(b).dtype.kind}
        if kinds & {"f", "c"}:
            raise RuntimeError(f'"{name}_cpu" not implemented for '
                               f"'{_dt.from_numpy_dtype(np.result_type(a, b)).scalar_name}'")
        return fn(a, b)
    return binary(name, forward)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def _invert_forward(a):
    refuse_limited("bitwise_not_cpu", a.dtype)
    if a.dtype.kind in "fc":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for "
                           f"'{_dt.from_numpy_dtype(a.dtype).scalar_name}'")
    return np.invert(a)


bitwise_not = unary(_invert_forward, name="bitwise_not", to_float=False,
                    differentiable=False)(lambda ns, g: g)
for _name, _fn in {"__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
                   "__rand__": bitwise_and, "__ror__": bitwise_or, "__rxor__": bitwise_xor,
                   "__invert__": bitwise_not}.items():
    setattr(Tensor, _name, _fn)


# -- three-input ops: lerp, addcmul, addcdiv -------------------------------------------------------

class _TernaryNode(Node):
    """Three broadcasting inputs; each gradient is summed back to its input's shape and dtype
    here, once (as BinaryNode does for two)."""

    __slots__ = ("shapes", "value")
    grads: tuple = ()

    def backward(self, ns, grads):
        g = grads[0]
        saved = self.unpack(ns.graph)
        out = []
        for i, fn in enumerate(self.grads[:len(self._edges) >> 1]):
            if self._edges[2 * i] is None or fn is None:
                out.append(None)
                continue
            gi = fn(ns, g, self.value, *saved)
            shape, dtype = self.shapes[i]
            if tuple(gi.shape) != shape:
                gi = ns.sum_to(gi, shape)
            if ns.np_dtype(gi) != dtype:
                gi = ns.cast(gi, dtype)
            out.append(gi)
        return tuple(out)


def _ternary_node(name: str, grads: tuple) -> type:
    return type(name, (_TernaryNode,), {"__slots__": (), "grads": grads,
                                        "saved_names": ("self", "tensor1", "tensor2")})


LerpBackward0 = _ternary_node("LerpBackward0", (
    lambda ns, g, w, a, b, c: ns.mul(g, 1 - w),
    lambda ns, g, w, a, b, c: ns.mul(g, w), None))
LerpBackward1 = _ternary_node("LerpBackward1", (
    lambda ns, g, w, a, b, c: ns.mul(g, ns.rsub(c, 1)),
    lambda ns, g, w, a, b, c: ns.mul(g, c),
    lambda ns, g, w, a, b, c: ns.mul(g, ns.sub(b, a))))
AddcmulBackward0 = _ternary_node("AddcmulBackward0", (
    lambda ns, g, v, a, b, c: g,
    lambda ns, g, v, a, b, c: ns.mul(g, ns.mul(c, v)),
    lambda ns, g, v, a, b, c: ns.mul(g, ns.mul(b, v))))
AddcdivBackward0 = _ternary_node("AddcdivBackward0", (
    lambda ns, g, v, a, b, c: g,
    lambda ns, g, v, a, b, c: ns.mul(g, ns.div(v, c)),
    lambda ns, g, v, a, b, c: ns.mul(ns.neg(g), ns.div(ns.mul(b, v), ns.mul(c, c)))))


def _ternary(node_cls: type, inputs: tuple, value: Any, forward) -> Tensor:
    tensors = [t for t in inputs if isinstance(t, Tensor)]
    dt = _dt.result_np_dtype(tuple(t._data for t in tensors),
                             tuple(v for v in (*inputs, value)
                                   if v is not None and not isinstance(v, Tensor)))
    arrays = [t._data.astype(dt, copy=False) if isinstance(t, Tensor) else t for t in inputs]
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError:
        from .define import broadcast_error
        shapes = [np.shape(a) for a in arrays]
        raise broadcast_error(*shapes) from None
    with np.errstate(all="ignore"):
        out = np.asarray(np.broadcast_to(forward(*arrays), shape), dtype=dt).copy()
    if not needs_grad(*inputs):
        return _make(out)
    # A number (lerp's scalar weight) is no input of the node: torch gives it no edge.
    node = node_cls(tuple(edge(t) for t in inputs if t is not None))
    node.shapes = tuple((np.shape(a), a.dtype if isinstance(a, np.ndarray) else None)
                        for a in arrays)
    node.value = value
    save_values(node, tuple(t if isinstance(t, Tensor) else None for t in inputs))
    return record(node, out)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """torch.lerp(input, end, weight): input + weight * (end - input)"""
    dtype = input._data.dtype
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._data.dtype != dtype:
            raise RuntimeError(f"expected dtype {c_type_name(dtype)} for `{name}` but got dtype "
                               f"{c_type_name(t._data.dtype)}")
    if dtype.kind in "biu":
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise kernel_missing(kernel, dtype)
    if isinstance(weight, Tensor):
        return _ternary(LerpBackward1, (input, end, weight), None,
                        lambda a, b, w: a + w * (b - a))
    return _ternary(LerpBackward0, (input, end, None), weight,
                    lambda a, b, _: a + weight * (b - a))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """torch.addcmul(input, tensor1, tensor2, *, value=1): input + value * tensor1 * tensor2"""
    dtype = _dt.result_np_dtype(tuple(t._data for t in (input, tensor1, tensor2)))
    if dtype.kind == "b":
        raise kernel_missing("addcmul_cpu_out", dtype)
    if dtype.kind in "iu":
        value = builtins.int(value)     # torch casts the scale to the integer result type
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without "
                               "overflow")
    return _ternary(AddcmulBackward0, (input, tensor1, tensor2), value,
                    lambda a, b, c: a + value * b * c)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """torch.addcdiv(input, tensor1, tensor2, *, value=1): input + value * tensor1 / tensor2"""
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return _ternary(AddcdivBackward0, (input, tensor1, tensor2), value,
                    lambda a, b, c: a + value * b / c)


for _fn in (lerp, addcmul, addcdiv):
    tensor_method(_fn.__name__)(_fn)

    def _make_inplace3(fn, name):
        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            return inplace(self, fn, name, *args, **kwargs)
        method.__name__ = name
        return method
    tensor_method(_fn.__name__ + "_")(_make_inplace3(_fn, _fn.__name__ + "_"))


# -- closeness -------------------------------------------------------------------------------------

def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """torch.isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False)"""
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{input.dtype.scalar_name} did not match "
                           f"{other.dtype.scalar_name}")
    return _make(np.isclose(input._data, other._data, rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """torch.allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool"""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """torch.equal(input, other) -> bool: same shape and same values."""
    a, b = input._data, other._data
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


for _fn in (isclose, allclose, equal):
    tensor_method(_fn.__name__)(_fn)

formula("logical_and", np.logical_and, logical_and)
formula("logical_or", np.logical_or, logical_or)
formula("lt", np.less, lt)
formula("le", np.less_equal, le)
_ = isnan   # registers ns.isnan
del _name, _fn
