"""One table of op specs that drives the generated op tests (test_ops_generated.py).

Each spec says how to call the op on a library (``tapegrad`` or ``torch`` as ``lib``),
which input shapes to try (broadcasting pairs, 0-d, empty and size-1 dims), and where the
inputs may lie (``domain``), so every op gets the same forward / gradient / second-order /
finite-difference checks without a hand-written test per op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

UNARY_SHAPES = [((),), ((3,),), ((2, 3),), ((0,),), ((1, 4),)]
BINARY_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,)), ((0, 3), (3,))]
TERNARY_SHAPES = [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((), (2,), ())]
REDUCE_SHAPES = [((2, 3, 4),), ((5,),), ((),), ((1, 3),)]
DIM_SHAPES = [((2, 3, 4),), ((5,),), ((1, 3),), ((),)]


def _away_from_zero(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x + 0.3, x - 0.3)


# A domain turns standard normal draws into valid inputs for the op.
DOMAINS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "real": lambda x: x,
    "pos": lambda x: np.abs(x) + 0.5,
    "unit": lambda x: np.tanh(x) * 0.9,
    "gt1": lambda x: np.abs(x) + 1.2,
    "nonzero": _away_from_zero,
    "prob": lambda x: 1 / (1 + np.exp(-x)) * 0.9 + 0.05,
    "notint": lambda x: np.round(x * 2) / 2 + 0.2,   # away from rounding jumps
}


@dataclass
class Spec:
    name: str
    call: Callable[..., Any]                 # call(lib, *inputs) -> Tensor
    shapes: list
    domain: str | tuple = "real"             # one per input, or one for all
    grad: bool = True                        # differentiable (float outputs)
    second: bool = True                      # also compare second derivatives
    ids: list = field(default_factory=list)

    def domain_of(self, i: int) -> str:
        return self.domain if isinstance(self.domain, str) else self.domain[i]


def _unary(name: str, domain: str = "real", method: bool = True, **kw: Any) -> list[Spec]:
    specs = [Spec(name, lambda lib, x, _n=name: getattr(lib, _n)(x), UNARY_SHAPES, domain,
                  **kw)]
    if method:
        specs.append(Spec(name + ".method", lambda lib, x, _n=name: getattr(x, _n)(),
                          UNARY_SHAPES[:3], domain, **kw))
    return specs


def _binary(name: str, domain: Any = "real", **kw: Any) -> list[Spec]:
    return [Spec(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b), BINARY_SHAPES,
                 domain, **kw),
            Spec(name + ".scalar", lambda lib, a, _n=name: getattr(lib, _n)(a, 1.5),
                 UNARY_SHAPES[:3], domain if isinstance(domain, str) else domain[0], **kw)]


def _tensors_only(name: str, domain: Any = "real", **kw: Any) -> list[Spec]:
    """A binary op whose torch signature takes only Tensors: a Python number is refused."""
    return [Spec(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b), BINARY_SHAPES,
                 domain, **kw)]


def _refuses_numbers(name: str) -> list[Spec]:
    return [Spec(name + ".scalar", lambda lib, a, _n=name: getattr(lib, _n)(a, 1.5),
                 UNARY_SHAPES[1:2]),
            Spec(name + ".scalar_first", lambda lib, a, _n=name: getattr(lib, _n)(2, a),
                 UNARY_SHAPES[1:2]),
            Spec(name + ".method_scalar", lambda lib, a, _n=name: getattr(a, _n)(1.5),
                 UNARY_SHAPES[1:2])]


UNARY = [
    *_unary("neg"), *_unary("abs", "nonzero"), *_unary("sign", second=False),
    *_unary("exp"), *_unary("exp2"), *_unary("expm1"), *_unary("log", "pos"),
    *_unary("log2", "pos"), *_unary("log10", "pos"), *_unary("log1p", "pos"),
    *_unary("sqrt", "pos"), *_unary("rsqrt", "pos"), *_unary("square"),
    *_unary("reciprocal", "nonzero"), *_unary("sin"), *_unary("cos"), *_unary("tan", "unit"),
    *_unary("asin", "unit"), *_unary("acos", "unit"), *_unary("atan"), *_unary("sinh"),
    *_unary("cosh"), *_unary("tanh"), *_unary("asinh"), *_unary("acosh", "gt1"),
    *_unary("atanh", "unit"), *_unary("sigmoid"), *_unary("logit", "prob"),
    *_unary("relu", "nonzero"), *_unary("erf"), *_unary("erfc"), *_unary("erfinv", "unit"),
    *_unary("floor", "notint"), *_unary("ceil", "notint"), *_unary("round", "notint"),
    *_unary("trunc", "notint"), *_unary("frac", "notint"), *_unary("nan_to_num"),
    Spec("round.decimals", lambda lib, x: lib.round(x * 10, decimals=1), UNARY_SHAPES[:3],
         "notint"),
    Spec("logit.eps", lambda lib, x: lib.logit(x, eps=0.2), UNARY_SHAPES[:3], "prob"),
]

BINARY = [
    *_binary("add"), *_binary("sub"), *_binary("mul"), *_binary("div", ("real", "nonzero")),
    *_binary("pow", ("pos", "real")), *_tensors_only("atan2", ("real", "nonzero")),
    *_tensors_only("maximum"), *_tensors_only("minimum"), *_tensors_only("fmax"),
    *_tensors_only("fmin"), *_tensors_only("hypot", "nonzero"),
    *_binary("remainder", ("real", "nonzero")),
    *_binary("fmod", ("real", "nonzero")),
    Spec("add.alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), BINARY_SHAPES),
    Spec("sub.alpha", lambda lib, a, b: lib.sub(a, b, alpha=-0.5), BINARY_SHAPES),
    Spec("rsub.scalar", lambda lib, a: 2.0 - a, UNARY_SHAPES[:3]),
    Spec("rsub.tensor", lambda lib, a, b: lib.rsub(a, b), BINARY_SHAPES),
    Spec("rsub.alpha", lambda lib, a, b: lib.rsub(a, b, alpha=2.0), BINARY_SHAPES[:2]),
    Spec("rdiv.scalar", lambda lib, a: 2.0 / a, UNARY_SHAPES[:3], "nonzero"),
    Spec("rpow.scalar", lambda lib, a: 2.0 ** a, UNARY_SHAPES[:3]),
    Spec("div.trunc", lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), BINARY_SHAPES,
         ("notint", "nonzero")),
    Spec("div.floor.scalar", lambda lib, a: lib.div(a, 0.5, rounding_mode="floor"),
         UNARY_SHAPES[:3], "notint"),
    Spec("true_divide", lambda lib, a, b: lib.true_divide(a, b), BINARY_SHAPES[:2],
         ("real", "nonzero")),
    Spec("clamp.tensor", lambda lib, x, lo: lib.clamp(x, lo, lo + 1.0), BINARY_SHAPES[:3]),
    Spec("clamp.tensor.min", lambda lib, x, lo: lib.clamp(x, min=lo), BINARY_SHAPES[:3]),
    Spec("clip.tensor.max", lambda lib, x, hi: x.clip(max=hi), BINARY_SHAPES[:3]),
    Spec("clamp.tensor.crossed", lambda lib, x, lo: lib.clamp(x, lo, lo - 1.0),
         BINARY_SHAPES[:3]),
    Spec("clamp.scalar", lambda lib, x: lib.clamp(x, -0.5, 0.5), UNARY_SHAPES),
    Spec("clamp.scalar.max", lambda lib, x: x.clamp(max=0.3), UNARY_SHAPES[:3]),
    Spec("clip.scalar", lambda lib, x: lib.clip(x, min=-0.2), UNARY_SHAPES[:3]),
    Spec("lerp.scalar", lambda lib, a, b: lib.lerp(a, b, 0.3), BINARY_SHAPES),
    Spec("lerp.tensor", lambda lib, a, b, w: lib.lerp(a, b, w), TERNARY_SHAPES),
    Spec("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), TERNARY_SHAPES),
    Spec("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2.0), TERNARY_SHAPES,
         ("real", "real", "nonzero")),
    Spec("where", lambda lib, a, b: lib.where(a > 0, a, b), BINARY_SHAPES),
]

# Reductions: several call forms per op (full, one dim, tuple of dims, keepdim).
_FULL = [("full", lambda f, x: f(x))]
_DIMS = [("dim0", lambda f, x: f(x, 0)), ("dim-1.keep", lambda f, x: f(x, -1, keepdim=True))]
_TUPLE = [("dims", lambda f, x: f(x, (0, -1)) if x.dim() > 1 else f(x, 0))]


def _reduce(name: str, forms: list, domain: str = "real", shapes: list = REDUCE_SHAPES,
            pick: Any = None, **kw: Any) -> list[Spec]:
    specs = []
    for label, form in forms:
        def call(lib, x, _n=name, _f=form):
            out = _f(getattr(lib, _n), x)
            return out[0] if pick is not None else out
        specs.append(Spec(f"{name}.{label}", call, shapes if label == "full" else DIM_SHAPES,
                          domain, **kw))
    return specs


REDUCTIONS = [
    *_reduce("sum", _FULL + _DIMS + _TUPLE), *_reduce("mean", _FULL + _DIMS + _TUPLE),
    *_reduce("nansum", _FULL + _DIMS), *_reduce("nanmean", _FULL + _DIMS),
    *_reduce("prod", _FULL + _DIMS), *_reduce("amax", _FULL + _DIMS + _TUPLE),
    *_reduce("amin", _FULL + _DIMS + _TUPLE), *_reduce("max", _FULL), *_reduce("min", _FULL),
    *_reduce("max", _DIMS, pick=0), *_reduce("min", _DIMS, pick=0),
    *_reduce("median", _FULL), *_reduce("median", _DIMS, pick=0),
    *_reduce("logsumexp", _DIMS + _TUPLE),
    *_reduce("var", _FULL + _DIMS + _TUPLE, shapes=DIM_SHAPES),
    *_reduce("std", _FULL + _DIMS + _TUPLE, shapes=DIM_SHAPES, domain="real"),
    *_reduce("norm", _FULL, shapes=DIM_SHAPES, domain="nonzero"),
    Spec("norm.p3.dim", lambda lib, x: lib.norm(x, 3, 0), DIM_SHAPES, "nonzero"),
    Spec("norm.p1.dim", lambda lib, x: lib.norm(x, 1, -1, True), DIM_SHAPES, "nonzero",
         second=False),
    Spec("norm.inf", lambda lib, x: lib.norm(x, float("inf")), DIM_SHAPES, "nonzero",
         second=False),
    Spec("var.correction0", lambda lib, x: lib.var(x, 0, correction=0), DIM_SHAPES),
    Spec("std.unbiased_false", lambda lib, x: lib.std(x, -1, False, True), DIM_SHAPES),
    Spec("cumsum", lambda lib, x: lib.cumsum(x, 0), DIM_SHAPES),
    Spec("cumsum.method", lambda lib, x: x.cumsum(-1), DIM_SHAPES),
    Spec("cumprod", lambda lib, x: lib.cumprod(x, -1), DIM_SHAPES, "nonzero"),
    Spec("cummax", lambda lib, x: lib.cummax(x, 0)[0], DIM_SHAPES),
    Spec("cummin", lambda lib, x: lib.cummin(x, -1)[0], DIM_SHAPES),
    Spec("sort", lambda lib, x: lib.sort(x, 0)[0], DIM_SHAPES),
    Spec("sort.descending", lambda lib, x: x.sort(-1, descending=True)[0], DIM_SHAPES),
    Spec("topk", lambda lib, x: lib.topk(x, 1, 0)[0], DIM_SHAPES),
    Spec("topk.smallest", lambda lib, x: x.topk(1, largest=False)[0], DIM_SHAPES),
    Spec("kthvalue", lambda lib, x: lib.kthvalue(x, 1, 0)[0], DIM_SHAPES),
    Spec("max.values", lambda lib, x: lib.max(x, -1, True).values, DIM_SHAPES),
    Spec("min.values", lambda lib, x: x.min(0).values, DIM_SHAPES),
    Spec("var.correction2", lambda lib, x: x.var((-1,), correction=2), DIM_SHAPES[:1]),
    Spec("std.correction0.keep", lambda lib, x: lib.std(x, -1, correction=0, keepdim=True),
         DIM_SHAPES),
    Spec("std_mean.dim", lambda lib, x: lib.std_mean(x, 0, correction=0)[0], DIM_SHAPES),
    Spec("var_mean", lambda lib, x: lib.var_mean(x, 0)[0] + lib.var_mean(x, 0)[1],
         DIM_SHAPES),
    Spec("std_mean", lambda lib, x: lib.std_mean(x)[0] * lib.std_mean(x)[1], DIM_SHAPES),
]

# Integer/bool results: compared by value and dtype, and must never require grad.
NONDIFF = [
    Spec(n, lambda lib, a, b, _n=n: getattr(lib, _n)(a, b), BINARY_SHAPES, grad=False)
    for n in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
              "isclose")
] + [
    Spec(n, lambda lib, x, _n=n: getattr(lib, _n)(x), UNARY_SHAPES, grad=False)
    for n in ("isnan", "isinf", "isfinite", "logical_not", "all", "any", "count_nonzero",
              "argsort")
] + [
    Spec(n, lambda lib, x, _n=n: getattr(lib, _n)(x), UNARY_SHAPES[:3] + UNARY_SHAPES[4:],
         grad=False)
    for n in ("argmax", "argmin")
] + [
    Spec("argmax.dim", lambda lib, x: lib.argmax(x, 0, keepdim=True), DIM_SHAPES, grad=False),
    Spec("argmin.dim", lambda lib, x: x.argmin(-1), DIM_SHAPES, grad=False),
    Spec("max.indices", lambda lib, x: lib.max(x, 0)[1], DIM_SHAPES, grad=False),
    Spec("min.indices", lambda lib, x: lib.min(x, -1, keepdim=True).indices, DIM_SHAPES,
         grad=False),
    Spec("logical_not.method", lambda lib, x: (x > 0).logical_not(), UNARY_SHAPES,
         grad=False),
    Spec("div.floor.int", lambda lib, a, b: lib.div((a * 4).long(), (b * 2).long() + 5,
                                                    rounding_mode="floor"),
         BINARY_SHAPES, ("real", "pos"), grad=False),
    Spec("remainder.int", lambda lib, a, b: (a * 4).long() % ((b * 2).long() + 5),
         BINARY_SHAPES, ("real", "pos"), grad=False),
    Spec("sort.indices", lambda lib, x: lib.sort(x, 0)[1], DIM_SHAPES, grad=False),
    Spec("topk.indices", lambda lib, x: lib.topk(x, 1)[1], DIM_SHAPES, grad=False),
    Spec("any.dim", lambda lib, x: lib.any(x > 0, 0), DIM_SHAPES, grad=False),
    Spec("all.dim", lambda lib, x: lib.all(x > -1, -1, True), DIM_SHAPES, grad=False),
    Spec("count_nonzero.dim", lambda lib, x: lib.count_nonzero(x > 0, 0), DIM_SHAPES,
         grad=False),
]

ALL_SPECS = UNARY + BINARY + REDUCTIONS

# Calls torch refuses: tapegrad must raise the same exception type with the same message.
ERRORS = [
    *(s for n in ("maximum", "minimum", "fmax", "fmin", "atan2", "arctan2", "hypot")
      for s in _refuses_numbers(n)),
    Spec("argmax.empty", lambda lib, x: lib.argmax(x), [((0,),)]),
    Spec("argmin.empty", lambda lib, x: x.argmin(), [((2, 0),)]),
    Spec("argmax.empty_dim", lambda lib, x: x.argmax(1), [((2, 0),)]),
    Spec("max.empty", lambda lib, x: lib.max(x), [((0,),)]),
    Spec("amin.empty_dim", lambda lib, x: lib.amin(x, 0), [((0, 3),)]),
    Spec("clamp.mixed_bounds", lambda lib, x, lo: lib.clamp(x, lo, 3.0), [((3,), (3,))]),
    Spec("clip.mixed_bounds", lambda lib, x, hi: lib.clip(x, -1, hi), [((3,), (3,))]),
    Spec("clamp.method.mixed_bounds", lambda lib, x, lo: x.clamp(lo, 1.0), [((3,), (3,))]),
    Spec("clip.method.mixed_bounds", lambda lib, x, hi: x.clip(2, hi), [((3,), (3,))]),
    Spec("clamp_.mixed_bounds", lambda lib, x, hi: x.clamp_(0.5, hi), [((3,), (3,))]),
    Spec("clamp.no_bounds", lambda lib, x: lib.clamp(x), [((3,),)]),
    Spec("div.bad_mode", lambda lib, a: lib.div(a, 2.0, rounding_mode="round"), [((3,),)]),
    Spec("sum.bad_dim", lambda lib, x: x.sum(2), [((2, 3),)]),
    Spec("add.broadcast", lambda lib, a, b: a + b, [((2, 3), (2,))]),
    Spec("pow.int_negative", lambda lib, a: lib.pow((a * 3).long(), -1), [((3,),)]),
    Spec("maximum.broadcast", lambda lib, a, b: lib.maximum(a, b), [((4,), (3,))]),
]

# Ops returning (values, indices) named tuples, or a plain pair: compared by repr (type
# name, field names, values, dtypes and grad_fns at once).
TUPLES = [
    Spec("max.dim", lambda lib, x: lib.max(x, 1), DIM_SHAPES[:1]),
    Spec("min.dim.keep", lambda lib, x: x.min(0, keepdim=True), DIM_SHAPES[:1]),
    Spec("median.dim", lambda lib, x: lib.median(x, -1), DIM_SHAPES[:2]),
    Spec("sort", lambda lib, x: lib.sort(x, 0, descending=True), DIM_SHAPES[:2]),
    Spec("topk", lambda lib, x: lib.topk(x, 2), DIM_SHAPES[:2]),
    Spec("kthvalue", lambda lib, x: lib.kthvalue(x, 2, 0), DIM_SHAPES[:2]),
    Spec("cummax", lambda lib, x: lib.cummax(x, 0), DIM_SHAPES[:2]),
    Spec("cummin", lambda lib, x: x.cummin(-1), DIM_SHAPES[:2]),
    Spec("var_mean", lambda lib, x: lib.var_mean(x, 1), DIM_SHAPES[:1]),
    Spec("std_mean", lambda lib, x: lib.std_mean(x, correction=0), DIM_SHAPES[:2]),
]

# Ops returning a Python bool.
BOOL_RESULTS = [
    Spec("allclose", lambda lib, a, b: lib.allclose(a, b), BINARY_SHAPES),
    Spec("allclose.self", lambda lib, a: lib.allclose(a, a + 1e-9), UNARY_SHAPES),
    Spec("allclose.method.tol", lambda lib, a, b: a.allclose(b, rtol=10.0, atol=10.0),
         BINARY_SHAPES),
    Spec("equal", lambda lib, a, b: lib.equal(a, b), BINARY_SHAPES),
    Spec("equal.self", lambda lib, a: lib.equal(a, a.clone()), UNARY_SHAPES),
    Spec("equal.method.shape", lambda lib, a: a.equal(a.reshape(-1)), UNARY_SHAPES),
]


INTEGER_DTYPES = [np.int64, np.int32, np.uint8, np.bool_]


def integer_inputs(spec: Spec, dtype: Any) -> list:
    """Small integers (or bools) of the spec's most interesting shapes."""
    rng = np.random.default_rng(0)
    shapes = spec.shapes[1] if len(spec.shapes) > 1 else spec.shapes[0]
    arrays = [np.round(rng.standard_normal(s) * 3) for s in shapes]
    return [(np.abs(a) if dtype is np.uint8 else a).astype(dtype) for a in arrays]


