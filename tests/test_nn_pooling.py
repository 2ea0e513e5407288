"""Pooling against torch (float64): values, indices, shapes, gradients, grad_fn names and
error messages of max/avg/adaptive pools and max-unpooling, functional and modules."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_close, backward_both, tensor_pair

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)


def _compare(fn_name, shape, args=(), kwargs=None, values=None):
    """Run F.<fn_name> in both libraries; compare outputs (and indices), grad_fn names
    and input gradients."""
    kwargs = kwargs or {}
    data = RNG.standard_normal(shape) if values is None else values
    xt, xg = tensor_pair(torch, data)
    ot = getattr(torch.nn.functional, fn_name)(xt, *args, **kwargs)
    og = getattr(tg.nn.functional, fn_name)(xg, *args, **kwargs)
    if isinstance(ot, tuple):
        (ot, it), (og, ig) = ot, og
        assert ig.dtype == tg.int64
        np.testing.assert_array_equal(ig.numpy(), it.numpy())
    assert tuple(og.shape) == tuple(ot.shape)
    assert og.grad_fn.name() == ot.grad_fn.name()
    assert_close(og, ot)
    if ot.numel():
        backward_both(ot, og)
        assert_close(xg.grad, xt.grad)
    return og


MAX_POOL_2D = [
    ((2, 3, 7, 6), (2,), {}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 7, 6), (2,), {"ceil_mode": True}),
    ((2, 2, 9, 8), ((3, 2),), {"stride": (2, 1), "padding": (1, 1), "dilation": (2, 3)}),
    ((2, 2, 9, 8), (3,), {"stride": 3, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ((3, 5, 5), (2,), {"stride": 1, "padding": 1}),                          # unbatched
    ((1, 1, 4, 4), ((2, 4),), {"padding": (1, 2), "dilation": (1, 2)}),
    ((0, 3, 4, 4), (2,), {}),                                                # empty batch
]


@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("shape, args, kwargs", MAX_POOL_2D)
def test_max_pool2d_matches_torch(shape, args, kwargs, return_indices):
    _compare("max_pool2d", shape, args, {**kwargs, "return_indices": return_indices})


MAX_POOL_1D = [
    ((2, 3, 9), (2,), {}),
    ((2, 3, 9), (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 10), (3,), {"stride": 1, "padding": 1, "dilation": 3}),
    ((3, 8), (4,), {"stride": 3, "padding": 2, "ceil_mode": True}),          # unbatched
]


@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("shape, args, kwargs", MAX_POOL_1D)
def test_max_pool1d_matches_torch(shape, args, kwargs, return_indices):
    _compare("max_pool1d", shape, args, {**kwargs, "return_indices": return_indices})


def test_max_pool_ties_nan_and_minus_inf_pick_what_torch_picks():
    values = np.array([[[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [-np.inf, -np.inf, 3.0]]]])
    _compare("max_pool2d", None, (2,), {"stride": 1, "padding": 1, "return_indices": True},
             values=values)
    all_minus_inf = np.full((1, 1, 3, 3), -np.inf)
    _compare("max_pool2d", None, (3,), {"stride": 2, "padding": 1, "return_indices": True},
             values=all_minus_inf)


AVG_POOL_2D = [
    ((2, 3, 7, 6), (2,), {}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 7, 6), (3,), {"stride": 2, "padding": 1, "ceil_mode": True,
                          "count_include_pad": False}),
    ((2, 3, 8, 5), ((2, 4),), {"stride": (3, 2), "padding": (1, 2), "ceil_mode": True}),
    ((2, 3, 7, 6), (3,), {"padding": 1, "divisor_override": 2}),
    ((2, 3, 7, 6), (2,), {"stride": 3, "padding": 1, "ceil_mode": True,
                          "count_include_pad": False}),
    ((3, 5, 5), (2,), {"stride": 1, "padding": 1, "count_include_pad": False}),
]


@pytest.mark.parametrize("shape, args, kwargs", AVG_POOL_2D)
def test_avg_pool2d_matches_torch(shape, args, kwargs):
    _compare("avg_pool2d", shape, args, kwargs)


@pytest.mark.parametrize("shape, args, kwargs", [
    ((2, 3, 9), (2,), {}),
    ((2, 3, 9), (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 9), (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ((3, 8), (4,), {"stride": 3, "padding": 2, "ceil_mode": True}),
])
def test_avg_pool1d_matches_torch(shape, args, kwargs):
    _compare("avg_pool1d", shape, args, kwargs)


@pytest.mark.parametrize("shape, size", [((2, 3, 8, 6), (4, 3)), ((2, 3, 7, 5), (3, 2)),
                                         ((3, 7, 5), (3, None)), ((1, 2, 4, 4), 1),
                                         ((1, 2, 3, 3), 5), ((2, 3, 7, 6), (7, 6))])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool2d_matches_torch(shape, size, kind):
    kwargs = {"return_indices": True} if kind == "max" else {}
    _compare(f"adaptive_{kind}_pool2d", shape, (size,), kwargs)


@pytest.mark.parametrize("shape, size", [((2, 3, 9), 4), ((3, 7), 3), ((2, 3, 6), 6)])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool1d_matches_torch(shape, size, kind):
    kwargs = {"return_indices": True} if kind == "max" else {}
    _compare(f"adaptive_{kind}_pool1d", shape, (size,), kwargs)


@pytest.mark.parametrize("nd, shape, kwargs, output_size", [
    (2, (2, 3, 7, 6), {"kernel_size": 2}, None),
    (2, (2, 3, 7, 6), {"kernel_size": 2}, (7, 7)),
    (2, (2, 3, 7, 6), {"kernel_size": 2}, (2, 3, 7, 6)),
    (2, (2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1}, (7, 6)),
    (1, (2, 3, 9), {"kernel_size": 2}, None),
    (1, (2, 3, 9), {"kernel_size": 2}, (9,)),
])
def test_max_unpool_inverts_max_pool_like_torch(nd, shape, kwargs, output_size):
    pool = f"max_pool{nd}d"
    data = RNG.standard_normal(shape)
    results = []
    for lib in (torch, tg):
        F = lib.nn.functional
        x = lib.tensor(data, requires_grad=True)
        pooled, idx = getattr(F, pool)(x, return_indices=True, **kwargs)
        out = getattr(F, f"max_unpool{nd}d")(pooled, idx, output_size=output_size, **kwargs)
        results.append((x, out))
    (xt, ot), (xg, og) = results
    assert tuple(og.shape) == tuple(ot.shape)
    assert og.grad_fn.name() == ot.grad_fn.name()
    assert_close(og, ot)
    backward_both(ot, og)
    assert_close(xg.grad, xt.grad)


def test_pools_differentiate_twice_like_torch():
    xt, xg = tensor_pair(torch, RNG.standard_normal((1, 2, 5, 5)))
    for fn, kwargs in (("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
                       ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1,
                                       "ceil_mode": True, "count_include_pad": False})):
        grads = []
        for lib, x in ((torch, xt), (tg, xg)):
            y = getattr(lib.nn.functional, fn)(x * x, **kwargs)
            (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), x)
            grads.append(h)
        assert_close(grads[1], grads[0])


def test_pool_gradients_pass_finite_difference_checks():
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 4)), requires_grad=True)
    F = tg.nn.functional
    assert tg.autograd.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False), (x,))
    assert tg.autograd.gradcheck(lambda t: F.max_pool2d(t, 2, 1, 1, 2), (x,))
    assert tg.autograd.gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 3)), (x,))
    assert tg.autograd.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 3)), (x,))


def _errors(call):
    """(type name, message) of the exception ``call(lib)`` raises, for torch and tapegrad."""
    out = []
    for lib in (torch, tg):
        with pytest.raises(Exception) as e:
            call(lib)
        out.append((type(e.value).__name__, str(e.value)))
    return out


X4 = RNG.standard_normal((2, 3, 7, 6))
X3 = RNG.standard_normal((2, 3, 9))

ERROR_CASES = {
    "max2d pad > half effective kernel": lambda F, x, x1: F.max_pool2d(x, 2, padding=2),
    "max2d pad > half kernel (dilated)": lambda F, x, x1: F.max_pool2d(x, 3, padding=2,
                                                                       dilation=2),
    "max2d pad W too big": lambda F, x, x1: F.max_pool2d(x, 2, padding=(1, 2)),
    "max2d kernel 0": lambda F, x, x1: F.max_pool2d(x, 0),
    "max2d kernel 0 with stride": lambda F, x, x1: F.max_pool2d(x, (2, 0), stride=1),
    "max2d kernel negative": lambda F, x, x1: F.max_pool2d(x, -1),
    "max2d stride negative": lambda F, x, x1: F.max_pool2d(x, 2, stride=-1),
    "max2d stride 0": lambda F, x, x1: F.max_pool2d(x, 2, stride=(1, 0)),
    "max2d dilation 0": lambda F, x, x1: F.max_pool2d(x, 2, dilation=(1, 0)),
    "max2d pad negative": lambda F, x, x1: F.max_pool2d(x, 2, padding=-1),
    "max2d output too small": lambda F, x, x1: F.max_pool2d(x, 8),
    "max2d dilated output too small": lambda F, x, x1: F.max_pool2d(x, 3, stride=1,
                                                                    dilation=(5, 1)),
    "max2d kernel of 3": lambda F, x, x1: F.max_pool2d(x, (2, 2, 2)),
    "max2d stride of 3": lambda F, x, x1: F.max_pool2d(x, 2, stride=(1, 1, 1)),
    "max2d padding of 3": lambda F, x, x1: F.max_pool2d(x, 2, padding=(1, 1, 1)),
    "max2d dilation of 3": lambda F, x, x1: F.max_pool2d(x, 2, dilation=(1, 2, 3)),
    "max2d 2-d input": lambda F, x, x1: F.max_pool2d(x[0, 0], 2),
    "max2d 5-d input": lambda F, x, x1: F.max_pool2d(x[None], 2),
    "max2d no channels": lambda F, x, x1: F.max_pool2d(x[:, :0], 2),
    "max1d pad > half kernel": lambda F, x, x1: F.max_pool1d(x1, 2, padding=2),
    "max1d pad > half kernel, indices": lambda F, x, x1: F.max_pool1d(
        x1, 3, padding=2, dilation=2, return_indices=True),
    "max1d kernel 0": lambda F, x, x1: F.max_pool1d(x1, 0),
    "max1d stride negative": lambda F, x, x1: F.max_pool1d(x1, 2, stride=-1),
    "max1d dilation 0": lambda F, x, x1: F.max_pool1d(x1, 2, dilation=0),
    "max1d pad negative": lambda F, x, x1: F.max_pool1d(x1, 2, padding=-1),
    "max1d output too small": lambda F, x, x1: F.max_pool1d(x1, 10),
    "max1d output too small, indices": lambda F, x, x1: F.max_pool1d(x1, 10,
                                                                     return_indices=True),
    "max1d kernel of 2": lambda F, x, x1: F.max_pool1d(x1, (2, 2)),
    "max1d 1-d input": lambda F, x, x1: F.max_pool1d(x1[0, 0], 2),
    "max1d 1-d input, indices": lambda F, x, x1: F.max_pool1d(x1[0, 0], 2,
                                                              return_indices=True),
    "max1d 4-d input": lambda F, x, x1: F.max_pool1d(x, 2),
    "avg2d pad > half kernel": lambda F, x, x1: F.avg_pool2d(x, 2, padding=2),
    "avg2d kernel 0": lambda F, x, x1: F.avg_pool2d(x, 0, stride=1),
    "avg2d stride 0": lambda F, x, x1: F.avg_pool2d(x, 2, stride=0),
    "avg2d pad negative": lambda F, x, x1: F.avg_pool2d(x, 2, padding=-1),
    "avg2d output too small": lambda F, x, x1: F.avg_pool2d(x, 8),
    "avg2d divisor 0": lambda F, x, x1: F.avg_pool2d(x, 2, divisor_override=0),
    "avg2d kernel of 3": lambda F, x, x1: F.avg_pool2d(x, (2, 2, 2)),
    "avg2d stride of 3": lambda F, x, x1: F.avg_pool2d(x, 2, stride=(1, 1, 1)),
    "avg2d 2-d input": lambda F, x, x1: F.avg_pool2d(x[0, 0], 2),
    "avg2d 5-d input": lambda F, x, x1: F.avg_pool2d(x[None], 2),
    "avg1d pad > half kernel": lambda F, x, x1: F.avg_pool1d(x1, 2, padding=2),
    "avg1d stride 0": lambda F, x, x1: F.avg_pool1d(x1, 2, stride=0),
    "avg1d output too small": lambda F, x, x1: F.avg_pool1d(x1, 10),
    "avg1d kernel of 2": lambda F, x, x1: F.avg_pool1d(x1, (2, 2)),
    "avg1d 1-d input": lambda F, x, x1: F.avg_pool1d(x1[0, 0], 2),
    "avg1d 4-d input": lambda F, x, x1: F.avg_pool1d(x, 2),
    "adaptive avg2d size of 3": lambda F, x, x1: F.adaptive_avg_pool2d(x, (2, 3, 4)),
    "adaptive max2d size of 3": lambda F, x, x1: F.adaptive_max_pool2d(x, (2, 3, 4)),
    "adaptive avg2d 2-d input": lambda F, x, x1: F.adaptive_avg_pool2d(x[0, 0], 2),
    "adaptive max2d 2-d input": lambda F, x, x1: F.adaptive_max_pool2d(x[0, 0], 2),
    "adaptive avg1d 1-d input": lambda F, x, x1: F.adaptive_avg_pool1d(x1[0, 0], 2),
    "adaptive max1d 1-d input": lambda F, x, x1: F.adaptive_max_pool1d(x1[0, 0], 2),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_pool_errors_match_torch(case):
    def call(lib):
        return ERROR_CASES[case](lib.nn.functional, lib.tensor(X4), lib.tensor(X3))
    theirs, ours = _errors(call)
    assert ours == theirs


def test_max_pool1d_on_integers_is_not_implemented_like_torch():
    theirs, ours = _errors(lambda lib: lib.nn.functional.max_pool1d(
        lib.arange(16).reshape(1, 1, 16), 2))
    assert ours == theirs
    ints = np.arange(16).reshape(1, 1, 4, 4)
    out_t = torch.nn.functional.max_pool2d(torch.tensor(ints), 2)
    out_g = tg.nn.functional.max_pool2d(tg.tensor(ints), 2)
    assert out_g.dtype == tg.int64
    np.testing.assert_array_equal(out_g.numpy(), out_t.numpy())


def _unpool_error(lib, indices_fn, output_size=None):
    F = lib.nn.functional
    pooled, idx = F.max_pool2d(lib.tensor(X4), 2, return_indices=True)
    return F.max_unpool2d(pooled, indices_fn(idx), 2, output_size=output_size)


@pytest.mark.parametrize("indices_fn, output_size", [
    (lambda i: i, (9, 9)),
    (lambda i: i, (4, 4)),
    (lambda i: i.float(), None),
])
def test_max_unpool_errors_match_torch(indices_fn, output_size):
    theirs, ours = _errors(lambda lib: _unpool_error(lib, indices_fn, output_size))
    assert ours == theirs


def test_max_unpool_reports_an_index_outside_the_output():
    def bad(i):
        i = i.clone()
        i[0, 0, 0, 0] = 36
        return i
    theirs, ours = _errors(lambda lib: _unpool_error(lib, bad))
    assert ours == theirs == ("RuntimeError", "Found an invalid max index: 36 (output "
                              "volumes are of size 6x6)")


@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool2d", (2,), {"return_indices": True}, (2, 3, 7, 6)),
    ("MaxPool1d", (3, 2, 1, 2, True, True), {}, (2, 3, 9)),
    ("AvgPool2d", (3, 2, 1, True, False, 2), {}, (2, 3, 7, 6)),
    ("AvgPool1d", (3,), {"padding": 1, "count_include_pad": False}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 6)),
    ("AdaptiveMaxPool2d", (3, True), {}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
])
def test_pool_modules_match_torch(name, args, kwargs, shape):
    tm = getattr(torch.nn, name)(*args, **kwargs)
    gm = getattr(tg.nn, name)(*args, **kwargs)
    assert repr(gm) == repr(tm)
    xt, xg = tensor_pair(torch, RNG.standard_normal(shape))
    ot, og = tm(xt), gm(xg)
    if isinstance(ot, tuple):
        np.testing.assert_array_equal(og[1].numpy(), ot[1].numpy())
        ot, og = ot[0], og[0]
    assert og.grad_fn.name() == ot.grad_fn.name()
    assert_close(og, ot)
    backward_both(ot, og)
    assert_close(xg.grad, xt.grad)


@pytest.mark.parametrize("nd, shape", [(1, (2, 3, 9)), (2, (2, 3, 7, 6))])
def test_max_unpool_modules_match_torch(nd, shape):
    results = []
    for lib in (torch, tg):
        pool = getattr(lib.nn, f"MaxPool{nd}d")(2, return_indices=True)
        unpool = getattr(lib.nn, f"MaxUnpool{nd}d")(2)
        x = lib.tensor(RNG.standard_normal(shape) if lib is torch else results[0][2])
        out, idx = pool(x)
        results.append((repr(unpool), unpool(out, idx, output_size=x.shape).numpy(),
                        x.numpy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_array_equal(results[1][1], results[0][1])
