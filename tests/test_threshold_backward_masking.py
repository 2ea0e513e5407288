"""relu / threshold backward selects as torch's threshold_backward: where the input is at
or below the threshold the gradient is +0.0, even for an infinite or NaN incoming
gradient (not the NaN of inf * 0, nor the -0.0 of a negative gradient times 0)."""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = [-1.0, 0.0, 2.0, -3.0, 0.5, float("nan")]
G = [float("inf"), -float("inf"), float("inf"), float("nan"), -2.0, 1.5]

CALLS = {
    "relu": lambda lib, x: x.relu(),
    "functional_relu": lambda lib, x: lib.nn.functional.relu(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.25, -1.0),
    "relu_of_view": lambda lib, x: x[::2].relu(),
}


def _grads(lib, call, dtype, create_graph):
    x = lib.tensor(X, dtype=dtype, requires_grad=True)
    y = CALLS[call](lib, x)
    g = lib.tensor(G[:y.numel()], dtype=dtype)
    (gx,) = lib.autograd.grad(y, x, g, create_graph=create_graph)
    return gx.detach().numpy()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("call", CALLS)
def test_masked_gradient_bits_match_torch(call, dtype, create_graph):
    ours = _grads(tg, call, getattr(tg, dtype), create_graph)
    theirs = _grads(torch, call, getattr(torch, dtype), create_graph)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_relu_gradient_accumulated_into_grad_matches_torch():
    """The engine's in-place path (it owns the incoming gradient)."""
    results = []
    for lib in (tg, torch):
        x = lib.tensor(np.linspace(-2, 2, 4096), requires_grad=True)
        w = lib.tensor(np.where(np.arange(4096) % 3, np.inf, -5.0))
        (x.relu() * w).sum().backward()
        results.append(x.grad.numpy())
    np.testing.assert_array_equal(*results)
    np.testing.assert_array_equal(np.signbit(results[0]), np.signbit(results[1]))
