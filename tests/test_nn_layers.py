"""Layers and activations: values, grad_fn names and gradients equal torch's in float64."""

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

RNG = np.random.default_rng(1234)


def _input(*shape):
    x = RNG.standard_normal(shape) * 2
    x.flat[0] = 0.0              # a kink point for the piecewise activations
    return x


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    tm = torch.nn.Linear(3, 2, bias=bias).double()
    gm = tg.nn.Linear(3, 2, bias=bias).double()
    copy_params(tm, gm)
    # torch names 1-D no-bias SqueezeBackward4 (not matched)
    assert_module_matches(torch, tm, gm, _input(*shape), same_node=bias or len(shape) > 1)


def test_linear_second_derivative_through_addmm():
    w = RNG.standard_normal((2, 3))
    x0 = _input(4, 3)
    results = []
    for lib in (torch, tg):
        x = lib.tensor(x0, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        b = lib.tensor(np.ones(2), requires_grad=True)
        y = lib.nn.functional.linear(x, wt, b)
        (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gw,) = lib.autograd.grad(gx.sum(), wt)
        results.append(gw)
    assert_close(results[1], results[0])


def test_bilinear_matches_torch():
    tm = torch.nn.Bilinear(3, 4, 2).double()
    gm = tg.nn.Bilinear(3, 4, 2).double()
    copy_params(tm, gm)
    at, ag = tensor_pair(torch, _input(5, 3))
    bt, bg = tensor_pair(torch, _input(5, 4))
    ot, og = tm(at, bt), gm(ag, bg)
    assert_close(og, ot)
    backward_both(ot, og)
    assert_close(ag.grad, at.grad)
    assert_close(bg.grad, bt.grad)
    assert_close(gm.weight.grad, tm.weight.grad)
    assert_close(gm.bias.grad, tm.bias.grad)


ACTIVATIONS = [
    ("ReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", (1.5,)), ("GELU", ()), ("GELU", ("tanh",)),
    ("SiLU", ()), ("Mish", ()), ("Softplus", ()), ("Softplus", (2.0, 1.0)), ("Tanh", ()),
    ("Sigmoid", ()), ("Hardtanh", ()), ("Hardtanh", (-0.5, 2.0)), ("ReLU6", ()),
    ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Softmax", (-1,)), ("LogSoftmax", (0,)),
]


@pytest.mark.parametrize("name,args", ACTIVATIONS)
def test_activation_values_grads_and_node_names_match_torch(name, args):
    tm, gm = getattr(torch.nn, name)(*args), getattr(tg.nn, name)(*args)
    assert repr(gm) == repr(tm)
    assert_module_matches(torch, tm, gm, _input(4, 5))


@pytest.mark.parametrize("name,args", [a for a in ACTIVATIONS if a[0] not in
                                       ("ReLU", "Hardtanh", "ReLU6", "LeakyReLU")])
def test_activation_second_derivative_matches_torch(name, args):
    grads = []
    x = _input(3, 4)
    for lib in (torch, tg):
        xt = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn, name)(*args)(xt)
        (g,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (g2,) = lib.autograd.grad((g * g).sum(), xt)
        grads.append(g2)
    assert_close(grads[1], grads[0])


def test_softmax_is_stable_for_large_inputs():
    x = tg.tensor([[1000.0, 1001.0], [-1000.0, -1000.0]], dtype=tg.float64)
    out = tg.nn.functional.softmax(x, dim=1).numpy()
    assert np.isfinite(out).all()
    lsm = tg.nn.functional.log_softmax(x, dim=1).numpy()
    ref = torch.nn.functional.log_softmax(torch.tensor(x.numpy()), dim=1).numpy()
    np.testing.assert_allclose(lsm, ref)


def test_softmax_implicit_dim_follows_torch_rule():
    x = _input(2, 3, 4)
    out_g = tg.nn.functional.softmax(tg.tensor(x)).numpy()
    with pytest.warns(UserWarning):
        out_t = torch.nn.functional.softmax(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out_g, out_t)


def test_dropout_train_and_eval():
    tg.manual_seed(0)
    d = tg.nn.Dropout(0.4)
    x = tg.ones(2000, dtype=tg.float64, requires_grad=True)
    y = d(x)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.6])
    assert 0.3 < (y.detach().numpy() == 0).mean() < 0.5
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    d.eval()
    assert d(x) is x
    assert (tg.nn.Dropout(1.0)(x).detach().numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        tg.nn.Dropout(1.5)


def test_flatten_unflatten_match_torch():
    x = _input(2, 3, 4)
    for args in [(), (0,), (1, 2)]:
        out_g = tg.nn.Flatten(*args)(tg.tensor(x)).shape
        out_t = torch.nn.Flatten(*args)(torch.tensor(x)).shape
        assert tuple(out_g) == tuple(out_t)
        assert repr(tg.nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))
    u = tg.nn.Unflatten(1, (2, 2))
    assert repr(u) == repr(torch.nn.Unflatten(1, (2, 2)))
    assert tuple(u(tg.tensor(_input(3, 4))).shape) == (3, 2, 2)


def test_mlp_training_step_matches_torch():
    def mlp(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3)).double()
    tm, gm = mlp(torch), mlp(tg)
    copy_params(tm, gm)
    x = _input(6, 4)
    target = np.array([0, 2, 1, 1, 0, 2])
    lt = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(target))
    lg = tg.nn.functional.cross_entropy(gm(tg.tensor(x)), tg.tensor(target))
    assert_close(lg, lt)
    lt.backward()
    lg.backward()
    for pt, pg in zip(tm.parameters(), gm.parameters()):
        assert_close(pg.grad, pt.grad)
