"""First and second derivatives of the core ops by finite differences (float64), equal to
torch's, across broadcasting shapes; and the forward of ``//`` and ``%`` against torch."""

import operator

import numpy as np
import pytest
from torch_compare import assert_same_repr, check_derivatives

import tapegrad

try:    # the finite-difference checks run without torch; comparisons with it need it
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch")

# (left shape, right shape) pairs that broadcast, each also swapped.
BROADCAST_PAIRS = [((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
PAIRS = BROADCAST_PAIRS + [(b, a) for a, b in BROADCAST_PAIRS]
PAIR_IDS = [f"{a}x{b}" for a, b in PAIRS]
UNARY_SHAPES = [(), (4,), (2, 1, 3)]


def rng_for(*keys):
    return np.random.default_rng(abs(hash(keys)) % 2**32)


def away_from(values, points, margin=0.1):
    """Move values that sit within ``margin`` of any of ``points`` (kinks) away from it."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        near = np.abs(values - p) < margin
        values[near] = p + np.where(values[near] >= p, margin, -margin)
    return values


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


# -- binary operators, both operands tensors ---------------------------------------------

BINARY = {
    "add": (lambda L, a, b: a + b, normal, normal),
    "sub": (lambda L, a, b: a - b, normal, normal),
    "mul": (lambda L, a, b: a * b, normal, normal),
    "div": (lambda L, a, b: a / b, normal, positive),
    "pow": (lambda L, a, b: a ** b, positive, normal),
    "torch.add_alpha": (lambda L, a, b: L.add(a, b, alpha=2.5), normal, normal),
    "torch.sub_alpha": (lambda L, a, b: L.sub(a, b, alpha=-1.5), normal, normal),
}


@pytest.mark.parametrize("shapes", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_operator_derivatives(name, shapes):
    fn, make_a, make_b = BINARY[name]
    rng = rng_for(name, shapes)
    check_derivatives(fn, make_a(rng, shapes[0]), make_b(rng, shapes[1]), torch=torch)


@pytest.mark.parametrize("shapes", PAIRS, ids=PAIR_IDS)
def test_remainder_derivatives_away_from_its_jumps(shapes):
    rng = rng_for("remainder", shapes)
    b = rng.uniform(0.6, 1.5, shapes[1]) * rng.choice([-1., 1.], shapes[1])
    while True:   # % jumps where a / b is an integer: stay 0.05 away from those
        a = rng.uniform(-3, 3, shapes[0])
        q = a / b
        if np.all(np.abs(q - np.round(q)) > 0.05):
            break
    check_derivatives(lambda L, x, y: x % y, a, b, torch=torch)
    check_derivatives(lambda L, x, y: L.remainder(x, y), a, b, torch=torch)


# -- a tensor with a Python scalar, on either side ----------------------------------------

SCALAR_FORMS = {
    "x+s": (lambda L, x: x + 2.5, normal),
    "s+x": (lambda L, x: 2.5 + x, normal),
    "x-s": (lambda L, x: x - 2.5, normal),
    "s-x": (lambda L, x: 2.5 - x, normal),
    "x*s": (lambda L, x: x * -1.5, normal),
    "s*x": (lambda L, x: -1.5 * x, normal),
    "x/s": (lambda L, x: x / 3.0, normal),
    "s/x": (lambda L, x: 3.0 / x, positive),
    "x**2": (lambda L, x: x ** 2, normal),
    "x**3": (lambda L, x: x ** 3, normal),
    "x**0.5": (lambda L, x: x ** 0.5, positive),
    "x**-1.5": (lambda L, x: x ** -1.5, positive),
    "x**0": (lambda L, x: x ** 0, normal),
    "x**1": (lambda L, x: x ** 1, normal),
    "s**x": (lambda L, x: 2.5 ** x, normal),
    "int_s**x": (lambda L, x: 3 ** x, normal),
    "x%s": (lambda L, x: x % 0.7, lambda rng, s: away_from(rng.uniform(-2, 2, s),
                                                          np.arange(-3, 3) * 0.7)),
    "-x": (lambda L, x: -x, normal),
    "torch.pow(s,x)": (lambda L, x: L.pow(2.0, x), normal),
    "torch.pow(x,s)": (lambda L, x: L.pow(x, 3), normal),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(SCALAR_FORMS))
def test_scalar_and_reversed_forms_derivatives(name, shape):
    fn, make = SCALAR_FORMS[name]
    check_derivatives(fn, make(rng_for(name, shape), shape), torch=torch)


# -- unary functions ---------------------------------------------------------------------

UNARY = {
    "exp": (lambda L, x: x.exp(), normal),
    "torch.exp": (lambda L, x: L.exp(x), normal),
    "log": (lambda L, x: x.log(), positive),
    "sin": (lambda L, x: x.sin(), normal),
    "cos": (lambda L, x: L.cos(x), normal),
    "sqrt": (lambda L, x: x.sqrt(), positive),
    "tanh": (lambda L, x: x.tanh(), normal),
    "sigmoid": (lambda L, x: L.sigmoid(x), normal),
    "relu": (lambda L, x: x.relu(), lambda rng, s: away_from(rng.standard_normal(s), [0.])),
    "clamp": (lambda L, x: x.clamp(-0.5, 0.5),
              lambda rng, s: away_from(rng.standard_normal(s), [-0.5, 0.5])),
    "clamp_min": (lambda L, x: L.clamp(x, min=0.2),
                  lambda rng, s: away_from(rng.standard_normal(s), [0.2])),
    "clamp_max": (lambda L, x: x.clamp(max=-0.1),
                  lambda rng, s: away_from(rng.standard_normal(s), [-0.1])),
    "composite": (lambda L, x: (x.sin() * x.exp() + 1).log(), lambda rng, s: rng.uniform(0, 1, s)),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_derivatives(name, shape):
    fn, make = UNARY[name]
    check_derivatives(fn, make(rng_for(name, shape), shape), torch=torch)


@pytest.mark.parametrize("shapes", PAIRS, ids=PAIR_IDS)
def test_clamp_with_tensor_bounds_derivatives(shapes):
    rng = rng_for("clamp_t", shapes)
    x = rng.standard_normal(np.broadcast_shapes(*shapes))
    low = rng.uniform(-1.0, -0.3, shapes[0])
    high = rng.uniform(0.3, 1.0, shapes[1])
    x = np.where(np.abs(x - np.broadcast_to(low, x.shape)) < 0.1, x + 0.25, x)
    x = np.where(np.abs(x - np.broadcast_to(high, x.shape)) < 0.1, x - 0.25, x)
    check_derivatives(lambda L, a, lo, hi: L.clamp(a, lo, hi), x, low, high, torch=torch)


# -- reductions --------------------------------------------------------------------------

REDUCTIONS = {
    "sum": lambda L, x: x.sum(),
    "sum_dim": lambda L, x: x.sum(-1),
    "sum_keepdim": lambda L, x: x.sum(0, keepdim=True),
    "sum_dims": lambda L, x: L.sum(x, (0, 2)),
    "mean": lambda L, x: x.mean(),
    "mean_dim": lambda L, x: x.mean(1),
    "mean_keepdim": lambda L, x: L.mean(x, -1, keepdim=True),
    "mean_dims": lambda L, x: x.mean((0, 1)),
    "sum_of_square": lambda L, x: (x * x).sum(1),
    "mean_of_exp": lambda L, x: x.exp().mean(0),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_derivatives(name):
    rng = rng_for(name)
    check_derivatives(REDUCTIONS[name], rng.standard_normal((2, 3, 2)), torch=torch)


@pytest.mark.parametrize("fn", [lambda L, x: x.sum(), lambda L, x: x.mean()],
                         ids=["sum", "mean"])
def test_reduction_of_zero_dim_tensor_derivatives(fn):
    check_derivatives(fn, np.array(1.5), torch=torch)


# -- products ----------------------------------------------------------------------------

MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)),
                 ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 2)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_derivatives(shapes):
    rng = rng_for("matmul", shapes)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check_derivatives(lambda L, x, y: x @ y, a, b, torch=torch)
    check_derivatives(lambda L, x, y: L.matmul(x, y), a, b, torch=torch)


def test_dot_derivatives():
    rng = rng_for("dot")
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    check_derivatives(lambda L, x, y: L.dot(x, y), a, b, torch=torch)
    check_derivatives(lambda L, x, y: x.dot(y * y), a, b, torch=torch)


# -- shape ops ---------------------------------------------------------------------------

SHAPE_OPS = {
    "expand": (lambda L, x: x.expand(2, 3, 4) * L.arange(24.).reshape(2, 3, 4).double(),
               (3, 1)),
    "expand_minus_one": (lambda L, x: (x.expand(-1, 4) ** 2), (3, 1)),
    "expand_new_dims": (lambda L, x: x.expand(2, 2, 3).sin(), (3,)),
    "expand_scalar": (lambda L, x: x.expand(3) * L.tensor([1., 2., 3.]).double(), ()),
    "view": (lambda L, x: x.view(3, 2) ** 2, (2, 3)),
    "view_minus_one": (lambda L, x: x.view(-1).exp(), (2, 3)),
    "reshape": (lambda L, x: x.reshape(1, 6, 1).sin(), (2, 3)),
    "reshape_of_transpose": (lambda L, x: (x.t().reshape(-1) ** 3), (2, 3)),
    "view_then_broadcast": (lambda L, x: x.view(2, 1, 3) * x.view(1, 2, 3), (2, 3)),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_op_derivatives(name):
    fn, shape = SHAPE_OPS[name]
    check_derivatives(fn, rng_for(name).standard_normal(shape), torch=torch)


# -- // and % ----------------------------------------------------------------------------

INT_A = [-7, -6, -3, -1, 0, 1, 3, 6, 7]
INT_B = [2, -2, 3, -3, 5, -5, 4, -4, 1]
FLOAT_A = [-7.5, -6.0, -2.25, -0.0, 0.0, 0.5, 2.25, 6.0, 7.5]
FLOAT_B = [2.0, -2.0, 0.75, -0.75, 2.5, -2.5, 4.0, -4.0, 1.5]


def test_floor_divide_and_remainder_operators_exist_on_tensor():
    for name in ("__floordiv__", "__rfloordiv__", "__ifloordiv__", "__mod__", "__rmod__",
                 "__imod__", "floor_divide", "remainder", "floor_divide_", "remainder_"):
        assert callable(getattr(tapegrad.Tensor, name)), name


OPERANDS = {
    "int//int": lambda L: (L.tensor(INT_A), L.tensor(INT_B)),
    "float//float": lambda L: (L.tensor(FLOAT_A), L.tensor(FLOAT_B)),
    "double//float": lambda L: (L.tensor(FLOAT_A, dtype=L.float64), L.tensor(FLOAT_B)),
    "int//float": lambda L: (L.tensor(INT_A), L.tensor(FLOAT_B)),
    "int32//int64": lambda L: (L.tensor(INT_A, dtype=L.int32), L.tensor(INT_B)),
    "int//int_scalar": lambda L: (L.tensor(INT_A), -3),
    "int//float_scalar": lambda L: (L.tensor(INT_A), -2.5),
    "float//int_scalar": lambda L: (L.tensor(FLOAT_A), 2),
    "int_scalar//int": lambda L: (7, L.tensor(INT_B)),
    "float_scalar//int": lambda L: (-7.5, L.tensor(INT_B)),
    "float_scalar//float": lambda L: (-7.5, L.tensor(FLOAT_B)),
    "broadcast": lambda L: (L.tensor(INT_A).view(9, 1), L.tensor([2, -3, 4])),
    "zero_dim": lambda L: (L.tensor(-7), L.tensor(INT_B)),
    "float_by_zero": lambda L: (L.tensor(FLOAT_A), 0.0),
    "int_by_zero": lambda L: (L.tensor(INT_A), 0),
    "int_by_zero_tensor": lambda L: (L.tensor(INT_A), L.zeros(9, dtype=L.int64)),
    "uint8//int_scalar": lambda L: (L.tensor([5, 200, 251], dtype=L.uint8), 7),
    "uint8//negative_scalar": lambda L: (L.tensor([5, 200, 251], dtype=L.uint8), -3),
    "int8//large_scalar": lambda L: (L.tensor([-100, 7, 100], dtype=L.int8), 300),
    "bool": lambda L: (L.tensor([True, False]), L.tensor([True, True])),
    "bool_by_int": lambda L: (L.tensor([True, False]), 2),
}


@pytest.mark.parametrize("op", ["//", "%"])
@pytest.mark.parametrize("operands", list(OPERANDS))
@needs_torch
def test_floor_divide_and_remainder_forward_match_torch(op, operands):
    def fn(L):
        a, b = OPERANDS[operands](L)
        return a // b if op == "//" else a % b
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("call", [
    lambda L, x: L.floor_divide(x, 2.0), lambda L, x: x.floor_divide(-2.0),
    lambda L, x: L.remainder(x, 2.0), lambda L, x: x.remainder(-2.0),
    lambda L, x: L.fmod(x, 2.0)],
    ids=["floor_divide", "floor_divide_method", "remainder", "remainder_method", "fmod"])
@needs_torch
def test_named_floor_divide_and_remainder_match_torch(call):
    def fn(L):
        return call(L, L.tensor(FLOAT_A, dtype=L.float64))
    assert_same_repr(fn, torch)


def _dividend_and_divisor(L):
    """Leaves of both signs, none a multiple of the other: floor and remainder are smooth."""
    return (L.tensor([-7.5, -1.25, 3.5, 8.25], dtype=L.float64, requires_grad=True),
            L.tensor([2., -2.5, 1.5, -3.], dtype=L.float64, requires_grad=True))


@pytest.mark.parametrize("form", [
    lambda L, x, y: x // y, lambda L, x, y: x // 2.0, lambda L, x, y: 5.0 // x,
    lambda L, x, y: 5.0 % x, lambda L, x, y: L.remainder(5.0, x)],
    ids=["t//t", "t//s", "s//t", "s%t", "remainder(s,t)"])
@needs_torch
def test_backward_through_floor_divide_raises_as_torch(form):
    def fn(L):
        x, y = _dividend_and_divisor(L)
        z = form(L, x, y)
        facts = (type(z.grad_fn).__name__, z.grad_fn.name(), z.requires_grad)
        z.sum().backward()
        return facts
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("form", [
    lambda L, x, y: x % y, lambda L, x, y: x % 2.0, lambda L, x, y: x % -0.75,
    lambda L, x, y: L.tensor(5.0, dtype=L.float64) % x],
    ids=["t%t", "t%s", "t%negative_s", "zero_dim_t%t"])
@needs_torch
def test_remainder_gradients_match_torch(form):
    def fn(L):
        x, y = _dividend_and_divisor(L)
        z = form(L, x, y)
        z.backward(L.tensor([1., 2., 3., 4.], dtype=L.float64))
        return type(z.grad_fn).__name__, z, x.grad, y.grad
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.floordiv,
                                operator.mod], ids=["+", "-", "*", "//", "%"])
@needs_torch
def test_python_int_outside_a_small_int_dtype_wraps_as_torch(op):
    def fn(L):
        small = (L.tensor([200, 3], dtype=L.uint8), L.tensor([100, -7], dtype=L.int8))
        return [op(t, s) for t in small for s in (-3, 300)]
    assert_same_repr(fn, torch)