def integer_cases(specs: list, dtypes: list = INTEGER_DTYPES) -> list:
    """(spec, dtype) pairs: every op on integer and bool inputs."""
    import pytest
    return [pytest.param(s, dt, id=f"{s.name}-{np.dtype(dt).name}")
            for s in specs for dt in dtypes]


# (first input's dtype, the others' dtype): promotion between float widths, integers with
# floats, and 0-d tensors against dimensioned ones (which lose the promotion).
MIXED_DTYPES = [(np.float32, np.float64), (np.float64, np.float32), (np.int64, np.float32),
                (np.float32, np.int64), (np.int32, np.float64)]


def mixed_cases(specs: list) -> list:
    """(spec, shapes, dtypes) for every binary spec, on its broadcasting and 0-d shapes."""
    import pytest
    return [pytest.param(s, shp, dts, id=f"{s.name}-{'x'.join(map(str, shp))}-"
                         f"{np.dtype(dts[0]).name}-{np.dtype(dts[1]).name}")
            for s in specs if len(s.shapes) > 3 for shp in (s.shapes[1], s.shapes[3])
            for dts in MIXED_DTYPES]


def mixed_inputs(spec: Spec, shapes: tuple, dtypes: tuple) -> list:
    """Inputs in the spec's domains; integer ones rounded away from zero."""
    rng = np.random.default_rng(0)
    out = []
    for i, s in enumerate(shapes):
        a = np.asarray(DOMAINS[spec.domain_of(i)](rng.standard_normal(s)))
        dt = np.dtype(dtypes[min(i, 1)])
        out.append((np.round(a * 3) + (a >= 0) if dt.kind == "i" else a).astype(dt))
    return out


