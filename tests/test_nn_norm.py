"""Normalisation layers, Embedding and max pooling against torch (float64)."""

import numpy as np
import pytest
from torch_compare import (
    assert_close,
    assert_module_matches,
    backward_both,
    copy_params,
    tensor_pair,
)

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)


def _compare(tm, gm, x, steps=1):
    assert repr(gm) == repr(tm)
    copy_params(tm, gm)
    for _ in range(steps):
        xt, xg = tensor_pair(torch, x)
        ot, og = tm(xt), gm(xg)
        assert_close(og, ot)
        backward_both(ot, og)
        assert_close(xg.grad, xt.grad)
    for pt, pg in zip(tm.parameters(), gm.parameters()):
        assert_close(pg.grad, pt.grad)
    for (name, bt), (_, bg) in zip(tm.named_buffers(), gm.named_buffers()):
        np.testing.assert_allclose(bg.numpy(), bt.numpy(), rtol=1e-12, err_msg=name)


def _affine(m, lib):
    # non-trivial affine parameters so their gradients are tested
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(RNG.standard_normal(tuple(p.shape))))


@pytest.mark.parametrize("args,kwargs,shape", [
    ((4,), {}, (3, 4)), (((2, 3),), {}, (4, 2, 3)), ((3,), {"bias": False}, (2, 5, 3)),
    ((3,), {"elementwise_affine": False}, (2, 3)),
])
def test_layer_norm(args, kwargs, shape):
    tm = torch.nn.LayerNorm(*args, **kwargs).double()
    _affine(tm, torch)
    _compare(tm, tg.nn.LayerNorm(*args, **kwargs).double(), RNG.standard_normal(shape))


@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(affine):
    tm = torch.nn.GroupNorm(2, 4, affine=affine).double()
    _affine(tm, torch)
    _compare(tm, tg.nn.GroupNorm(2, 4, affine=affine).double(),
             RNG.standard_normal((3, 4, 5, 2)))


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 2, 5))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"momentum": 0.3}])
def test_batch_norm_train_then_eval(name, shape, kwargs):
    tm = getattr(torch.nn, name)(3, **kwargs).double()
    gm = getattr(tg.nn, name)(3, **kwargs).double()
    _affine(tm, torch)
    x = RNG.standard_normal(shape) * 3 + 1
    _compare(tm, gm, x, steps=2)               # running stats after two batches
    tm.eval()
    gm.eval()
    xt, xg = tensor_pair(torch, RNG.standard_normal(shape))
    assert_close(gm(xg), tm(xt))


def test_batch_norm_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        tg.nn.BatchNorm2d(3)(tg.zeros(2, 3, 4))


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding(padding_idx):
    tm = torch.nn.Embedding(6, 3, padding_idx=padding_idx).double()
    gm = tg.nn.Embedding(6, 3, padding_idx=padding_idx).double()
    assert repr(gm) == repr(tm)
    if padding_idx is not None:
        assert (gm.weight.detach().numpy()[padding_idx] == 0).all()
    copy_params(tm, gm)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    ot, og = tm(torch.tensor(idx)), gm(tg.tensor(idx))
    assert_close(og, ot)
    backward_both(ot, og)
    assert_close(gm.weight.grad, tm.weight.grad)


@pytest.mark.parametrize("name,shape,args,kwargs", [
    ("MaxPool2d", (2, 3, 6, 7), (2,), {}), ("MaxPool2d", (2, 2, 7, 7), ((2, 3),),
                                           {"stride": 1, "dilation": 2}),
    ("MaxPool1d", (2, 3, 9), (3, 2), {}), ("MaxPool2d", (3, 6, 6), (3,), {}),
])
def test_max_pool(name, shape, args, kwargs):
    tm, gm = getattr(torch.nn, name)(*args, **kwargs), getattr(tg.nn, name)(*args, **kwargs)
    assert repr(gm) == repr(tm)
    assert_module_matches(torch, tm, gm, RNG.standard_normal(shape), same_node=False)


def test_state_dict_round_trip_with_buffers():
    a = tg.nn.Sequential(tg.nn.Conv2d(1, 2, 3), tg.nn.BatchNorm2d(2), tg.nn.ReLU())
    a(tg.randn(4, 1, 5, 5))
    b = tg.nn.Sequential(tg.nn.Conv2d(1, 2, 3), tg.nn.BatchNorm2d(2), tg.nn.ReLU())
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    assert list(a.state_dict()) == list(torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU()).state_dict())
