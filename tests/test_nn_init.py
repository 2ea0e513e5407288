"""nn.init distributions and gains, default layer initialisation, and nn.utils."""

import math

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
init = tg.nn.init


@pytest.mark.parametrize("args", [("linear",), ("relu",), ("tanh",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("selu",), ("sigmoid",), ("conv2d",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")


def _sample(fn, shape=(400, 300), **kwargs):
    t = tg.empty(*shape, dtype=tg.float64)
    out = fn(t, **kwargs)
    assert out is t
    return t.numpy()


def test_uniform_and_normal_moments():
    tg.manual_seed(0)
    u = _sample(init.uniform_, a=-2.0, b=3.0)
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.02
    n = _sample(init.normal_, mean=1.0, std=2.0)
    assert abs(n.mean() - 1) < 0.02 and abs(n.std() - 2) < 0.02


def test_constant_zeros_ones_eye():
    assert (_sample(init.constant_, val=0.3) == 0.3).all()
    assert (_sample(init.zeros_) == 0).all()
    assert (_sample(init.ones_) == 1).all()
    np.testing.assert_array_equal(_sample(init.eye_, shape=(3, 4)), np.eye(3, 4))


@pytest.mark.parametrize("fn,expected_std", [
    ("xavier_uniform_", math.sqrt(2 / (300 * 9 + 200 * 9))),
    ("xavier_normal_", math.sqrt(2 / (300 * 9 + 200 * 9))),
    ("kaiming_uniform_", math.sqrt(2) / math.sqrt(300 * 9)),
    ("kaiming_normal_", math.sqrt(2) / math.sqrt(300 * 9)),
])
def test_fan_based_initialisers_have_torch_std(fn, expected_std):
    tg.manual_seed(1)
    kwargs = {"nonlinearity": "relu"} if fn.startswith("kaiming") else {}
    w = _sample(getattr(init, fn), shape=(200, 300, 3, 3), **kwargs)
    assert abs(w.std() / expected_std - 1) < 0.02


def test_kaiming_uniform_bound_is_exact():
    w = _sample(init.kaiming_uniform_, shape=(50, 20), a=math.sqrt(5))
    bound = 1 / math.sqrt(20)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_orthogonal_rows_or_columns_are_orthonormal():
    for shape in [(5, 3), (3, 5)]:
        q = _sample(init.orthogonal_, shape=shape, gain=2.0)
        small = min(shape)
        prod = q.T @ q if shape[0] > shape[1] else q @ q.T
        np.testing.assert_allclose(prod, 4 * np.eye(small), atol=1e-12)


def test_fan_error_matches_torch():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tg.empty(3))


def test_linear_default_initialisation_bounds():
    m = tg.nn.Linear(16, 1000)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24
    assert np.abs(b).max() <= 0.25 and abs(w.std() - 0.25 / math.sqrt(3)) < 0.01
    assert m.weight.requires_grad and m.weight.grad_fn is None


def _params_with_grads(lib, grads):
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*g.shape, dtype=lib.float64))
        p.grad = lib.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    pt, pg = _params_with_grads(torch, grads), _params_with_grads(tg, grads)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type)
    ng = tg.nn.utils.clip_grad_norm_(pg, max_norm, norm_type)
    np.testing.assert_allclose(ng.item(), nt.item(), rtol=1e-12)
    for a, b in zip(pg, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch():
    grads = [np.linspace(-3, 3, 12).reshape(3, 4)]
    pt, pg = _params_with_grads(torch, grads), _params_with_grads(tg, grads)
    torch.nn.utils.clip_grad_value_(pt, 1.5)
    tg.nn.utils.clip_grad_value_(pg, 1.5)
    np.testing.assert_array_equal(pg[0].grad.numpy(), pt[0].grad.numpy())


def test_parameters_vector_round_trip():
    m = tg.nn.Linear(3, 2)
    vec = tg.nn.utils.parameters_to_vector(m.parameters())
    assert tuple(vec.shape) == (8,) and vec.grad_fn is not None
    tg.nn.utils.vector_to_parameters(tg.arange(8.0), m.parameters())
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.bias.detach().numpy(), [6.0, 7.0])