EMPTY_SHAPES = [(0,), (2, 0), (0, 3)]


def empty_cases(specs: list) -> list:
    """(spec, shape) pairs: every one-input op on empty tensors (some reductions refuse)."""
    import pytest
    return [pytest.param(s, shp, id=f"{s.name}-{'x'.join(map(str, shp))}")
            for s in specs if len(s.shapes[0]) == 1 for shp in EMPTY_SHAPES]


def cases(specs: list) -> list:
    """(spec, shapes) pairs with readable ids, for pytest parametrisation."""
    import pytest
    return [pytest.param(s, shp, id=f"{s.name}-{'x'.join(map(str, shp)) or 'scalar'}")
            for s in specs for shp in s.shapes]

# In-place variants: ``call(lib, target, *others)`` modifies ``target`` (a non-leaf copy of
# the first input) and returns it; checked for value, version bump, grad_fn and gradients.
INPLACE_BINARY_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), ()), ((), ())]


def _method_(name: str, *args: Any, **kwargs: Any) -> Callable:
    return lambda lib, x, *others: getattr(x, name)(*others, *args, **kwargs)


INPLACE = [
    *(Spec(s.name + "_", _method_(s.name + "_"), UNARY_SHAPES[:3], s.domain)
      for s in UNARY if "." not in s.name),
    *(Spec(s.name + "_", _method_(s.name + "_"), INPLACE_BINARY_SHAPES, s.domain)
      for s in BINARY if "." not in s.name and s.name not in (
          "maximum", "minimum", "fmax", "fmin", "where", "addcmul", "addcdiv")),
    *(Spec(n + "_.scalar", _method_(n + "_", 1.5), UNARY_SHAPES[:3], "pos" if n == "pow"
           else "real") for n in ("add", "sub", "mul", "div", "pow", "remainder", "fmod")),
    Spec("add_.alpha", _method_("add_", alpha=-2.0), INPLACE_BINARY_SHAPES),
    Spec("div_.trunc", _method_("div_", rounding_mode="trunc"), INPLACE_BINARY_SHAPES,
         ("notint", "nonzero")),
    Spec("lerp_", _method_("lerp_", 0.25), INPLACE_BINARY_SHAPES),
    Spec("lerp_.tensor", _method_("lerp_"), [((2, 3), (3,), (2, 1))]),
    Spec("addcmul_", _method_("addcmul_", value=-1.5), [((2, 3), (3,), (2, 1))]),
    Spec("addcdiv_", _method_("addcdiv_"), [((2, 3), (3,), (2, 1))],
         ("real", "real", "nonzero")),
    Spec("clamp_.scalar", _method_("clamp_", -0.5, 0.5), UNARY_SHAPES[:3]),
    Spec("clip_.tensor", lambda lib, x, lo: x.clip_(lo, lo + 1.0), INPLACE_BINARY_SHAPES[:2]),
    Spec("square_", _method_("square_"), UNARY_SHAPES[:3]),
    Spec("negative_", _method_("negative_"), UNARY_SHAPES[:3]),
    Spec("floor_divide_", _method_("floor_divide_"), INPLACE_BINARY_SHAPES, "nonzero"),
    Spec("floor_divide_.scalar", _method_("floor_divide_", 0.5), UNARY_SHAPES[:3]),
    Spec("arctan2_", _method_("arctan2_"), INPLACE_BINARY_SHAPES, ("real", "nonzero")),
    Spec("absolute_", _method_("absolute_"), UNARY_SHAPES[:3], "nonzero"),
    *(Spec(n + "_", _method_(n + "_"), INPLACE_BINARY_SHAPES)
      for n in ("eq", "ne", "lt", "le", "gt", "ge")),
    *(Spec(n + "_.scalar", _method_(n + "_", 0.1), UNARY_SHAPES[:3])
      for n in ("eq", "ne", "lt", "le", "gt", "ge")),
    # Not differentiable: torch bumps the version and leaves the history as it was.
    *(Spec(n + "_", _method_(n + "_"), INPLACE_BINARY_SHAPES)
      for n in ("logical_and", "logical_or", "logical_xor")),
    Spec("logical_not_", _method_("logical_not_"), UNARY_SHAPES[:3]),
]

