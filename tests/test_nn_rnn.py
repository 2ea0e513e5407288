"""RNN, LSTM and GRU against torch (float64): outputs, final states, all gradients."""

import warnings

import numpy as np
import pytest
from torch_compare import assert_close, copy_params, tensor_pair

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(9)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", [
    {}, {"num_layers": 2}, {"batch_first": True}, {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True}, {"bias": False},
])
def test_recurrent_layers_match_torch(name, kwargs):
    tm = getattr(torch.nn, name)(3, 4, **kwargs).double()
    gm = getattr(tg.nn, name)(3, 4, **kwargs).double()
    assert repr(gm) == repr(tm)
    assert [k for k, _ in gm.named_parameters()] == [k for k, _ in tm.named_parameters()]
    copy_params(tm, gm)
    shape = (2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3)
    xt, xg = tensor_pair(torch, RNG.standard_normal(shape))
    ot, ht = tm(xt)
    og, hg = gm(xg)
    assert_close(og, ot)
    states_t = ht if isinstance(ht, tuple) else (ht,)
    states_g = hg if isinstance(hg, tuple) else (hg,)
    for a, b in zip(states_g, states_t):
        assert_close(a, b)
    up = RNG.standard_normal(tuple(ot.shape))
    loss_t = (ot * torch.tensor(up)).sum() + sum(s.sum() for s in states_t)
    loss_g = (og * tg.tensor(up)).sum() + sum(s.sum() for s in states_g)
    loss_t.backward()
    loss_g.backward()
    assert_close(xg.grad, xt.grad)
    for pt, pg in zip(tm.parameters(), gm.parameters()):
        assert_close(pg.grad, pt.grad)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_initial_state_and_unbatched_input(name):
    tm = getattr(torch.nn, name)(3, 4, num_layers=2).double()
    gm = getattr(tg.nn, name)(3, 4, num_layers=2).double()
    copy_params(tm, gm)
    h0 = RNG.standard_normal((2, 4))
    x = RNG.standard_normal((5, 3))
    hx_t = torch.tensor(h0) if name != "LSTM" else (torch.tensor(h0), torch.tensor(h0 * 0.5))
    hx_g = tg.tensor(h0) if name != "LSTM" else (tg.tensor(h0), tg.tensor(h0 * 0.5))
    ot, _ = tm(torch.tensor(x), hx_t)
    og, _ = gm(tg.tensor(x), hx_g)
    assert_close(og, ot)


def test_rnn_relu_and_dropout_repr():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.RNN(4, 3, nonlinearity="relu", num_layers=2, dropout=0.5)
    assert repr(tg.nn.RNN(4, 3, nonlinearity="relu", num_layers=2, dropout=0.5)) == repr(tm)


def test_rnn_relu_matches_torch():
    tm = torch.nn.RNN(3, 4, nonlinearity="relu").double()
    gm = tg.nn.RNN(3, 4, nonlinearity="relu").double()
    copy_params(tm, gm)
    xt, xg = tensor_pair(torch, RNG.standard_normal((5, 2, 3)))
    ot, _ = tm(xt)
    og, _ = gm(xg)
    assert_close(og, ot)
    ot.sum().backward()
    og.sum().backward()
    assert_close(xg.grad, xt.grad)
