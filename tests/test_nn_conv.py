"""Convolution and pooling: values, first and second derivatives equal torch's (float64)."""

import numpy as np
import pytest
from torch_compare import (
    assert_module_matches,
    copy_params,
)

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)

CONV_CASES = [
    ("Conv2d", (2, 4, 7, 6), (4, 6, 3), {}),
    ("Conv2d", (2, 4, 7, 6), (4, 6, (3, 2)), {"stride": 2, "padding": 1, "dilation": (2, 1),
                                              "groups": 2}),
    ("Conv2d", (3, 7, 6), (3, 5, 3), {"padding": "same", "bias": False}),
    ("Conv2d", (1, 2, 5, 5), (2, 2, 2), {"padding": "valid", "stride": (1, 2)}),
    ("Conv1d", (2, 3, 9), (3, 4, 3), {"padding": "same", "dilation": 2}),
    ("Conv1d", (2, 4, 10), (4, 4, 4), {"stride": 3, "padding": 2, "groups": 4}),
]


@pytest.mark.parametrize("name,x_shape,args,kwargs", CONV_CASES)
def test_conv_matches_torch(name, x_shape, args, kwargs):
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    gm = getattr(tg.nn, name)(*args, **kwargs).double()
    assert repr(gm) == repr(tm)
    copy_params(tm, gm)
    assert_module_matches(torch, tm, gm, RNG.standard_normal(x_shape))


@pytest.mark.parametrize("name,x_shape,args,kwargs", CONV_CASES[:2] + CONV_CASES[4:5])
def test_conv_double_backward_matches_torch(name, x_shape, args, kwargs):
    x0 = RNG.standard_normal(x_shape)
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    gm = getattr(tg.nn, name)(*args, **kwargs).double()
    copy_params(tm, gm)
    results = []
    for lib, m in ((torch, tm), (tg, gm)):
        x = lib.tensor(x0, requires_grad=True)
        y = m(x)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, m.weight), create_graph=True)
        results.append(lib.autograd.grad((gx * gx).sum() + (gw * gw * gw).sum(),
                                         (x, m.weight, m.bias)))
    for a, b in zip(results[1], results[0]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9)


def test_conv_channel_mismatch_error_matches_torch():
    msgs = []
    for lib in (torch, tg):
        with pytest.raises(RuntimeError) as e:
            lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(2, 2, 3, 3))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_same_padding_with_stride_is_rejected():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        tg.nn.Conv2d(2, 2, 3, stride=2, padding="same")


@pytest.mark.parametrize("name,x_shape,args", [
    ("AvgPool2d", (2, 3, 6, 7), (2,)), ("AvgPool2d", (2, 3, 6, 7), ((2, 3), 1, 1)),
    ("AvgPool1d", (2, 3, 9), (3, 2, 1)),
])
def test_avg_pool_matches_torch(name, x_shape, args):
    tm, gm = getattr(torch.nn, name)(*args), getattr(tg.nn, name)(*args)
    assert repr(gm) == repr(tm)
    assert_module_matches(torch, tm, gm, RNG.standard_normal(x_shape), same_node=False)


@pytest.mark.parametrize("x_shape,args,kwargs", [
    ((2, 4, 5, 6), (4, 3, 3), {}),
    ((2, 4, 5, 6), (4, 6, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2, "dilation": (1, 2)}),
    ((3, 4, 4), (3, 2, 2), {"stride": 2, "bias": False}),
])
def test_conv_transpose2d_matches_torch(x_shape, args, kwargs):
    tm = torch.nn.ConvTranspose2d(*args, **kwargs).double()
    gm = tg.nn.ConvTranspose2d(*args, **kwargs).double()
    assert repr(gm) == repr(tm)
    assert tuple(gm.weight.shape) == tuple(tm.weight.shape)
    copy_params(tm, gm)
    assert_module_matches(torch, tm, gm, RNG.standard_normal(x_shape), same_node=False)


@pytest.mark.parametrize("shape,size", [((2, 3, 8, 6), (4, 3)), ((2, 3, 7, 5), (3, 2)),
                                        ((3, 7, 5), (3, None)), ((1, 2, 4, 4), 1)])
def test_adaptive_avg_pool2d_matches_torch(shape, size):
    tm, gm = torch.nn.AdaptiveAvgPool2d(size), tg.nn.AdaptiveAvgPool2d(size)
    assert repr(gm) == repr(tm)
    assert_module_matches(torch, tm, gm, RNG.standard_normal(shape), same_node=False)
