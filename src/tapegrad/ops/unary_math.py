"""More one-input elementwise math: exp/log variants, trig and hyperbolic, erf family,
rounding, and the float predicates (isnan ...). Each op: NumPy forward, then derivative.

Conventions at non-differentiable points follow torch: rounding ops have zero
gradient everywhere, ``nan_to_num`` passes the gradient only where the input was finite.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .define import (
    Node,
    Tensor,
    camel,
    edge,
    formula,
    inplace,
    needs_grad,
    record,
    save_values,
    tensor_method,
    unary,
)
from .pointwise import kernel_missing, pow, refusing

_make = Tensor._make
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _quiet(fn):
    """A NumPy forward that returns inf/nan silently, as torch does (log(0), sqrt(-1) ...)."""
    def forward(a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return fn(a)
    forward.__name__ = getattr(fn, "__name__", "forward")
    return forward


# -- exp / log family ------------------------------------------------------------------------

@unary(_quiet(np.exp2))
def exp2(ns, g, result):
    return ns.mul(ns.mul(g, result), _LN2)


@unary(_quiet(np.expm1))
def expm1(ns, g, result):
    return ns.mul(g, ns.add(result, 1))


@unary(_quiet(np.log2))
def log2(ns, g, self):
    return ns.div(g, ns.mul(self, _LN2))


@unary(_quiet(np.log10))
def log10(ns, g, self):
    return ns.div(g, ns.mul(self, _LN10))


@unary(_quiet(np.log1p), node="Log1PBackward0")
def log1p(ns, g, self):
    return ns.div(g, ns.add(self, 1))


@unary(_quiet(lambda a: 1 / np.sqrt(a)))
def rsqrt(ns, g, result):
    return ns.mul(ns.mul(g, -0.5), ns.pow(result, 3))


# -- trigonometric and hyperbolic ------------------------------------------------------------

@unary(_quiet(np.tan))
def tan(ns, g, result):
    return ns.mul(g, ns.add(ns.pow(result, 2), 1))


def _one_minus_square(ns, x):
    return ns.add(ns.mul(ns.neg(x), x), 1)       # torch's -x * x + 1


@unary(_quiet(np.arcsin), name="asin")
def asin(ns, g, self):
    return ns.mul(g, ns.rsqrt(_one_minus_square(ns, self)))


@unary(_quiet(np.arccos), name="acos")
def acos(ns, g, self):
    return ns.mul(g, ns.neg(ns.rsqrt(_one_minus_square(ns, self))))


@unary(_quiet(np.arctan), name="atan")
def atan(ns, g, self):
    return ns.div(g, ns.add(ns.mul(self, self), 1))


@unary(_quiet(np.sinh))
def sinh(ns, g, self):
    return ns.mul(g, ns.cosh(self))


@unary(_quiet(np.cosh))
def cosh(ns, g, self):
    return ns.mul(g, ns.sinh(self))


@unary(_quiet(np.arcsinh), name="asinh")
def asinh(ns, g, self):
    return ns.mul(g, ns.rsqrt(ns.add(ns.pow(self, 2), 1)))


@unary(_quiet(np.arccosh), name="acosh")
def acosh(ns, g, self):
    return ns.mul(g, ns.rsqrt(ns.sub(ns.pow(self, 2), 1)))


@unary(_quiet(np.arctanh), name="atanh")
def atanh(ns, g, self):
    return ns.div(g, ns.rsub(ns.pow(self, 2), 1))


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
tensor_method("arcsin")(asin)
tensor_method("arccos")(acos)
tensor_method("arctan")(atan)
tensor_method("arcsinh")(asinh)
tensor_method("arccosh")(acosh)
tensor_method("arctanh")(atanh)


class _NoInplaceDerivative(Node):
    """torch records these in-place ops (asinh_ ...) but has no derivative for them."""

    __slots__ = ()
    op_name = ""

    def backward(self, ns, grads):
        raise NotImplementedError(f"the derivative for 'inplace version of {self.op_name}' is "
                                  "not implemented.")


def _inplace_without_derivative(op: Any) -> None:
    name = op.__name__
    node_cls = type(camel(name) + "Backward1", (_NoInplaceDerivative,),
                    {"__slots__": (), "op_name": name})

    def recorded(input: Tensor) -> Tensor:
        out = op(input.detach())._data
        if not needs_grad(input):
            return _make(out)
        return record(node_cls((edge(input),)), out)

    def method(self: Tensor) -> Tensor:
        return inplace(self, recorded, name + "_")
    method.__name__ = name + "_"
    tensor_method(name + "_", "arc" + name[1:] + "_")(method)


for _op in (asinh, acosh, atanh):
    _inplace_without_derivative(_op)


# -- erf family --------------------------------------------------------------------------------

_erf_object = np.frompyfunc(math.erf, 1, 1)
_erfc_object = np.frompyfunc(math.erfc, 1, 1)


def _erf_forward(a: np.ndarray) -> np.ndarray:
    # math.erf is correctly rounded in float64; NumPy has no erf of its own.
    return np.asarray(_erf_object(a.astype(np.float64)), dtype=np.float64).astype(a.dtype)


def _erfc_forward(a: np.ndarray) -> np.ndarray:
    return np.asarray(_erfc_object(a.astype(np.float64)), dtype=np.float64).astype(a.dtype)


def _erfinv_forward(a: np.ndarray) -> np.ndarray:
    """Inverse error function: Giles' single-precision start, then Newton steps on erf."""
    y = a.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        small = w < 5.0
        ws = w - 2.5
        wl = np.sqrt(np.where(small, 5.0, w)) - 3.0
        ps = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                         0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                         1.50140941], ws)
        pl = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                         0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                         2.83297682], wl)
        x = np.where(small, ps, pl) * y
        for _ in range(3):
            err = np.asarray(_erf_object(x), dtype=np.float64) - y
            x = x - err / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(y == 1, np.inf, np.where(y == -1, -np.inf, x))
        x = np.where(np.abs(y) > 1, np.nan, x)
    return x.astype(a.dtype)


