"""Forward-mode AD (``autograd.forward_ad``) against torch: every op's JVP, the API's
errors and reprs, in-place ops and views, custom Function ``jvp``, forward-over-reverse."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_ops_table import SPECS
from torch_compare import to_numpy

import tapegrad as tg
from tapegrad.ops import binary_math, pointwise, reduction, reductions_extra, unary_math
from tapegrad.ops.define import BinaryNode, UnaryNode

torch = pytest.importorskip("torch")
fw_t = torch.autograd.forward_ad
fw_g = tg.autograd.forward_ad

RNG = np.random.default_rng(7)


def _np(t: Any) -> np.ndarray | None:
    return None if t is None else to_numpy(t)


def jvp_of(T: Any, call: Callable, primals: list, tangents: list) -> list:
    """[(primal, tangent)] of each output of ``call(T, *duals)``, as arrays."""
    fw = fw_t if T is torch else fw_g
    with fw.dual_level():
        duals = [fw.make_dual(T.tensor(p, dtype=T.float64), T.tensor(t, dtype=T.float64))
                 if t is not None else T.tensor(p, dtype=T.float64)
                 for p, t in zip(primals, tangents)]
        out = call(T, *duals)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return [(_np(fw.unpack_dual(o).primal), _np(fw.unpack_dual(o).tangent)) for o in outs]


def finite_difference_jvp(call: Callable, primals: list, tangents: list) -> list:
    """Central differences of each output along the tangents (tapegrad, no forward mode)."""
    eps = 1e-6

    def at(sign: float) -> list:
        xs = [tg.tensor(p + sign * eps * t if t is not None else p, dtype=tg.float64)
              for p, t in zip(primals, tangents)]
        out = call(tg, *xs)
        return [_np(o) for o in (out if isinstance(out, (tuple, list)) else [out])]

    return [(up - down) / (2 * eps) if up.dtype.kind == "f" else None
            for up, down in zip(at(1.0), at(-1.0))]


def check_jvp(call: Callable, primals: list, tangents: list | None = None) -> None:
    """The JVP matches torch's; where torch has no forward formula tapegrad raises torch's
    error, and where torch silently gives no tangent it matches finite differences."""
    if tangents is None:
        tangents = [RNG.standard_normal(np.shape(p)) for p in primals]
    try:
        expected = jvp_of(torch, call, primals, tangents)
    except NotImplementedError as torch_error:  # "Trying to use forward AD with ... "
        with pytest.raises(NotImplementedError) as info:
            jvp_of(tg, call, primals, tangents)
        assert str(info.value) == str(torch_error)
        return
    got = jvp_of(tg, call, primals, tangents)
    assert len(got) == len(expected)
    numeric = None
    for k, ((gp, gt), (tp, tt)) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(gp, tp, rtol=1e-7, atol=1e-9)
        if tt is None and gt is not None:
            numeric = numeric or finite_difference_jvp(call, primals, tangents)
            tt = numeric[k]
        if tt is None or not np.any(tt):
            assert gt is None or not np.any(gt)
        else:
            np.testing.assert_allclose(gt, tt, rtol=1e-6, atol=1e-7)


# -- the linear-algebra, shape and indexing table of test_ops_table ----------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_table_op_jvp_matches_torch(spec: Any) -> None:
    check_jvp(spec.call, spec.inputs)


# -- every elementwise op defined with ``unary`` / ``binary`` -----------------------------------


def _defined_ops(node_type: type) -> dict:
    """Public name -> op, for every op of these modules defined with ``unary``/``binary``."""
    ops = {}
    for module in (pointwise, unary_math, binary_math):
        for name, fn in vars(module).items():
            cls = getattr(fn, "node_class", None)
            if isinstance(cls, type) and issubclass(cls, node_type):
                ops[name.lstrip("_")] = fn
    return ops


def _accepts_float(name: str, arity: int) -> bool:
    fn = getattr(torch, name, None)
    if fn is None:
        return False
    try:
        out = fn(*[torch.ones(2, dtype=torch.float64)] * arity)
    except (RuntimeError, TypeError):
        return False
    return out.is_floating_point()


UNARY = sorted(n for n in _defined_ops(UnaryNode) if _accepts_float(n, 1))
BINARY = sorted(n for n in _defined_ops(BinaryNode) if _accepts_float(n, 2))
UNIT = RNG.uniform(0.2, 0.8, (2, 3))        # inside every unary op's domain but acosh's


@pytest.mark.parametrize("name", UNARY)
def test_unary_op_jvp_matches_torch(name: str) -> None:
    x = UNIT + 1.0 if name in ("acosh", "arccosh") else UNIT
    check_jvp(lambda T, a: getattr(T, name)(a), [x])


@pytest.mark.parametrize("name", BINARY)
def test_binary_op_jvp_matches_torch_with_broadcasting(name: str) -> None:
    a, b = RNG.uniform(0.5, 1.5, (2, 3)), RNG.uniform(0.5, 1.5, (3,))
    check_jvp(lambda T, x, y: getattr(T, name)(x, y), [a, b])
    check_jvp(lambda T, x, y: getattr(T, name)(x, y), [a, b], [None, RNG.standard_normal(3)])
    try:
        getattr(torch, name)(torch.ones(1), 1.5)
    except TypeError:                       # takes no Python scalar in torch either
        return
    check_jvp(lambda T, x: getattr(T, name)(x, 1.5), [a])


# Elementwise ops written out by hand (several overloads, extra arguments) and reductions.
POS = RNG.uniform(0.5, 1.5, (2, 3))
X = RNG.standard_normal((2, 3))
V = RNG.uniform(0.5, 1.5, (3,))
CALLS: dict[str, list] = {
    "add": [(lambda T, a, b: T.add(a, b, alpha=2.0), [X, V])],
    "sub": [(lambda T, a, b: T.sub(a, b, alpha=0.5), [X, V])],
    "rsub": [(lambda T, a, b: T.rsub(a, b), [X, V]), (lambda T, a: 1 - a, [X])],
    "div": [(lambda T, a, b: T.div(a, b), [X, V]), (lambda T, a: 2.0 / a, [POS]),
            (lambda T, a, b: T.div(a, b, rounding_mode="floor"), [X, V])],
    "true_divide": [(lambda T, a, b: T.true_divide(a, b), [X, V])],
    "pow": [(lambda T, a, b: T.pow(a, b), [POS, V]), (lambda T, a: a ** 2.5, [POS]),
            (lambda T, a: 2.0 ** a, [X])],
    "clamp": [(lambda T, a: T.clamp(a, -0.3, 0.4), [X]),
              (lambda T, a, lo: T.clamp(a, min=lo), [X, V - 1.0])],
    "clip": [(lambda T, a: T.clip(a, max=0.1), [X])],
    "where": [(lambda T, a, b: T.where(a > 0, a, b), [X, V])],
    "logit": [(lambda T, a: T.logit(a), [UNIT])],
    "nan_to_num": [(lambda T, a: T.nan_to_num(a), [X])],
    "round": [(lambda T, a: T.round(a, decimals=1), [X])],
    "square": [(lambda T, a: T.square(a), [X])],
    "addcdiv": [(lambda T, a, b, c: T.addcdiv(a, b, c, value=0.5), [X, X, POS])],
    "addcmul": [(lambda T, a, b, c: T.addcmul(a, b, c, value=2.0), [X, V, X])],
    "lerp": [(lambda T, a, b: T.lerp(a, b, 0.3), [X, V]),
             (lambda T, a, b, w: T.lerp(a, b, w), [X, V, UNIT])],
    "fmod": [(lambda T, a, b: T.fmod(a, b), [X, V]), (lambda T, a: T.fmod(a, 0.7), [X])],
    "remainder": [(lambda T, a, b: T.remainder(a, b), [X, V])],
    "floor_divide": [(lambda T, a, b: T.floor_divide(a, b), [X, V])],
    "sum": [(lambda T, a: a.sum(), [X]), (lambda T, a: a.sum(1, keepdim=True), [X])],
    "mean": [(lambda T, a: a.mean(), [X]), (lambda T, a: a.mean((0, 1)), [X])],
    "prod": [(lambda T, a: a.prod(), [X]), (lambda T, a: a.prod(1), [X])],
    "amax": [(lambda T, a: a.amax(1), [X])],
    "amin": [(lambda T, a: T.amin(a, 0, keepdim=True), [X])],
    "max": [(lambda T, a: a.max(), [X]), (lambda T, a: a.max(1), [X])],
    "min": [(lambda T, a: a.min(), [X]), (lambda T, a: T.min(a, 0, keepdim=True), [X])],
    "median": [(lambda T, a: a.median(), [X]), (lambda T, a: a.median(1), [X])],
    "kthvalue": [(lambda T, a: a.kthvalue(2, 1), [X])],
    "sort": [(lambda T, a: a.sort(1, descending=True), [X])],
    "topk": [(lambda T, a: a.topk(2, 1), [X])],
    "cummax": [(lambda T, a: a.cummax(1), [X])],
    "cummin": [(lambda T, a: T.cummin(a, 0), [X])],
    "cumsum": [(lambda T, a: a.cumsum(1), [X])],
    "cumprod": [(lambda T, a: a.cumprod(1), [X])],
    "logsumexp": [(lambda T, a: a.logsumexp(1), [X])],
    "norm": [(lambda T, a: a.norm(), [X]), (lambda T, a: T.norm(a, 1, 1), [X])],
    "vector_norm": [(lambda T, a: T.linalg.vector_norm(a, 3, 1), [X])],
    "var": [(lambda T, a: a.var(1), [X]), (lambda T, a: T.var(a, correction=0), [X])],
    "std": [(lambda T, a: a.std(), [X])],
    "var_mean": [(lambda T, a: T.var_mean(a, 1), [X])],
    "std_mean": [(lambda T, a: T.std_mean(a, 0), [X])],
    "nansum": [(lambda T, a: T.nansum(a, 1), [X])],
    "nanmean": [(lambda T, a: T.nanmean(a), [X])],
}
# Public functions of these modules with no tangent to check (integer or bool results).
NO_TANGENT = {"all", "any", "argmax", "argmin", "argsort", "count_nonzero", "allclose",
              "equal", "isclose"}
CASES = [(name, i, call, inputs) for name, calls in CALLS.items()
         for i, (call, inputs) in enumerate(calls)]


@pytest.mark.parametrize("name,i,call,inputs", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_pointwise_and_reduction_jvp_matches_torch(name: str, i: int, call: Callable,
                                                   inputs: list) -> None:
    check_jvp(call, inputs)


def test_every_public_op_of_the_elementwise_and_reduction_modules_is_checked() -> None:
    covered = set(CALLS) | NO_TANGENT | set(_defined_ops(UnaryNode)) | set(
        _defined_ops(BinaryNode))
    for module in (pointwise, unary_math, binary_math, reduction, reductions_extra):
        public = {n for n, f in vars(module).items()
                  if inspect.isfunction(f) and not n.startswith("_") and not n.endswith("_")
                  and f.__module__ in (module.__name__, "tapegrad.ops.define")
                  and (hasattr(tg, n) or hasattr(tg.Tensor, n))     # ops, not helpers
                  and n not in {"binary", "unary", "formula", "record", "edge", "inplace",
                                "needs_grad", "tensor_method", "as_tensor_arg", "record_many",
                                "save_values", "wrap_dim", "wrap_dims", "mark_view"}}
        assert public <= covered, public - covered


def test_nn_ops_jvp_matches_torch() -> None:
    check_jvp(lambda T, a: T.nn.functional.softmax(a, 1), [X])
    check_jvp(lambda T, a: T.nn.functional.log_softmax(a, 0), [X])
    check_jvp(lambda T, x, w, b: T.nn.functional.linear(x, w, b),
              [X, RNG.standard_normal((4, 3)), RNG.standard_normal(4)])
    check_jvp(lambda T, x, w: T.nn.functional.conv2d(x, w, padding=1),
              [RNG.standard_normal((1, 2, 4, 4)), RNG.standard_normal((3, 2, 3, 3))])


# -- the API: reprs, levels, errors -------------------------------------------------------------


def _both(fn: Callable) -> tuple:
    """(torch's, tapegrad's) result of ``fn(T, fw)``: a value or (exception type, text)."""
    results = []
    for T, fw in ((torch, fw_t), (tg, fw_g)):
        try:
            results.append(fn(T, fw))
        except Exception as e:           # noqa: BLE001  (compared with torch's)
            results.append((type(e).__name__, str(e)))
    return tuple(results)


def _in_level(fn: Callable) -> Callable:
    def run(T: Any, fw: Any) -> Any:
        with fw.dual_level():
            return fn(T, fw)
    return run


REPRS = {
    "vector": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.]), T.tensor([1., 0.]))),
    "scalar": lambda T, fw: str(fw.make_dual(T.tensor(3.), T.tensor(2.))),
    "float64": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.], dtype=T.float64),
                                               T.tensor([1., 0.], dtype=T.float64))),
    "requires_grad": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.], requires_grad=True),
                                                     T.tensor([1., 0.]))),
    "sin": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.]), T.tensor([1., 0.])).sin()),
    "unpacked": lambda T, fw: repr(fw.unpack_dual(
        fw.make_dual(T.tensor([1., 2.]), T.tensor([3., 4.])) * 2)),
    "not_dual": lambda T, fw: repr(fw.unpack_dual(T.tensor([1., 2.]))),
    "integer_result": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.]),
                                                      T.tensor([1., 0.])).argmax()),
    "no_grad": lambda T, fw: repr(_no_grad_square(T, fw)),
    "detach": lambda T, fw: repr(fw.make_dual(T.tensor([1., 2.]), T.tensor([1., 0.])).detach()),
}


def _no_grad_square(T: Any, fw: Any) -> Any:
    d = fw.make_dual(T.tensor([1., 2.]), T.tensor([1., 0.]))
    with T.no_grad():
        return d * d


@pytest.mark.parametrize("name", REPRS)
def test_dual_tensor_reprs_match_torch(name: str) -> None:
    expected, got = _both(_in_level(REPRS[name]))
    assert got == expected


ERRORS = {
    "no_level": lambda T, fw: fw.make_dual(T.ones(2), T.ones(2)),
    "size": _in_level(lambda T, fw: fw.make_dual(T.ones(2), T.ones(3))),
    "int_primal": _in_level(lambda T, fw: fw.make_dual(T.tensor([1, 2]), T.ones(2))),
    "int_tangent": _in_level(lambda T, fw: fw.make_dual(T.ones(2), T.tensor([1, 2]))),
    "bad_level": _in_level(lambda T, fw: fw.make_dual(T.ones(2), T.ones(2), level=5)),
    "bad_unpack_level": _in_level(lambda T, fw: fw.unpack_dual(
        fw.make_dual(T.ones(2), T.ones(2)), level=5)),
    "nested": _in_level(lambda T, fw: fw.enter_dual_level()),
    "already_dual": _in_level(lambda T, fw: fw.make_dual(
        fw.make_dual(T.ones(2), T.ones(2)), T.ones(2))),
    "not_a_tensor": _in_level(lambda T, fw: fw.make_dual(1.0, T.ones(2))),
    "exit_without_level": lambda T, fw: fw.exit_dual_level(),
    "exit_other_level": _in_level(lambda T, fw: fw.exit_dual_level(level=3)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name: str) -> None:
    expected, got = _both(ERRORS[name])
    assert isinstance(expected, tuple)
    assert got == expected


def _levels_and_tangent_lifetime(T: Any, fw: Any) -> tuple:
    t = T.tensor([1., 0.])
    level = fw.enter_dual_level()
    d = fw.make_dual(T.tensor([1., 2.]), t)
    same = fw.unpack_dual(d).tangent is t
    fw.exit_dual_level()
    after = fw.unpack_dual(d)
    again = fw.enter_dual_level()
    fw.exit_dual_level(level=again)
    return level, same, repr(after), repr(d), again, fw.UnpackedDualTensor._fields


def _primal_passes_gradients_through(T: Any, fw: Any) -> tuple:
    x = T.tensor([1., 2.], requires_grad=True)
    with fw.dual_level():
        primal = fw.unpack_dual(fw.make_dual(x, T.tensor([1., 0.]))).primal
        (primal * 3).sum().backward()
    return repr(primal), repr(x.grad)


def _training_step_in_a_level(T: Any, fw: Any) -> tuple:
    x = T.tensor([1., 2.], requires_grad=True)
    with fw.dual_level():
        y = (fw.make_dual(x, T.tensor([1., 0.5])) ** 3).sum()
        y.backward()
        return repr(x.grad), repr(fw.unpack_dual(y).tangent.detach())


def _dtype_mismatched_tangent_kept_as_is(T: Any, fw: Any) -> str:
    with fw.dual_level():
        return repr(fw.unpack_dual(fw.make_dual(T.ones(2), T.ones(2, dtype=T.float64))))


BEHAVIOURS = [_levels_and_tangent_lifetime, _primal_passes_gradients_through,
              _training_step_in_a_level, _dtype_mismatched_tangent_kept_as_is]


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=[b.__name__[1:] for b in BEHAVIOURS])
def test_behaviour_matches_torch(behaviour: Callable) -> None:
    expected, got = _both(behaviour)
    assert got == expected


# -- in-place ops and views ---------------------------------------------------------------------


def _inplace_and_views(T: Any, fw: Any) -> list:
    d = fw.make_dual(T.tensor([1., 2., 3.]), T.tensor([1., 0., 2.]))
    b = d.clone()
    v = b[1:]
    v.mul_(5)                                   # through a view: the base's tangent changes
    b.add_(d)                                   # on the base: the view's tangent changes
    y = T.zeros(4)
    y[1:].copy_(d)                              # a non-dual base becomes dual
    z = T.zeros(3)
    z.add_(d.exp())
    w = d.clone()
    w.zero_()
    r = d.unsqueeze(0).expand(2, 3).t()
    return [repr(x) for x in (b, v, y, z, w, r)]


def test_inplace_ops_and_views_propagate_tangents_as_torch() -> None:
    expected, got = _both(_in_level(_inplace_and_views))
    assert got == expected


def _views_made_before_the_base_was_dual(T: Any, fw: Any) -> list:
    m = T.zeros(2, 3)
    views = [m[1:], m.t(), m.view(6), m.reshape(3, 2), m.diagonal(), m[:, 1:][1:].t()]
    before = [fw.unpack_dual(v).tangent for v in views]          # None: m is not dual yet
    m.copy_(fw.make_dual(T.ones(2, 3), T.arange(6.).reshape(2, 3)))
    seen = [fw.unpack_dual(v).tangent for v in views]
    ops = [fw.unpack_dual(v.sin() * v).tangent for v in views]
    m.mul_(fw.make_dual(T.full((2, 3), 2.), T.ones(2, 3)))      # in place through the base
    again = [fw.unpack_dual(v.exp()).tangent for v in views]
    views[0].add_(fw.make_dual(T.ones(3), T.full((3,), 7.)))     # in place through a view
    return [repr(x) for x in (before, seen, ops, again, m, views[1], views[5])]


def _sibling_view_written_in_place(T: Any, fw: Any) -> list:
    z = T.zeros(4)
    w = z[2:]
    z[:2].copy_(fw.make_dual(T.ones(2), T.full((2,), 5.)))     # the base becomes dual
    seen = fw.unpack_dual(w).tangent
    w.add_(fw.make_dual(T.ones(2), T.full((2,), 7.)))
    return [repr(x) for x in (seen, w, z)]


def _primals_never_take_a_later_tangent(T: Any, fw: Any) -> list:
    y = T.zeros(2)
    p = fw.unpack_dual(y).primal
    q = p[:1]
    y.copy_(fw.make_dual(T.ones(2), T.full((2,), 3.)))
    d = fw.make_dual(T.ones(2), T.full((2,), 4.))
    dp = fw.unpack_dual(d).primal
    return [repr(x) for x in (p, q, y, dp, dp[1:], fw.unpack_dual(dp * 2))]


@pytest.mark.parametrize("case", [_views_made_before_the_base_was_dual,
                                  _sibling_view_written_in_place,
                                  _primals_never_take_a_later_tangent],
                         ids=lambda f: f.__name__[1:])
def test_views_see_the_tangent_their_base_gets_later_as_torch(case: Callable) -> None:
    expected, got = _both(_in_level(case))
    assert got == expected


# -- custom Function ----------------------------------------------------------------------------


def _functions(T: Any) -> tuple:
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, k: float) -> Any:
            ctx.save_for_forward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            raise AssertionError("backward is not used by forward mode")

        @staticmethod
        def jvp(ctx: Any, x_t: Any, k_t: Any) -> Any:
            (x,) = ctx.saved_tensors
            assert k_t is None
            return 3 * x ** 2 * ctx.k * x_t

    class Plain(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    class Seen(T.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any) -> Any:
            fw = fw_t if T is torch else fw_g
            ctx.seen = fw.unpack_dual(x).tangent
            return x + y

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g, g

        @staticmethod
        def jvp(ctx: Any, x_t: Any, y_t: Any) -> Any:
            return x_t + 10 * y_t + (0 if ctx.seen is None else 100)

    return Cube, Plain, Seen


def test_custom_function_jvp_matches_torch() -> None:
    def run(T: Any, fw: Any) -> list:
        cube, plain, seen = _functions(T)
        d = fw.make_dual(T.tensor([1., 2.]), T.tensor([1., 0.5]))
        out = [repr(cube.apply(d, 2.0)), repr(seen.apply(d, T.ones(2))),
               repr(plain.apply(T.ones(2)))]
        try:
            plain.apply(d)
        except NotImplementedError as e:
            out.append(str(e))
        return out
    expected, got = _both(_in_level(run))
    assert got == expected


# -- forward-over-reverse, reverse-over-forward, jacfwd --------------------------------------


def _f(T: Any, x: Any) -> Any:
    return (x.sin() * x.exp()).sum() + (x @ x.flip(0)) ** 2 + x.prod().tanh()


def _hvp_setup() -> tuple:
    """(x, v, H v by reverse-over-reverse)."""
    p, v = RNG.standard_normal(4), RNG.standard_normal(4)
    x = tg.tensor(p, requires_grad=True)
    (g,) = tg.autograd.grad(_f(tg, x), x, create_graph=True)
    (rr,) = tg.autograd.grad(g, x, tg.tensor(v))
    return x, tg.tensor(v), _np(rr)


def test_forward_over_reverse_hvp_matches_reverse_over_reverse_and_torch() -> None:
    x, v, rr = _hvp_setup()
    with fw_g.dual_level():
        d = fw_g.make_dual(x, v)
        (g_dual,) = tg.autograd.grad(_f(tg, d), d, create_graph=True)
        fr = _np(fw_g.unpack_dual(g_dual).tangent)
    np.testing.assert_allclose(fr, rr, rtol=1e-10)
    xt = torch.tensor(_np(x), requires_grad=True)
    with fw_t.dual_level():
        dt = fw_t.make_dual(xt, torch.tensor(_np(v)))
        (gt,) = torch.autograd.grad(_f(torch, dt), dt, create_graph=True)
        np.testing.assert_allclose(fr, _np(fw_t.unpack_dual(gt).tangent), rtol=1e-10)


def test_reverse_over_forward_differentiates_the_tangent() -> None:
    x, v, rr = _hvp_setup()
    with fw_g.dual_level():
        jv = fw_g.unpack_dual(_f(tg, fw_g.make_dual(x, v))).tangent
        (rf,) = tg.autograd.grad(jv, x)
    np.testing.assert_allclose(_np(rf), rr, rtol=1e-10)


def test_jacobian_by_forward_mode_matches_jacrev() -> None:
    def f(x: Any) -> Any:
        return tg.cat([x.sin() * x[0], (x @ x.unsqueeze(1)).reshape(1), x.cumsum(0)])
    p = tg.tensor(RNG.standard_normal(3), dtype=tg.float64)
    rev = tg.func.jacrev(f)(p)
    cols = []
    for i in range(3):
        with fw_g.dual_level():
            cols.append(fw_g.unpack_dual(f(fw_g.make_dual(p, tg.eye(3, dtype=tg.float64)[i])))
                        .tangent)
    np.testing.assert_allclose(_np(tg.stack(cols, 1)), _np(rev), rtol=1e-12)
    np.testing.assert_allclose(_np(tg.func.jacfwd(f)(p)), _np(rev), rtol=1e-12)


def test_complex_dual_tensors_are_refused_with_a_clear_error() -> None:
    with fw_g.dual_level(), pytest.raises(NotImplementedError, match="complex tensors"):
        fw_g.make_dual(tg.tensor([1 + 2j]), tg.tensor([1j]))


def test_ops_without_dual_inputs_are_unchanged_inside_a_level() -> None:
    with fw_g.dual_level():
        x = tg.tensor([1., 2.], requires_grad=True)
        y = (x * 3).sum()
        assert type(y.grad_fn).__name__ == "SumBackward0"
        assert fw_g.unpack_dual(y).tangent is None
        y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def _func_transforms(T: Any) -> list:
    F = T.func
    x = T.tensor([0.5, 1.5], dtype=T.float64)
    v = T.tensor([1., -2.], dtype=T.float64)

    def f(a: Any) -> Any:
        return a.sin() * a ** 2

    def g(a: Any, b: Any) -> tuple:
        return a.sin() * b.sum(), (a ** 2).sum() * b

    return [F.jvp(f, (x,), (v,)),
            F.jvp(F.grad(lambda a: f(a).sum()), (x,), (v,)),          # forward-over-reverse
            F.jvp(lambda a: F.jvp(f, (a,), (v,))[1], (x,), (v,)),     # nested: inner by VJPs
            F.grad(lambda a: F.jvp(f, (a,), (v,))[1].sum())(x),       # reverse-over-forward
            F.jvp(lambda a: (a * 2, {"k": a.sum()}), (x,), (v,), has_aux=True),
            F.jacfwd(g, argnums=(0, 1))(x, v),
            F.jacfwd(lambda a: (a.exp(), {"s": a.sum()}), has_aux=True)(x),
            F.hessian(lambda a: (a.sin() * a ** 2).sum())(x),
            F.jacfwd(F.jacfwd(lambda a: (a ** 3).prod()))(x),
            F.jacfwd(lambda a: a.reshape(2, 1) * a)(x.reshape(1, 2))]


def test_func_jvp_and_jacfwd_run_forward_mode_and_compose_as_torch() -> None:
    expected, got = _func_transforms(torch), _func_transforms(tg)
    assert repr(got) == repr(expected)
