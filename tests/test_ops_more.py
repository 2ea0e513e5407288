"""tensor_split/hsplit/vsplit/dsplit, logaddexp/logaddexp2/xlogy, logcumsumexp, aminmax,
mode, and nn.functional logsigmoid/softsign/glu/unfold/fold/interpolate with their modules:
values, dtypes, grad_fn names, first and second derivatives (finite differences and torch)
and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import (
    assert_same_error,
    assert_same_repr,
    assert_same_result,
    assert_same_tensor,
    check_derivatives,
)

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X74 = RNG.standard_normal((7, 4))
X234 = RNG.standard_normal((2, 3, 4))


def _names(outputs) -> list:
    outs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    return [type(o.grad_fn).__name__ for o in outs]


def _same_values(fn, atol: float = 1e-9) -> None:
    """fn(torch) and fn(tapegrad): the same tensor (NaN and infinities included), or the
    same error."""
    try:
        expected = fn(torch)
    except Exception:  # noqa: BLE001 - the error is what is compared
        assert_same_error(lambda: fn(tapegrad), lambda: fn(torch))
        return
    got = fn(tapegrad)
    assert_same_tensor(got, expected, rtol=1e-6, atol=atol)
    assert got.requires_grad == expected.requires_grad


def _same_names(fn, *arrays) -> None:
    got = fn(tapegrad, *[tapegrad.tensor(a, requires_grad=True) for a in arrays])
    exp = fn(torch, *[torch.tensor(a, requires_grad=True) for a in arrays])
    assert _names(got) == _names(exp)


# -- splits --------------------------------------------------------------------------------

SPLITS = [
    lambda t, x: t.tensor_split(x, 3),
    lambda t, x: t.tensor_split(x, [1, 5], dim=1),
    lambda t, x: t.tensor_split(x, [5, 2]),
    lambda t, x: t.tensor_split(x, [-2, 9]),
    lambda t, x: t.tensor_split(x, t.tensor(3)),
    lambda t, x: t.tensor_split(x, t.tensor([1, 3])),
    lambda t, x: x.tensor_split(2, -1),
    lambda t, x: t.hsplit(x, 2),
    lambda t, x: t.hsplit(x, [1, 2]),
    lambda t, x: t.vsplit(x, [2]),
    lambda t, x: x.hsplit(1),
]


@pytest.mark.parametrize("split", SPLITS)
def test_splits_match_torch(split) -> None:
    assert_same_result(lambda lib: split(lib, lib.tensor(X74)), torch)
    _same_names(split, X74)
    check_derivatives(lambda lib, x: sum((p ** 2).sum() * (i + 1)
                                         for i, p in enumerate(split(lib, x))),
                      X74, torch=torch, rtol=1e-5)


def test_dsplit_and_views() -> None:
    assert_same_result(lambda lib: lib.dsplit(lib.tensor(X234), [1, 3]), torch)
    assert_same_result(lambda lib: lib.hsplit(lib.tensor(np.arange(6.0)), 3), torch)
    x = tapegrad.tensor(X74.copy())
    pieces = tapegrad.tensor_split(x, 2)
    pieces[0][0, 0] = 100.0
    assert x[0, 0].item() == 100.0
    assert pieces[1]._base is x


@pytest.mark.parametrize("call", [
    lambda t: t.tensor_split(t.tensor(X74), 0),
    lambda t: t.tensor_split(t.tensor(1.0), 2),
    lambda t: t.tensor_split(t.tensor(X74), t.tensor([[1, 3]])),
    lambda t: t.tensor_split(t.tensor(X74), t.tensor(1.0)),
    lambda t: t.tensor_split(t.tensor(X74), 2.5),
    lambda t: t.tensor_split(t.tensor(X74), 2, 2),
    lambda t: t.hsplit(t.tensor(X74), 3),
    lambda t: t.hsplit(t.tensor(X74), 0),
    lambda t: t.hsplit(t.tensor(np.zeros(6)), 4),
    lambda t: t.hsplit(t.tensor(1.0), 1),
    lambda t: t.vsplit(t.tensor(np.zeros(6)), 2),
    lambda t: t.vsplit(t.tensor(X74), 2),
    lambda t: t.dsplit(t.tensor(X74), 2),
    lambda t: t.dsplit(t.tensor(X234), 3),
])
def test_split_errors_match_torch(call) -> None:
    assert_same_error(lambda: call(tapegrad), lambda: call(torch))


# -- logaddexp, logaddexp2, xlogy --------------------------------------------------------

A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4,))
POS = RNG.uniform(0.5, 2.0, (3, 4))


@pytest.mark.parametrize("fn, args", [
    (lambda t, a, b: t.logaddexp(a, b), (A, B)),
    (lambda t, a, b: t.logaddexp2(a, b), (A, B)),
    (lambda t, a, b: a.logaddexp(b * 3), (A, B)),
    (lambda t, a, b: t.xlogy(a, b), (A, POS)),
    (lambda t, a, b: t.xlogy(a, b), (A, POS[:1, :1].reshape(()))),
    (lambda t, a: t.xlogy(a, 2.5), (A,)),
    (lambda t, b: t.xlogy(3, b), (POS,)),
    (lambda t, b: t.xlogy(-1.5, b), (POS,)),
    (lambda t, a, b: a.xlogy(b), (A, POS)),
])
def test_log_binary_ops_derivatives(fn, args) -> None:
    _same_names(fn, *args)
    check_derivatives(fn, *args, torch=torch, rtol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda t: t.xlogy(t.tensor([0.0, 0, 0, 2]), t.tensor([float("nan"), 0, -1, 0])),
    lambda t: t.xlogy(t.tensor([0, 2]), t.tensor([1, 2])),
    lambda t: t.xlogy(t.tensor([0.0, 2]), 3),
    lambda t: t.xlogy(2, t.tensor([1, 2])),
    lambda t: t.xlogy(t.tensor(2.0, dtype=t.float32), t.tensor([1.0, 2], dtype=t.float64)),
    lambda t: t.tensor([1.0, 2.0]).xlogy_(t.tensor([3.0, 0.0])),
    lambda t: t.logaddexp(t.tensor([float("inf"), -float("inf"), 1.0]),
                          t.tensor([float("inf"), -float("inf"), 1000.0])),
    lambda t: t.logaddexp2(t.tensor([1.0], dtype=t.float32), t.tensor(2.0)),
    lambda t: t.logaddexp(t.tensor([1, 2]), t.tensor([1, 2])),
    lambda t: t.logaddexp(t.tensor([1.0]), 2.0),
    lambda t: t.logaddexp(t.zeros(0, 3), t.zeros(3)),
    lambda t: t.logaddexp(t.zeros(2), t.zeros(3)),
])
def test_log_binary_values_and_errors(fn) -> None:
    _same_values(fn)


def test_xlogy_inplace_records_its_node() -> None:
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True) * 1
        x.xlogy_(lib.tensor([3.0, 4.0]))
        return x.grad_fn.name()
    assert fn(tapegrad) == fn(torch)


# -- activations ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn, arg", [
    (lambda t, x: t.nn.functional.logsigmoid(x), A * 5),
    (lambda t, x: t.nn.functional.softsign(x), A * 3),
    (lambda t, x: t.nn.functional.glu(x), A),
    (lambda t, x: t.nn.functional.glu(x, 0), X74[:6]),
    (lambda t, x: t.nn.functional.glu(x, dim=1), X234.transpose(0, 2, 1)),
])
def test_activation_derivatives(fn, arg) -> None:
    _same_names(fn, arg)
    check_derivatives(fn, arg, torch=torch, rtol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda t: t.nn.functional.logsigmoid(t.tensor([-1000.0, 0.0, 1000.0])),
    lambda t: t.nn.functional.logsigmoid(t.tensor([1, 2])),
    lambda t: t.nn.functional.softsign(t.tensor([1, 2])),
    lambda t: t.nn.functional.softsign(t.tensor(-2.0, dtype=t.float32)),
    lambda t: t.nn.functional.glu(t.zeros(3)),
    lambda t: t.nn.functional.glu(t.tensor(1.0)),
    lambda t: t.nn.functional.glu(t.zeros(2, 4), 2),
    lambda t: t.nn.functional.glu(t.zeros(0, 4, dtype=t.float32)),
    lambda t: t.nn.functional.glu(t.tensor([1, 2])),
])
def test_activation_values_and_errors(fn) -> None:
    assert_same_result(fn, torch, tol=1e-12)


# -- unfold / fold -------------------------------------------------------------------------

IMG = RNG.standard_normal((2, 2, 5, 6))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    dict(kernel_size=3, padding=(0, 1), stride=2),
])
def test_unfold_fold_derivatives(kwargs) -> None:
    def unfold(t, x):
        return t.nn.functional.unfold(x, **kwargs)

    def fold(t, x):
        return t.nn.functional.fold(x, (5, 6), **kwargs)

    _same_names(unfold, IMG)
    check_derivatives(lambda t, x: unfold(t, x) ** 2, IMG[:1], torch=torch, rtol=1e-5)
    cols = torch.nn.functional.unfold(torch.tensor(IMG), **kwargs).numpy()
    _same_names(fold, cols)
    check_derivatives(lambda t, x: fold(t, x) ** 2, cols[:1], torch=torch, rtol=1e-5)
    assert_same_result(lambda t: unfold(t, t.tensor(IMG[0], dtype=t.float32)), torch)
    assert_same_result(lambda t: fold(t, t.tensor(cols[0])), torch)
    _same_names(unfold, IMG[0])
    _same_names(fold, cols[0])
    check_derivatives(lambda t, x: fold(t, x) ** 2, cols[0], torch=torch, rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 5, 5), 2),
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 3), (2,)),
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 3), 4),
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 3), 0),
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 3), 2, stride=0),
    lambda t: t.nn.functional.unfold(t.zeros(1, 2, 3, 3), 2, dilation=0),
    lambda t: t.nn.functional.fold(t.zeros(1, 7, 4), (3, 3), 2),
    lambda t: t.nn.functional.fold(t.zeros(1, 8, 5), (3, 3), 2),
    lambda t: t.nn.functional.fold(t.zeros(1, 8, 4, 1), (3, 3), 2),
])
def test_unfold_fold_errors(call) -> None:
    assert_same_error(lambda: call(tapegrad), lambda: call(torch))


@pytest.mark.parametrize("make", [
    lambda nn: nn.LogSigmoid(), lambda nn: nn.Softsign(), lambda nn: nn.GLU(),
    lambda nn: nn.GLU(dim=0), lambda nn: nn.Unfold(2), lambda nn: nn.Unfold((2, 3), padding=1),
    lambda nn: nn.Fold((5, 6), 2), lambda nn: nn.Fold(output_size=4, kernel_size=2, stride=2),
    lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.Upsample(size=3, mode="bilinear"),
    lambda nn: nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
    lambda nn: nn.Upsample(scale_factor=(2, 1.5)),
])
def test_modules_repr(make) -> None:
    assert_same_repr(lambda t: make(t.nn), torch)


def test_modules_forward() -> None:
    assert_same_result(lambda t: t.nn.Unfold(2)(t.tensor(IMG)), torch)
    assert_same_result(lambda t: t.nn.Fold((4, 4), 2, stride=2)(
        t.tensor(np.arange(32.0).reshape(1, 8, 4))), torch)
    assert_same_result(lambda t: t.nn.GLU(0)(t.tensor(X74[:6])), torch)
    assert_same_result(lambda t: t.nn.LogSigmoid()(t.tensor(A)), torch)
    assert_same_result(lambda t: t.nn.Softsign()(t.tensor(A)), torch)
    assert_same_result(lambda t: t.nn.Upsample(scale_factor=2)(t.tensor(IMG)), torch)
    assert_same_result(lambda t: t.nn.Upsample((3, 9), mode="bilinear", align_corners=True)(
        t.tensor(IMG)), torch)


# -- aminmax, mode, logcumsumexp -----------------------------------------------------------

TIES = np.array([[1.0, 3, 3, 1, 2], [0, 0, 5, -1, 5]])
TIE_FNS = [
    lambda t, x: sum(v * (i + 2) for i, v in enumerate(t.aminmax(x))),
    lambda t, x: t.aminmax(x, dim=1)[0] * 2 + t.aminmax(x, dim=1).max,
    lambda t, x: t.mode(x).values * 3,
    lambda t, x: t.mode(x.t(), 0, keepdim=True)[0] * 3,
]


@pytest.mark.parametrize("fn", TIE_FNS)
def test_ties_share_or_pick_the_gradient_as_torch(fn) -> None:
    """Ties are not differentiable points: compare with torch only."""
    grads = []
    for lib in (tapegrad, torch):
        x = lib.tensor(TIES, requires_grad=True)
        fn(lib, x).sum().backward()
        grads.append(x.grad)
    assert_same_tensor(*grads)


@pytest.mark.parametrize("fn, arg", [
    (TIE_FNS[0], X74),
    (TIE_FNS[1], X74),
    (lambda t, x: x.aminmax(dim=0, keepdim=True).min ** 2, X74),
    (lambda t, x: t.aminmax(x, keepdim=True).max ** 2, X74),
    (lambda t, x: t.aminmax(x).max * 3, np.array(2.0)),
    (lambda t, x: t.mode(x).values ** 2, X74),
    (lambda t, x: t.mode(x, 0, keepdim=True)[0] ** 2, X234),
    (lambda t, x: x.mode(0).values * 2, np.array(5.0)),
    (lambda t, x: t.logcumsumexp(x, 0), X74),
    (lambda t, x: x.logcumsumexp(-1) ** 2, X234),
    (lambda t, x: t.logcumsumexp(x, 0) * 2, np.array(0.5)),
])
def test_reduction_derivatives(fn, arg) -> None:
    _same_names(fn, arg)
    check_derivatives(fn, arg, torch=torch, rtol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda t: t.aminmax(t.tensor([[1.0, 2], [3, 0]]), dim=1, keepdim=True),
    lambda t: t.aminmax(t.tensor([1, 5])),
    lambda t: t.aminmax(t.tensor([True, False])),
    lambda t: t.aminmax(t.tensor([1.0, float("nan")])),
    lambda t: t.aminmax(t.zeros(0, 3), dim=1),
    lambda t: t.mode(t.tensor([[3.0, 1, 3, 1], [2, 2, 5, 5]]), 1),
    lambda t: t.mode(t.tensor([4, 4, 1])),
    lambda t: t.mode(t.tensor(3.0), 0, True),
    lambda t: t.tensor([[2.0, 2], [2, 1]]).mode(keepdim=True),
])
def test_reduction_values_and_reprs(fn) -> None:
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("fn", [
    lambda t: t.logcumsumexp(t.tensor([[1.0, 2], [3, 4]], dtype=t.float32), 1),
    lambda t: t.logcumsumexp(t.zeros(0), 0),
    lambda t: t.logcumsumexp(t.tensor([-float("inf"), 0.0, 1000.0]), 0),
    lambda t: t.logcumsumexp(t.tensor([1, 2]), 0),
    lambda t: t.logcumsumexp(t.tensor([True]), 0),
    lambda t: t.logcumsumexp(t.zeros(2, 2), 2),
    lambda t: t.aminmax(t.tensor([])),
    lambda t: t.aminmax(t.zeros(0, 3), dim=0),
    lambda t: t.aminmax(t.zeros(2, 3), dim=(0, 1)),
    lambda t: t.aminmax(t.zeros(2, 3), dim=2),
    lambda t: t.mode(t.zeros(0)),
    lambda t: t.mode(t.zeros(2), 1),
])
def test_reduction_values_and_errors(fn) -> None:
    _same_values(fn)


def test_logcumsumexp_backward_does_not_overflow() -> None:
    def grad(lib):
        x = lib.tensor([-1000.0, 1000.0, 0.0], dtype=lib.float64, requires_grad=True)
        lib.logcumsumexp(x, 0).backward(lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64))
        return x.grad
    assert_same_tensor(grad(tapegrad), grad(torch))


# -- interpolate ---------------------------------------------------------------------------

SIGNAL = RNG.standard_normal((2, 2, 5))


@pytest.mark.parametrize("arg, kwargs", [
    (SIGNAL, dict(size=8)),
    (SIGNAL, dict(scale_factor=1.7)),
    (SIGNAL, dict(size=3)),
    (SIGNAL, dict(size=8, mode="linear")),
    (SIGNAL, dict(size=8, mode="linear", align_corners=True)),
    (SIGNAL, dict(scale_factor=2.5, mode="linear")),
    (SIGNAL, dict(size=1, mode="linear", align_corners=True)),
    (SIGNAL, dict(size=3, mode="linear")),
    (IMG[:1], dict(scale_factor=2)),
    (IMG[:1], dict(size=(3, 7))),
    (IMG[:1], dict(size=(3, 7), mode="bilinear")),
    (IMG[:1], dict(size=(7, 3), mode="bilinear", align_corners=True)),
    (IMG[:1], dict(scale_factor=(1.5, 0.6), mode="bilinear")),
    (IMG[:1], dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)),
])
def test_interpolate_matches_torch(arg, kwargs) -> None:
    def fn(t, x):
        return t.nn.functional.interpolate(x, **kwargs) ** 2
    _same_names(lambda t, x: t.nn.functional.interpolate(x, **kwargs), arg)
    check_derivatives(fn, arg, torch=torch, rtol=1e-5)
    # float32: torch rounds its interpolation weights to float32 first
    _same_values(lambda t: t.nn.functional.interpolate(t.tensor(arg, dtype=t.float32),
                                                       **kwargs), atol=1e-6)


@pytest.mark.parametrize("call", [
    lambda t, x: t.nn.functional.interpolate(x, size=3, align_corners=True),
    lambda t, x: t.nn.functional.interpolate(x),
    lambda t, x: t.nn.functional.interpolate(x, size=3, scale_factor=2),
    lambda t, x: t.nn.functional.interpolate(x, size=(3, 3)),
    lambda t, x: t.nn.functional.interpolate(x, size=[3, 3]),
    lambda t, x: t.nn.functional.interpolate(x, scale_factor=(2, 3)),
    lambda t, x: t.nn.functional.interpolate(x, size=3, mode="bilinear"),
    lambda t, x: t.nn.functional.interpolate(x[0, 0], size=3),
    lambda t, x: t.nn.functional.interpolate(x, size=3, mode="foo"),
    lambda t, x: t.nn.functional.interpolate(x, size=0),
    lambda t, x: t.nn.functional.interpolate(x[None], size=(3, 0)),
    lambda t, x: t.nn.functional.interpolate(x[None], size=3, mode="linear"),
])
def test_interpolate_errors(call) -> None:
    assert_same_error(lambda: call(tapegrad, tapegrad.tensor(SIGNAL)),
                      lambda: call(torch, torch.tensor(SIGNAL)))


# -- as_strided, torch.special -------------------------------------------------------------

ARANGE = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.as_strided(x, (2, 2), (1, 2), 1) ** 2,
    lambda t, x: x.as_strided((3, 2), (1, 1)) ** 2,
    lambda t, x: t.as_strided(x, (2, 3), (0, 4), 2) ** 2,
    lambda t, x: t.as_strided(x[1:], (2, 2), (1, 2)) ** 2,
    lambda t, x: t.as_strided(x[0, 0], (2,), (0,)) ** 2,
])
def test_as_strided_derivatives(fn) -> None:
    _same_names(fn, X74[:3])
    check_derivatives(fn, X74[:3], torch=torch, rtol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda t: t.as_strided(t.tensor(ARANGE), (2, 2), (1, 2), 1),
    lambda t: t.as_strided(t.tensor(ARANGE)[1:], (2, 2), (1, 2)),
    lambda t: t.as_strided(t.tensor(1.0), (), ()),
    lambda t: t.as_strided(t.tensor(ARANGE), (0, 3), (1, 1), 11),
    lambda t: t.tensor(ARANGE, dtype=t.float32).as_strided((2, 2), (1, 2), 100),
    lambda t: t.tensor(ARANGE).as_strided((2,), (1,), -1),
    lambda t: t.tensor(ARANGE).as_strided((2, -1), (1, 1)),
    lambda t: t.tensor(ARANGE).as_strided((2, 2), (1,)),
    lambda t: t.tensor(ARANGE).as_strided((2, 2), (1, -1)),
])
def test_as_strided_values_and_errors(fn) -> None:
    _same_values(fn)


def test_as_strided_is_a_view() -> None:
    for lib in (tapegrad, torch):
        w = lib.zeros(6)
        v = w.as_strided((2, 2), (3, 1))
        v.add_(1)
        assert w.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
        assert v._base is w
    y = tapegrad.arange(4.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        tapegrad.as_strided(y, (3, 2), (1, 1)).mul_(2)


@pytest.mark.parametrize("name, args", [
    ("xlogy", (A, POS)), ("expit", (A,)), ("logit", (POS / 3,)), ("log1p", (POS,)),
    ("erf", (A,)), ("expm1", (A,)), ("exp2", (A,)),
])
def test_special_namespace(name, args) -> None:
    def fn(t, *xs):
        return getattr(t.special, name)(*xs)
    _same_names(fn, *args)
    check_derivatives(fn, *args, torch=torch, rtol=1e-5)
    assert_same_result(lambda t: t.special.logsumexp(t.tensor(A), 1), torch)
    assert_same_result(lambda t: t.special.softmax(t.tensor(A), 0), torch)