@unary(_erf_forward)
def erf(ns, g, self):
    return ns.mul(ns.mul(ns.exp(ns.neg(ns.pow(self, 2))), _TWO_OVER_SQRT_PI), g)


@unary(_erfc_forward)
def erfc(ns, g, self):
    return ns.mul(ns.mul(ns.exp(ns.neg(ns.pow(self, 2))), -_TWO_OVER_SQRT_PI), g)


@unary(_erfinv_forward)
def erfinv(ns, g, result):
    return ns.mul(ns.mul(ns.exp(ns.pow(result, 2)), _SQRT_PI_OVER_TWO), g)


# -- logit --------------------------------------------------------------------------------------

class LogitBackward0(Node):
    """d logit = g / (x (1 - x)) inside [eps, 1 - eps]; outside it torch gives 0, or NaN
    outside [0, 1] when there is no eps."""

    __slots__ = ("eps",)
    saved_names = ("self",)

    def backward(self, ns, grads):
        (x,) = self.unpack(ns.graph)
        xa = ns.unwrap(x)
        lo, hi = (0.0, 1.0) if self.eps is None else (self.eps, 1.0 - self.eps)
        fill = np.asarray(np.nan if self.eps is None else 0.0, dtype=xa.dtype)
        inside = ns.div(grads[0], ns.mul(x, ns.rsub(x, 1)))
        return (ns.where(ns.constant((xa >= lo) & (xa <= hi)), inside, ns.constant(fill)),)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """torch.logit(input, eps=None): log(p / (1 - p)), p clamped to [eps, 1 - eps]."""
    a = input._data
    if a.dtype.kind in "biu":
        a = a.astype(_dt.get_default_dtype().np)
    p = a if eps is None else np.clip(a, eps, 1.0 - eps)
    with np.errstate(all="ignore"):
        out = np.log(p / (1 - p)).astype(a.dtype, copy=False)
    if not needs_grad(input):
        return _make(out)
    node = LogitBackward0((edge(input),))
    node.eps = eps
    save_values(node, (input,))
    return record(node, out)