# Recorded, but with no derivative: forward, grad_fn name and the error backward raises
# must match torch's.
NO_DERIVATIVE = [
    Spec("floor_divide", lambda lib, a, b: lib.floor_divide(a, b), BINARY_SHAPES, "nonzero"),
    Spec("floor_divide.scalar", lambda lib, a: a // 0.5, UNARY_SHAPES[:3]),
    Spec("floor_divide.rscalar", lambda lib, a: 3 // a, UNARY_SHAPES[:3], "nonzero"),
]

# In place, these must be refused as torch refuses them.
INPLACE_ERRORS = [
    Spec("add_.grows", _method_("add_"), [((2, 1), (1, 3))]),
    Spec("mul_.grows", _method_("mul_"), [((3,), (2, 3))]),
    Spec("atan2_.scalar", _method_("atan2_", 1.5), [((3,),)]),
    Spec("arctan2_.scalar", _method_("arctan2_", 1.5), [((3,),)]),
    Spec("hypot_.scalar", _method_("hypot_", 2), [((3,),)]),
]


# Non-differentiable and singular points, where the value and the (sub)gradient torch
# picks are conventions: fixed inputs instead of random draws.
@dataclass
class Point:
    name: str
    call: Callable[..., Any]
    inputs: list                 # the input arrays (float64)
    second: bool = True


def _pts(*rows: Any) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


NAN, INF = float("nan"), float("inf")
SINGULAR = [
    Point("relu.0", lambda lib, x: lib.relu(x), [_pts(-1.0, 0.0, 2.0)]),
    Point("abs.0", lambda lib, x: x.abs(), [_pts(-1.0, 0.0, 2.0)]),
    Point("sign.0", lambda lib, x: lib.sign(x), [_pts(-1.0, 0.0, 2.0)]),
    Point("sqrt.0", lambda lib, x: lib.sqrt(x), [_pts(0.0, 4.0)]),
    Point("rsqrt.0", lambda lib, x: lib.rsqrt(x), [_pts(0.0, 4.0)]),
    Point("log.0", lambda lib, x: lib.log(x), [_pts(0.0, 1.0)]),
    Point("reciprocal.0", lambda lib, x: lib.reciprocal(x), [_pts(0.0, -2.0)]),
    # Second derivatives at these points are NaN in torch (0 * inf inside its formulas),
    # finite in tapegrad: compared to first order only.
    Point("div.by0", lambda lib, a, b: a / b, [_pts(1.0, 0.0, -1.0), _pts(0.0, 0.0, 0.0)],
          second=False),
    Point("pow.0", lambda lib, x: x ** 0.5, [_pts(0.0, 1.0)]),
    Point("pow.0.2", lambda lib, x: x ** 2, [_pts(0.0, -1.0)]),
    Point("pow.exp0", lambda lib, x: lib.pow(x, 0), [_pts(0.0, -3.0)]),
    Point("pow.tensor.0", lambda lib, a, b: a ** b, [_pts(0.0, 0.0, 2.0), _pts(0.0, 2.0, 0.0)]),
    Point("rpow.base0", lambda lib, x: 0.0 ** x, [_pts(0.0, 1.0, 2.0)]),
    Point("atan2.origin", lambda lib, a, b: lib.atan2(a, b), [_pts(0.0, 1.0), _pts(0.0, 0.0)],
          second=False),
    Point("hypot.origin", lambda lib, a, b: lib.hypot(a, b), [_pts(0.0, 3.0), _pts(0.0, 4.0)]),
    Point("floor.int", lambda lib, x: lib.floor(x), [_pts(-1.0, 0.0, 2.0)]),
    Point("round.half", lambda lib, x: lib.round(x), [_pts(-2.5, -0.5, 0.5, 1.5, 2.5)]),
    Point("frac.neg", lambda lib, x: lib.frac(x), [_pts(-1.25, 1.75, -2.0)]),
    Point("remainder.neg", lambda lib, a, b: lib.remainder(a, b),
          [_pts(-3.0, 3.0, -3.5, 4.0), _pts(2.0, -2.0, 2.0, 2.0)]),
    Point("fmod.neg", lambda lib, a, b: lib.fmod(a, b),
          [_pts(-3.0, 3.0, -3.5, 4.0), _pts(2.0, -2.0, 2.0, 2.0)]),
    Point("div.floor.neg", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
          [_pts(-3.0, 3.0, -4.0), _pts(2.0, -2.0, 2.0)]),
    Point("logit.ends", lambda lib, x: lib.logit(x), [_pts(0.0, 0.5, 1.0)]),
    Point("logit.outside", lambda lib, x: lib.logit(x), [_pts(-0.5, 0.25, 1.5)]),
    Point("logit.eps.bounds", lambda lib, x: x.logit(0.25),
          [_pts(-0.5, 0.1, 0.25, 0.5, 0.75, 0.9, 1.5)]),
    Point("nan_to_num", lambda lib, x: lib.nan_to_num(x, nan=0.5, posinf=9.0),
          [_pts(NAN, INF, -INF, 1.0)]),
    Point("max.ties", lambda lib, x: lib.max(x), [_pts(1.0, 3.0, 3.0, 2.0)]),
    Point("min.ties", lambda lib, x: x.min(), [_pts(1.0, 3.0, 1.0, 1.0)]),
    Point("max.nan", lambda lib, x: lib.max(x), [_pts(1.0, NAN, 3.0)]),
    Point("max.dim.ties", lambda lib, x: lib.max(x, 1).values, [_pts([1.0, 3.0, 3.0],
                                                                     [2.0, 2.0, 0.0])]),
    Point("max.dim.ties.indices", lambda lib, x: lib.max(x, 1).indices.double(),
          [_pts([1.0, 3.0, 3.0], [2.0, 2.0, 0.0])]),
    Point("amax.ties", lambda lib, x: lib.amax(x, 1), [_pts([1.0, 3.0, 3.0],
                                                           [2.0, 2.0, 2.0])]),
    Point("amin.ties.all", lambda lib, x: lib.amin(x, (0, 1)), [_pts([1.0, 3.0], [1.0, 1.0])]),
    Point("argmax.ties", lambda lib, x: lib.argmax(x, 1).double(),
          [_pts([1.0, 3.0, 3.0], [2.0, 2.0, 0.0])]),
    Point("median.ties", lambda lib, x: lib.median(x), [_pts(1.0, 2.0, 2.0, 5.0)]),
    Point("maximum.ties", lambda lib, a, b: lib.maximum(a, b),
          [_pts(1.0, 2.0, 3.0), _pts(1.0, 3.0, 2.0)]),
    Point("minimum.ties", lambda lib, a, b: lib.minimum(a, b),
          [_pts(1.0, 2.0, 3.0), _pts(1.0, 3.0, 2.0)]),
    Point("maximum.nan", lambda lib, a, b: lib.maximum(a, b), [_pts(NAN, 2.0), _pts(1.0, NAN)]),
    Point("fmax.ties.nan", lambda lib, a, b: lib.fmax(a, b),
          [_pts(1.0, NAN, 2.0), _pts(1.0, 2.0, NAN)]),
    Point("fmin.ties.nan", lambda lib, a, b: lib.fmin(a, b),
          [_pts(1.0, NAN, 2.0), _pts(1.0, 2.0, NAN)]),
    Point("clamp.bounds", lambda lib, x: lib.clamp(x, -0.5, 0.5),
          [_pts(-1.0, -0.5, 0.0, 0.5, 1.0)]),
    Point("clamp.min.bound", lambda lib, x: x.clamp(min=0.0), [_pts(-1.0, 0.0, 1.0)]),
    Point("clamp.tensor.ties", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [
        _pts(*(v for v in (0.0, 1.0, 2.0) for _ in range(9))),
        _pts(*(v for _ in range(3) for v in (0.0, 1.0, 2.0) for _ in range(3))),
        _pts(*(v for _ in range(9) for v in (0.0, 1.0, 2.0)))]),
    Point("prod.zero", lambda lib, x: lib.prod(x), [_pts(2.0, 0.0, 3.0)]),
    Point("prod.two_zeros", lambda lib, x: lib.prod(x), [_pts(2.0, 0.0, 0.0)]),
    Point("prod.dim.zero", lambda lib, x: lib.prod(x, 1), [_pts([2.0, 0.0, 3.0],
                                                               [0.0, 0.0, 1.0])]),
    Point("cumprod.zero", lambda lib, x: lib.cumprod(x, 0), [_pts(2.0, 0.0, 3.0, 0.0)]),
    Point("norm.zero", lambda lib, x: lib.norm(x), [_pts(0.0, 0.0, 0.0)], second=False),
    Point("std.constant", lambda lib, x: lib.std(x), [_pts(2.0, 2.0, 2.0)]),
    Point("var.single", lambda lib, x: lib.var(x, correction=0), [_pts(2.0)]),
    Point("logsumexp.neginf", lambda lib, x: lib.logsumexp(x, 0), [_pts(-INF, 0.0)]),
    Point("nansum.nan", lambda lib, x: lib.nansum(x), [_pts(1.0, NAN, 2.0)]),
    Point("nanmean.nan", lambda lib, x: lib.nanmean(x, 0), [_pts(1.0, NAN, 2.0)]),
    Point("where.nan_branch", lambda lib, a, b: lib.where(a > 0, a, lib.log(b)),
          [_pts(1.0, -1.0), _pts(-1.0, 2.0)]),
    *(Point(n + ".nonfinite", lambda lib, x, _n=n: getattr(lib, _n)(x),
            [_pts(NAN, INF, -INF, 0.0, -1.5)]) for n in ("isnan", "isinf", "isfinite")),
    Point("isclose.nan", lambda lib, a, b: lib.isclose(a, b, equal_nan=True),
          [_pts(NAN, INF, 1.0, 1.0), _pts(NAN, INF, 1.0 + 1e-9, 1.1)]),
    Point("logical.zeros", lambda lib, a, b: lib.logical_xor(a, b) | lib.logical_not(a),
          [_pts(0.0, 0.0, 2.0, -1.0), _pts(0.0, 3.0, 0.0, NAN)]),
    Point("compare.ties", lambda lib, a, b: (a <= b) & (a >= b) & ~(a != b),
          [_pts(1.0, 2.0, NAN), _pts(1.0, 3.0, NAN)]),
    Point("sigmoid.tails", lambda lib, x: lib.sigmoid(x), [_pts(-800.0, 0.0, 800.0)]),
    Point("tanh.tails", lambda lib, x: lib.tanh(x), [_pts(-400.0, 400.0)]),
]
