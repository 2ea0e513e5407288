"""Where a gradient is masked off (relu below 0, clamp outside its bounds, max away from
the extremum, overwritten elements ...) torch writes +0.0; tapegrad must not leave the
-0.0 that ``g * 0`` gives for a negative incoming gradient. Compared bit for bit
(np.signbit) with torch, including where torch itself multiplies (amax, leaky_relu)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = [-1.0, 0.5, 2.0, -3.0, 0.0, 1.0]
OPS = {
    "relu": lambda L, x: x.relu(),
    "relu_": lambda L, x: (x * 1).relu_(),
    "relu_nan": lambda L, x: (x * L.tensor([float("nan"), 1, 1, 1, 1, 1],
                                            dtype=L.float64)).relu(),
    "threshold": lambda L, x: L.nn.functional.threshold(x, 0.1, 0.5),
    "hardtanh": lambda L, x: L.nn.functional.hardtanh(x, -0.5, 0.7),
    "relu6": lambda L, x: L.nn.functional.relu6(x),
    "leaky_relu_0": lambda L, x: L.nn.functional.leaky_relu(x, 0.0),
    "clamp": lambda L, x: x.clamp(-0.5, 0.7),
    "clamp_": lambda L, x: (x * 1).clamp_(-0.5, 0.7),
    "clamp_min": lambda L, x: x.clamp(min=0.1),
    "clamp_tensor": lambda L, x: x.clamp(L.full_like(x, -0.5), L.full_like(x, 0.7)),
    "max": lambda L, x: x.max(),
    "min": lambda L, x: x.min(),
    "median": lambda L, x: x.median(),
    "max_dim": lambda L, x: x.reshape(2, 3).max(1).values,
    "amax": lambda L, x: x.reshape(2, 3).amax(1),
    "maximum": lambda L, x: L.maximum(x, L.zeros_like(x)),
    "fmax": lambda L, x: L.fmax(x, L.zeros_like(x)),
    "where": lambda L, x: L.where(x > 0, x, L.zeros_like(x)),
    "masked_fill": lambda L, x: x.masked_fill(x < 0, 0.0),
    "index_put": lambda L, x: x.index_put((L.tensor([0, 1]),),
                                          L.tensor([1.0, 2.0], dtype=L.float64)),
    "setitem": lambda L, x: (lambda y: (y.__setitem__(slice(0, 2), 0.0), y)[1])(x * 1),
    "scatter": lambda L, x: x.scatter(0, L.tensor([0, 1]),
                                      L.tensor([1.0, 2.0], dtype=L.float64)),
    "fill_": lambda L, x: (x * 1).fill_(2.0),
    "floor": lambda L, x: x.floor(),
    "sign": lambda L, x: x.sign(),
    "div_floor": lambda L, x: x.div(2.0, rounding_mode="floor"),
    "pow_0": lambda L, x: x ** 0,
    "std_constant": lambda L, x: (x * 0 + 1).std(),
    "max_pool1d": lambda L, x: L.nn.functional.max_pool1d(x.reshape(1, 1, 6), 2).reshape(-1),
}


def _grad_signs(lib, op, owned):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    y = OPS[op](lib, x)
    if owned:     # the engine alone holds the incoming gradient (may write into it)
        (y * -1.5).sum().backward()
    else:
        y.backward(lib.full_like(y, -1.5))
    grad = x.grad.detach().numpy()
    return repr(grad.tolist()), np.signbit(grad).tolist()      # repr: nan == nan


@pytest.mark.parametrize("owned", [False, True], ids=["given_grad", "owned_grad"])
@pytest.mark.parametrize("op", list(OPS))
def test_masked_gradient_signs_match_torch(op, owned):
    assert _grad_signs(tg, op, owned) == _grad_signs(torch, op, owned)


@pytest.mark.parametrize("op", ["relu", "hardtanh", "clamp", "max"])
def test_masked_gradient_under_create_graph_matches_torch(op):
    results = []
    for lib in (tg, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(OPS[op](lib, x), x, lib.full_like(OPS[op](lib, x), -1.5),
                                 create_graph=True)
        results.append(np.signbit(g.detach().numpy()).tolist())
    assert results[0] == results[1]