tensor_method("logit")(logit)


@tensor_method("logit_")
def logit_(self: Tensor, eps: float | None = None) -> Tensor:
    return inplace(self, logit, "logit_", eps)


# -- rounding (zero gradient everywhere) --------------------------------------------------------

def _zero_grad(ns, g):
    return ns.zeros_like(g)


floor = unary(refusing("floor_vml_cpu", "b", np.floor), name="floor",
              to_float=False)(_zero_grad)
ceil = unary(refusing("ceil_vml_cpu", "b", np.ceil), name="ceil", to_float=False)(_zero_grad)
trunc = unary(refusing("trunc_vml_cpu", "b", np.trunc), name="trunc",
              to_float=False)(_zero_grad)
fix = trunc
tensor_method("fix")(trunc)
_round0 = unary(refusing("round_vml_cpu", "b", np.round), name="round", to_float=False,
                method=False, inplace_variant=False)(_zero_grad)


def _round_decimals_forward(decimals: int):
    def forward(a: np.ndarray) -> np.ndarray:
        return np.round(a, decimals)
    return forward


_ROUND_DECIMALS: dict = {}


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """torch.round(input, *, decimals=0): half to even, like torch."""
    if decimals == 0:
        return _round0(input)
    op = _ROUND_DECIMALS.get(decimals)
    if op is None:
        op = unary(_round_decimals_forward(decimals), name="round", node="RoundBackward1",
                   to_float=False, method=False, inplace_variant=False)(_zero_grad)
        _ROUND_DECIMALS[decimals] = op
    if input._data.dtype.kind in "biu":
        raise kernel_missing("round_cpu", input._data.dtype)
    return op(input)


formula("round", np.round, round)
tensor_method("round")(round)


@tensor_method("round_")
def round_(self: Tensor, *, decimals: int = 0) -> Tensor:
    return inplace(self, round, "round_", decimals=decimals)


@unary(refusing("frac_cpu", "biu", lambda a: a - np.trunc(a)), name="frac", to_float=False)
def frac(ns, g):
    return g


def square(input: Tensor) -> Tensor:
    """torch.square(input): input ** 2 (recorded as PowBackward0, as torch does)."""
    if input._data.dtype == np.bool_:
        input = input.to(_dt.int64)
    return pow(input, 2)


tensor_method("square")(square)


@tensor_method("square_")
def square_(self: Tensor) -> Tensor:
    return inplace(self, square, "square_")


# -- nan_to_num and predicates -----------------------------------------------------------------

def _nan_to_num_forward(nan: float, posinf: float | None, neginf: float | None):
    def forward(a: np.ndarray) -> np.ndarray:
        if a.dtype.kind not in "fc":
            return a.copy()
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    return forward


def _nan_to_num_grad(ns, g, self):
    return ns.mul(g, ns.isfinite(self))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """torch.nan_to_num(input, nan=0.0, posinf=None, neginf=None)"""
    op = unary(_nan_to_num_forward(nan, posinf, neginf), name="nan_to_num", to_float=False,
               method=False, inplace_variant=False)(_nan_to_num_grad)
    return op(input)


tensor_method("nan_to_num")(nan_to_num)


@tensor_method("nan_to_num_")
def nan_to_num_(self: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    return inplace(self, nan_to_num, "nan_to_num_", nan, posinf, neginf)


def _predicate(name: str, fn) -> Any:
    def forward(a: np.ndarray) -> np.ndarray:
        return fn(a) if a.dtype.kind in "fc" else np.full(a.shape, name == "isfinite")
    return unary(forward, name=name, to_float=False, inplace_variant=False,
                 differentiable=False)(_zero_grad)


isnan = _predicate("isnan", np.isnan)
isinf = _predicate("isinf", np.isinf)
isfinite = _predicate("isfinite", np.isfinite)
isposinf = _predicate("isposinf", np.isposinf)
isneginf = _predicate("isneginf", np.isneginf)
