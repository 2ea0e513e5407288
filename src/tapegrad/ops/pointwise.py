"""Elementwise ops: arithmetic, powers, exp/log, trig, activations, comparisons.

Each entry is one op: its NumPy forward, then its derivative, read as
``d(op)/d(input) * grad``. Broadcasting and dtype casts of gradients are
undone centrally (``define.BinaryNode``), never here.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .backward_ops import pointwise_backward_op
from .define import (
    Node,
    Tensor,
    as_tensor_arg,
    binary,
    camel,
    edge,
    formula,
    inplace,
    needs_grad,
    ns_array_owned,
    record,
    save_values,
    tensor_method,
    unary,
)

_make = Tensor._make


kernel_missing = _dt.kernel_missing
refuse_limited = _dt.refuse_limited


# C++ names torch uses for dtypes in some messages.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                 "int64": "long int", "int32": "int", "int16": "short int",
                 "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def c_type_name(dtype: np.dtype) -> str:
    """``double`` for float64, ``long int`` for int64 ... (torch's C++ spelling)."""
    name = np.dtype(dtype).name
    return _C_TYPE_NAMES.get(name, name)


def refusing(kernel: str, kinds: str, fn: Any) -> Any:
    """A NumPy forward that raises, as torch's ``kernel`` does, for dtype kinds it lacks
    (``"b"`` bool, ``"biu"`` bool and integers, ``"U"`` uint16/32/64)."""
    limited = "U" in kinds

    def forward(*arrays: Any) -> Any:
        dtype = np.result_type(*arrays)
        if dtype.kind in kinds:
            raise kernel_missing(kernel, dtype)
        if limited:
            refuse_limited(kernel, dtype)
        return fn(*arrays)
    forward.__name__ = getattr(fn, "__name__", kernel)
    return forward


# -- arithmetic --------------------------------------------------------------------------

_add = binary("add", np.add, self=lambda ns, g: g, other=lambda ns, g: g, method=False,
              inplace_variant=False)
_sub = binary("sub", np.subtract, self=lambda ns, g: g, other=lambda ns, g: ns.neg(g),
              method=False, inplace_variant=False)
mul = binary("mul", np.multiply,
             self=lambda ns, g, other: ns.mul_grad(g, other),
             other=lambda ns, g, self: ns.mul_grad(g, self))
_div = binary("div", np.true_divide, to_float=True,
              self=lambda ns, g, other: ns.div_tensor(g, other),
              other=lambda ns, g, self, other: ns.neg(ns.div(ns.mul(g, self),
                                                               ns.mul(other, other))),
              method=False, inplace_variant=False)
# ``1 - x``: torch records the reversed subtraction as its own node.
def _rsub_op(node: str, register: bool) -> Any:
    return binary("rsub", lambda a, b: np.subtract(b, a), node=node,
                  self=lambda ns, g: ns.neg(g), other=lambda ns, g: g, method=False,
                  inplace_variant=False, register=register, number_other=register)


_rsub = _rsub_op("RsubBackward1", register=True)                 # other is a number
_rsub_tensor = _rsub_op("RsubBackward0", register=False)         # other is a Tensor


def _check_alpha(input: Any, other: Any, alpha: Any) -> None:
    if alpha == 1 and not isinstance(alpha, builtins.bool):
        return
    tensors = tuple(t._data for t in (input, other) if isinstance(t, Tensor))
    scalars = tuple(v for v in (input, other) if not isinstance(v, Tensor))
    kind = _dt.result_np_dtype(tensors, scalars).kind
    if isinstance(alpha, builtins.bool) and kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if kind in "biu" and isinstance(alpha, builtins.float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def _is_bool(x: Any) -> bool:
    return isinstance(x, builtins.bool) or (isinstance(x, Tensor) and x._data.dtype == np.bool_)


def _check_bool_sub(input: Any, other: Any) -> None:
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


class _ScaledNode(Node):
    """add/sub/rsub with an ``alpha``: one node, as torch records, whose gradient for each
    input is the incoming gradient times a constant (``scales``)."""

    __slots__ = ("scales", "shapes")

    def backward(self, ns, grads):
        out = []
        for (fn, _), scale, (shape, dtype) in zip(self.next_functions, self.scales,
                                                  self.shapes):
            if fn is None:
                out.append(None)
                continue
            g = ns.sum_to(ns.mul(grads[0], scale), shape)
            out.append(g if ns.np_dtype(g) == dtype else ns.cast(g, dtype))
        return tuple(out)


_SCALED_NODES = {name: type(name, (_ScaledNode,), {"__slots__": ()})
                 for name in ("AddBackward0", "SubBackward0", "RsubBackward0", "RsubBackward1")}


def _scaled(node_name: str, input: Any, other: Any, scales: tuple, forward: Any) -> Tensor:
    """``forward`` on detached operands, recorded as one ``node_name`` node."""
    def plain(t: Any) -> Any:
        return t.detach() if isinstance(t, Tensor) else t
    out = forward(plain(input), plain(other))
    if not needs_grad(input, other):
        return out
    node = _SCALED_NODES[node_name]((edge(input), edge(other)))
    node.scales = scales
    node.shapes = tuple((t._data.shape, t._data.dtype) if isinstance(t, Tensor) else (None, None)
                        for t in (input, other))
    return record(node, out._data)


def _times(t: Any, alpha: Any) -> Any:
    return mul(t, alpha) if isinstance(t, Tensor) else t * alpha


def add(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """torch.add(input, other, *, alpha=1): input + alpha * other"""
    _check_alpha(input, other, alpha)
    if alpha == 1:
        return _add(input, other)
    return _scaled("AddBackward0", input, other, (1, alpha),
                   lambda a, b: _add(a, _times(b, alpha)))


def sub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """torch.sub(input, other, *, alpha=1): input - alpha * other"""
    _check_bool_sub(input, other)
    _check_alpha(input, other, alpha)
    if alpha == 1:
        return _sub(input, other)
    return _scaled("SubBackward0", input, other, (1, -alpha),
                   lambda a, b: _sub(a, _times(b, alpha)))


def _sub_operator(input: Tensor, other: Any) -> Tensor:
    """``input - other``: sub without an alpha to check (torch's bool refusals kept)."""
    if input._data.dtype.kind == "b" or _is_bool(other):
        _check_bool_sub(input, other)
    return _sub(input, other)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """torch.rsub(input, other): other - alpha * input"""
    _check_bool_sub(input, other)
    _check_alpha(input, other, alpha)
    plain = _rsub_tensor if isinstance(other, Tensor) else _rsub
    if alpha == 1:
        return plain(input, other)
    return _scaled("RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1", input,
                   other, (-alpha, 1), lambda a, b: plain(_times(a, alpha), b))


def div(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """torch.div(input, other, *, rounding_mode=None)"""
    if rounding_mode is None:
        return _div(input, other)
    if rounding_mode == "trunc":
        return _div_trunc(input, other)
    if rounding_mode == "floor":
        return _div_floor(input, other)
    raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


def _refuse_bool(kernel: str) -> Any:
    return lambda fn: refusing(kernel, "bU", fn)


def _int_or_float_div(rounder):
    @_refuse_bool("div_trunc_cpu" if rounder is np.trunc else "div_floor_cpu")
    def forward(a, b):
        if np.result_type(a, b).kind in "iu":
            if rounder is np.floor:
                return np.floor_divide(a, b)
            q = np.abs(a) // np.abs(b)
            return np.where((a < 0) ^ (b < 0), -q, q).astype(np.result_type(a, b))
        return rounder(np.true_divide(a, b))
    return forward


def _zero_grad(ns, g):
    """torch's zeros_like(grad): +0.0 everywhere, no graph."""
    return ns.zeros_like(g)


# Rounded division has zero gradient almost everywhere (torch: zeros).
_div_trunc = binary("div", _int_or_float_div(np.trunc), node="DivBackward2",
                    self=_zero_grad, other=_zero_grad,
                    method=False, inplace_variant=False, register=False)
_div_floor = binary("div", _int_or_float_div(np.floor), node="DivBackward2",
                    self=_zero_grad, other=_zero_grad,
                    method=False, inplace_variant=False, register=False)


def true_divide(input: Tensor, other: Any) -> Tensor:
    """torch.true_divide(input, other)"""
    return _div(input, other)


# The public wrappers write in place as their binary ops do (alpha, rounding modes and
# bool checks take keyword arguments or other dtypes, which fall back to the general path).
add.write_into, sub.write_into = _add.write_into, _sub.write_into
div.write_into = true_divide.write_into = _div.write_into


# In derivative formulas (create_graph=True), a Python number is a C++ Scalar in torch's:
# ``grad * 2`` records torch's Scalar overload (MulBackward1, one edge), and ``1 - x``
# records SubBackward0 with no edge for the number. The public ops keep the Tensor overload
# (``x * 2`` in Python is MulBackward0 in torch too); plain backward is unchanged.
_NUMBERS = (builtins.int, builtins.float, np.integer, np.floating)


def _by_number(name: str, forward: Any, grad: Any) -> Any:
    return binary(name, forward, node=camel(name) + "Backward1", self=grad, method=False,
                  inplace_variant=False, register=False, number_other=True)


def _scalar_formula(name: str, array_fn: Any, tensor_op: Any, grad: Any,
                    commutes: bool) -> None:
    by_number = _by_number(name, array_fn, grad)

    def tensor_fn(a: Any, b: Any) -> Tensor:
        if isinstance(b, _NUMBERS) and isinstance(a, Tensor):
            return by_number(a, b)
        if commutes and isinstance(a, _NUMBERS) and isinstance(b, Tensor):
            return by_number(b, a)
        return tensor_op(a, b)
    formula(name, array_fn, tensor_fn)


_scalar_formula("mul", np.multiply, mul, lambda ns, g, other: ns.mul(g, other), True)
_scalar_formula("add", np.add, add, lambda ns, g: g, True)
_scalar_formula("sub", np.subtract, sub, lambda ns, g: g, False)
_scalar_formula("div", np.true_divide, div, lambda ns, g, other: ns.div(g, other), False)
# The gradients of mul and div themselves: a number the user passed was wrapped as a Tensor
# by torch (``x / 2`` is DivBackward0), so their formulas keep the Tensor overload.
formula("mul_grad", np.multiply, mul, ns_array_owned.mul_grad)
formula("div_tensor", np.true_divide, _div)

# -- powers ---------------------------------------------------------------------------------


def _pow_scalar_grad(ns, g, self, other):
    # torch: zero gradient for exponent 0 (even at self == 0).
    if other == 0:
        return ns.zeros_like(g)
    return ns.mul(g, ns.mul(ns.pow(self, other - 1), other))


def _pow_self_grad(ns, g, self, other):
    # d/dself self**other = other * self**(other-1); 0 where other == 0.
    d = ns.mul(other, ns.pow(self, ns.sub(other, 1)))
    return ns.where(ns.eq(other, 0), 0.0, ns.mul(g, d))


def _pow_other_grad(ns, g, self, result):
    # d/dother self**other = self**other * log(self); 0 where self == 0 and other >= 0.
    d = ns.mul(result, ns.log(self))
    return ns.mul(g, ns.where(ns.eq(self, 0), 0.0, d))


_pow_tensor_scalar = binary("pow", np.power, node="PowBackward0", self=_pow_scalar_grad,
                            method=False, inplace_variant=False, register=False,
                            number_other=True)
def _power(a: Any, b: Any) -> Any:
    """np.power, but integers to negative integer powers give torch's values (1 for a base
    of 1, +-1 for -1, else 0) instead of an error."""
    dtype = np.result_type(a, b)
    if dtype.kind == "b":
        raise kernel_missing("pow", dtype)
    refuse_limited("pow", dtype)
    if dtype.kind not in "iu" or not np.any(np.asarray(b) < 0):
        return np.power(a, b)
    neg = np.asarray(b) < 0
    out = np.power(a, np.where(neg, 0, b))
    odd = np.asarray(b) % 2 == 1
    at_neg = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, at_neg, out).astype(dtype)


_pow_tensor_tensor = binary("pow", _power, node="PowBackward1", self=_pow_self_grad,
                            other=_pow_other_grad, method=False, inplace_variant=False,
                            register=False)


def _pow_base_grad(ns, g, self, other, result):
    # d/dx c**x = c**x * ln(c); torch takes 0 where c == 0 and x >= 0.
    if other == 0:
        return ns.mul(g, ns.where(ns.ge(self, 0), 0.0, ns.mul(result, -math.inf)))
    return ns.mul(g, ns.mul(result, math.log(other) if other > 0 else math.nan))


# ``2 ** x``: the base is a Python number (the op's "other").
_pow_scalar_tensor = binary("pow", lambda a, b: np.power(b, a), node="PowBackward2",
                            self=_pow_base_grad, method=False, inplace_variant=False,
                            register=False, number_other=True)


def pow(input: Any, exponent: Any) -> Tensor:
    """torch.pow(input, exponent): tensor**scalar, tensor**tensor or scalar**tensor."""
    if (exponent.__class__ is builtins.int or exponent.__class__ is builtins.float) and (
            isinstance(input, Tensor) and input._data.dtype.kind in "fc"):
        return _pow_tensor_scalar(input, exponent)      # nothing below to refuse
    if not isinstance(input, Tensor):
        return _rpow(as_tensor_arg(exponent, "exponent", "pow"), input)
    if isinstance(exponent, Tensor):
        return _pow_tensor_tensor(input, exponent)
    a = input._data
    if not isinstance(exponent, builtins.float):
        refuse_limited("pow", a.dtype)
    if (a.dtype.kind in "iu" and isinstance(exponent, builtins.int)
            and not isinstance(exponent, builtins.bool) and exponent < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _pow_tensor_scalar(input, exponent)


def _rpow(exponent: Tensor, base: Any) -> Tensor:
    if not isinstance(base, builtins.float):
        refuse_limited("pow", exponent._data.dtype)
    if isinstance(base, builtins.float) and exponent._data.dtype.kind in "biu":
        exponent = exponent.to(_dt.get_default_dtype())
    return _pow_scalar_tensor(exponent, base)


def _pow_array(a: Any, b: Any) -> Any:
    return np.power(a, b)


formula("pow", _pow_array, pow)
tensor_method("pow")(pow)


@tensor_method("pow_")
def pow_(self: Tensor, exponent: Any) -> Tensor:
    return inplace(self, pow, "pow_", exponent)


# -- unary math ------------------------------------------------------------------------------


def _negative(a: np.ndarray) -> np.ndarray:
    refuse_limited("neg_cpu", a.dtype)
    if a.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return np.negative(a)


@unary(_negative, name="neg", to_float=False)
def neg(ns, g):
    return ns.neg(g)


@unary(np.exp)
def exp(ns, g, result):
    return ns.mul_grad(g, result)


@unary(np.log)
def log(ns, g, self):
    return ns.div(g, self)


@unary(np.sin)
def sin(ns, g, self):
    return ns.mul_grad(g, ns.cos(self))


@unary(np.cos)
def cos(ns, g, self):
    return ns.mul_grad(g, ns.neg(ns.sin(self)))


@unary(np.sqrt)
def sqrt(ns, g, result):
    return ns.div(g, ns.mul(result, 2))


def _fits(g: np.ndarray, t: np.ndarray) -> bool:
    """Whether ``g * t`` may be written into ``t`` (a temporary the formula owns)."""
    return g.dtype == t.dtype and g.shape == t.shape


def _tanh_backward_array(g: np.ndarray, result: np.ndarray) -> np.ndarray:
    # g * (1 - result**2) with one allocation instead of three.
    if result.ndim == 0:                # NumPy gives scalars, which take no out=
        return g * (1 - result * result)
    t = np.multiply(result, result)
    np.subtract(1, t, out=t)
    return np.multiply(g, t, out=t) if _fits(g, t) else g * t


@unary(np.tanh)
def tanh(ns, g, result):
    return ns.tanh_backward(g, result)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # torch's formula, 1 / (1 + exp(-x)), in four passes and one allocation: exp(-x)
    # overflows to inf far below zero, where the result is torch's 0 (not a denormal).
    with np.errstate(over="ignore"):
        if x.ndim == 0:                 # NumPy gives scalars, which take no out=
            return 1 / (1 + np.exp(-x))
        e = np.negative(x)
        np.exp(e, out=e)
        np.add(e, 1, out=e)
        return np.divide(1, e, out=e)


def _sigmoid_backward_array(g: np.ndarray, result: np.ndarray) -> np.ndarray:
    # g * (result * (1 - result)) with one allocation instead of three.
    if result.ndim == 0:
        return g * (result * (1 - result))
    t = np.subtract(1, result)
    np.multiply(result, t, out=t)
    return np.multiply(g, t, out=t) if _fits(g, t) else g * t


@unary(_sigmoid)
def sigmoid(ns, g, result):
    return ns.sigmoid_backward(g, result)


def _relu(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    refuse_limited("clamp_min_scalar_cpu", x.dtype)
    return np.maximum(x, 0, dtype=x.dtype)


@unary(_relu, to_float=False)
def relu(ns, g, result):
    return ns.threshold_backward(g, result, 0)


@unary(refusing("abs_cpu", "bU", np.abs), name="abs", to_float=False)
def abs(ns, g, self):
    return ns.mul(g, ns.sgn(self))


def _sign(a: np.ndarray) -> np.ndarray:
    refuse_limited("sign_cpu", a.dtype)
    return a.copy() if a.dtype == np.bool_ else np.sign(a)


@unary(_sign, name="sign", to_float=False)
def sign(ns, g):
    return ns.zeros_like(g)


@unary(_sign, name="sgn", to_float=False)
def sgn(ns, g):
    """torch.sgn(input): sign(input) for real tensors (abs's derivative records it)."""
    return ns.zeros_like(g)




def _rsub_formula(input: Tensor, other: Any) -> Tensor:
    """``other - input`` in a formula: torch's C++ ``number - x`` is a SubBackward0 whose
    first edge (the number) is empty."""
    if isinstance(other, _NUMBERS):
        other = _make(np.asarray(other, dtype=input._data.dtype))
    return _sub(other, input)


formula("rsub", lambda a, b: np.subtract(b, a), _rsub_formula)

# The fused derivative ops, differentiable under create_graph with torch's node names.
# ``slope`` is d(output)/d(input) written in the saved value; only the array path
# (``array_fn``) computes the op itself, without temporaries.
pointwise_backward_op(
    "tanh_backward", "TanhBackwardBackward0", lambda ns, y: ns.rsub(ns.mul(y, y), 1.0),
    lambda ns, y: ns.mul(y, -2.0), saved_name="output", array_fn=_tanh_backward_array)
pointwise_backward_op(
    "sigmoid_backward", "SigmoidBackwardBackward0", lambda ns, y: ns.mul(y, ns.rsub(y, 1.0)),
    lambda ns, y: ns.rsub(ns.mul(y, 2.0), 1.0), saved_name="output",
    array_fn=_sigmoid_backward_array)


def _above(ns, x, threshold):
    """threshold_backward's slope: 1 above the threshold, 0 at or below (a constant)."""
    return ns.constant(ns.unwrap(x) > threshold)


# torch: x <= threshold ? 0 : g. The float gradient's bits, read as integers, times the
# mask: the bits where it passes, all zero (+0.0) elsewhere, even for an infinite or NaN g
# (a float product would give NaN, and -0.0 for a negative g). One pass, and faster than
# the float product followed by + 0.0, let alone a NumPy select.


def _threshold_passes(x: np.ndarray, threshold: Any) -> np.ndarray:
    passes = x <= threshold                          # NaN x passes g, as in torch
    if passes.__class__ is np.ndarray:
        return np.logical_not(passes, out=passes)
    return np.logical_not(passes)                    # 0-d: NumPy gave a scalar


_BITS = {2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}


def _threshold_backward_array(g: np.ndarray, x: np.ndarray, threshold: Any,
                              out: np.ndarray | None = None) -> np.ndarray:
    passes = _threshold_passes(x, threshold)
    ints = _BITS.get(g.dtype.itemsize) if g.dtype.kind == "f" else None
    if ints is None or g.__class__ is not np.ndarray:
        return np.where(passes, g, np.zeros((), g.dtype))
    bits = np.multiply(g.view(ints), passes, out=None if out is None else out.view(ints))
    return bits.view(g.dtype)


def _threshold_backward_owned(g: np.ndarray, x: np.ndarray, threshold: Any) -> np.ndarray:
    # The engine owns the gradient: the mask is applied in place, as mul_grad does.
    if g.__class__ is not np.ndarray or g.shape != np.shape(x):
        return _threshold_backward_array(g, x, threshold)
    return _threshold_backward_array(g, x, threshold, out=g)


pointwise_backward_op(
    "threshold_backward", "ThresholdBackwardBackward0", _above,
    array_fn=_threshold_backward_array, owned_fn=_threshold_backward_owned)


def _reciprocal_forward(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.reciprocal(a)


@unary(_reciprocal_forward)
def reciprocal(ns, g, result):
    return ns.mul(ns.neg(g), ns.mul(result, result))


# -- comparisons (never differentiable) --------------------------------------------------------

def _compare(name: str, fn) -> Any:
    op = binary(name, fn, method=True, inplace_variant=False)
    # In place, torch writes the result in self's dtype and records a node whose gradient
    # is zero: <Name>Backward1 for a Tensor other, <Name>Backward0 for a number.
    by_tensor = binary(name, fn, node=camel(name) + "Backward1", self=_zero_grad,
                       other=_zero_grad, method=False, inplace_variant=False, register=False)
    by_number = binary(name, fn, node=camel(name) + "Backward0", self=_zero_grad,
                       method=False, inplace_variant=False, register=False)

    def op_(self: Tensor, other: Any) -> Tensor:
        return inplace(self, by_tensor if isinstance(other, Tensor) else by_number,
                       name + "_", other)
    op_.__name__ = name + "_"
    tensor_method(name + "_")(op_)
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


# -- where and clamp -----------------------------------------------------------------------------


class WhereBackward0(Node):
    __slots__ = ("shapes",)
    saved_names = ("condition",)

    def backward(self, ns, grads):
        g = grads[0]
        (cond,) = self.unpack(False)
        a_shape, a_dt, b_shape, b_dt = self.shapes
        z = ns.constant(np.zeros((), dtype=ns.np_dtype(g)))
        c = ns.constant(cond)
        ga = gb = None
        if self._edges[0] is not None:
            ga = ns.sum_to(ns.where(c, g, z), a_shape)
            if a_dt is not None and ns.np_dtype(ga) != a_dt:
                ga = ns.cast(ga, a_dt)
        if self._edges[2] is not None:
            gb = ns.sum_to(ns.where(c, z, g), b_shape)
            if b_dt is not None and ns.np_dtype(gb) != b_dt:
                gb = ns.cast(gb, b_dt)
        return (ga, gb)


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """torch.where(condition, input, other); torch.where(condition) gives nonzero indices."""
    if input is None and other is None:
        return tuple(_make(i) for i in np.nonzero(condition._data))
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_dt.from_numpy_dtype(cond.dtype).scalar_name}")
    tensors = [t for t in (input, other) if isinstance(t, Tensor)]
    scalars = [s for s in (input, other) if not isinstance(s, Tensor)]
    dt = _dt.result_np_dtype(tuple(t._data for t in tensors), tuple(scalars))
    a = input._data.astype(dt, copy=False) if isinstance(input, Tensor) else input
    b = other._data.astype(dt, copy=False) if isinstance(other, Tensor) else other
    out = np.where(cond, a, b).astype(dt, copy=False)
    if not needs_grad(input, other):
        return _make(out)
    node = WhereBackward0((edge(input), edge(other)))       # the condition is no input
    node.shapes = (np.shape(a), input._data.dtype if isinstance(input, Tensor) else None,
                   np.shape(b), other._data.dtype if isinstance(other, Tensor) else None)
    save_values(node, (cond,))
    return record(node, out)


def _where_array(c, a, b):
    return np.where(c, a, b)


formula("where", _where_array, where)
formula("eq", np.equal, eq)
formula("gt", np.greater, gt)
formula("ge", np.greater_equal, ge)


class ClampBackward1(Node):
    """clamp with scalar bounds: the gradient passes where min <= x <= max (inclusive)."""

    __slots__ = ("min", "max")
    saved_names = ("self",)

    def backward(self, ns, grads):
        (x,) = self.unpack(False)
        inside = np.ones(x.shape, dtype=np.bool_)
        if self.min is not None:
            inside &= x >= self.min
        if self.max is not None:
            inside &= x <= self.max
        return (ns.keep(grads[0], inside),)


def _clamp_masks(x: np.ndarray, lo: Any, hi: Any) -> tuple:
    """Where the gradient of clamp(x, lo, hi) goes: to x, to lo, to hi. torch's choices at
    ties: x wins when lo <= x <= hi; lo only when x < lo < hi (strictly); hi wherever it
    decides the result (x > hi, or lo > hi). So at x < lo == hi nobody gets it."""
    if lo is None:
        return x <= hi, None, x > hi
    if hi is None:
        return x >= lo, x < lo, None
    return (x >= lo) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (lo > hi)


class ClampBackward0(Node):
    """clamp with tensor bounds: gradient to x inside, to a bound where it is active."""

    __slots__ = ("shapes",)
    saved_names = ("self", "min", "max")

    def backward(self, ns, grads):
        g = grads[0]
        masks = _clamp_masks(*self.unpack(False))
        zero = ns.constant(np.zeros((), ns.np_dtype(g)))
        out = []
        for i, (mask, (shape, dtype)) in enumerate(zip(masks, self.shapes)):
            if mask is None or self._edges[2 * i] is None:
                out.append(None)
                continue
            picked = ns.where(ns.constant(np.broadcast_to(mask, g.shape)), g, zero)
            picked = ns.sum_to(picked, shape)
            out.append(picked if ns.np_dtype(picked) == dtype else ns.cast(picked, dtype))
        return tuple(out)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """torch.clamp(input, min=None, max=None)"""
    return _clamp(input, min, max, "clamp")


def clip(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """torch.clip(input, min=None, max=None): alias of clamp."""
    return _clamp(input, min, max, "clip")


def _mixed_bounds(name: str, args: tuple, method: bool) -> TypeError:
    """torch's argument-parser error for a Tensor bound beside a number bound. Positional
    calls only: keyword calls get the same text here (torch words those differently)."""
    got = ", ".join(type(v).__name__ for v in args)
    if method:
        marked = ", ".join(f"!{type(v).__name__}!" for v in args)
        why = f"      didn't match because some of the arguments have invalid types: ({marked})\n"
        overloads = (f" * (Tensor min = None, Tensor max = None)\n{why}"
                     f" * (Number min = None, Number max = None)\n{why}")
    else:
        overloads = (" * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = "
                     "None)\n * (Tensor input, Number min = None, Number max = None, *, Tensor "
                     "out = None)\n")
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), "
                     f"but expected one of:\n{overloads}")


def _clamp(input: Tensor, min: Any, max: Any, name: str, method: bool = False) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if not all(b is None or isinstance(b, Tensor) for b in (min, max)):
            args = (min, max) if method else (input, min, max)
            raise _mixed_bounds(name, tuple(v for v in args if v is not None), method)
        return _clamp_tensor(input, min, max)
    a = input._data
    if a.dtype.kind == "u" and not (isinstance(min, builtins.float) or
                                    isinstance(max, builtins.float)):
        refuse_limited("clamp_scalar_cpu" if min is not None and max is not None else
                       "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu",
                       a.dtype)
    if a.dtype.kind in "iub" and (isinstance(min, builtins.float) or
                                  isinstance(max, builtins.float)):
        a = a.astype(_dt.get_default_dtype().np)
    out = a
    if min is not None:
        out = np.maximum(out, np.asarray(min, dtype=a.dtype))
    if max is not None:
        out = np.minimum(out, np.asarray(max, dtype=a.dtype))
    if out is a:
        out = a.copy()
    if not needs_grad(input):
        return _make(out)
    node = ClampBackward1((edge(input),))
    node.min, node.max = min, max
    save_values(node, (input,))
    return record(node, out)


def _clamp_tensor(input: Tensor, min: Any, max: Any) -> Tensor:
    bounds = [b for b in (min, max) if b is not None]
    dt = _dt.result_np_dtype(tuple(t._data for t in (input, *bounds)))
    refuse_limited("clamp_cpu" if len(bounds) == 2 else "maximum_cpu" if min is not None
                   else "minimum_cpu", dt)
    x, lo, hi = (None if t is None else t._data.astype(dt, copy=False)
                 for t in (input, min, max))
    shape = np.broadcast_shapes(*(b.shape for b in (x, lo, hi) if b is not None))
    out = x
    # torch: min then max, so where min > max the result is max.
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    out = np.array(np.broadcast_to(out, shape), dtype=dt)
    if not needs_grad(input, min, max):
        return _make(out)
    node = ClampBackward0((edge(input), edge(min), edge(max)))
    node.shapes = tuple((None, None) if t is None else (t._data.shape, t._data.dtype)
                        for t in (input, min, max))
    save_values(node, (input, min, max))
    return record(node, out)


def _clamp_methods(name: str) -> None:
    """``Tensor.clamp``/``clamp_`` (and clip): the argument errors count from ``min``."""
    def method(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        return _clamp(self, min, max, name, method=True)

    def method_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        if self._data.dtype.kind in "biu" and any(isinstance(b, builtins.float)
                                                  for b in (min, max)):
            raise RuntimeError("result type Float can't be cast to the desired output type "
                               f"{c_type_name(self._data.dtype)}")
        return inplace(self, lambda x, lo, hi: _clamp(x, lo, hi, name + "_", method=True),
                       name + "_", min, max)
    method.__name__, method_.__name__ = name, name + "_"
    method.__doc__ = f"Tensor.{name}(min=None, max=None) -> Tensor"
    tensor_method(name)(method)
    tensor_method(name + "_")(method_)


_clamp_methods("clamp")
_clamp_methods("clip")


def _cast_array(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return a.astype(dtype)


# -- operators ------------------------------------------------------------------------------------

def _reverse(fn):
    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(as_tensor_arg(other, "other", fn.__name__), self)
    return reflected


def _rtruediv(self: Tensor, other: Any) -> Tensor:
    # torch computes ``c / x`` as ``reciprocal(x) * c``.
    if isinstance(other, Tensor):
        return div(other, self)
    if self._data.dtype.kind in "biu":
        self = self.to(_dt.get_default_dtype())
    return mul(reciprocal(self), other)


def _rpow_method(self: Tensor, other: Any) -> Tensor:
    return _rpow(self, other)


def _rsub_method(self: Tensor, other: Any) -> Tensor:
    return rsub(self, other)


for _name, _fn in {
    "__add__": _add, "__radd__": _add, "__sub__": _sub_operator, "__rsub__": _rsub_method,
    "__mul__": mul, "__rmul__": mul, "__truediv__": _div, "__rtruediv__": _rtruediv,
    "__pow__": pow, "__rpow__": _rpow_method, "__neg__": neg, "__abs__": abs,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "add": add, "sub": sub, "div": div, "subtract": sub, "multiply": mul, "divide": div,
    "true_divide": true_divide, "negative": neg, "absolute": abs, "rsub": rsub,
}.items():
    setattr(Tensor, _name, _fn)


Tensor.negative_ = Tensor.neg_
Tensor.absolute_ = Tensor.abs_


def _inplace_method(fn, name):
    def method(self: Tensor, other: Any, **kwargs: Any) -> Tensor:
        return inplace(self, fn, name, other, **kwargs)
    method.__name__ = name
    return method


for _name, _fn in {"add_": add, "sub_": sub, "div_": div, "mul_": mul,
                   "__iadd__": add, "__isub__": sub, "__imul__": mul, "__itruediv__": div,
                   "subtract_": sub, "multiply_": mul, "divide_": div, "__ipow__": pow,
                   "true_divide_": true_divide}.items():
    # ``x += y`` is ``x.add_(y)``: the in-place op is named after the function it runs.
    setattr(Tensor, _name, _inplace_method(_fn, _fn.__name__ + "_"
                                           if _name.startswith("__") else _name))

del _name, _fn
