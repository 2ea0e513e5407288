"""Activations' derivatives under create_graph=True: the first derivative is a node named
as torch names it (ThresholdBackwardBackward0, SigmoidBackwardBackward0, ...) that
requires grad, and its own derivatives (w.r.t. the input and the incoming gradient, and
one order further) match torch and float64 finite differences."""

import numpy as np
import pytest
from torch_compare import check_derivatives

import tapegrad as tg

torch = pytest.importorskip("torch")

# name -> (activation(lib, x), input values away from kinks, whether torch's derivative
# graph one level down is also ours: silu's inner add is torch's C++ AddBackward1)
X = [[0.5, -1.5, 2.0], [0.3, -0.2, 1.2]]
ACTIVATIONS = {
    "relu": (lambda lib, x: x.relu(), X, True),
    "threshold": (lambda lib, x: lib.nn.functional.threshold(x, 0.1, 0.5), X, True),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), X, True),
    "tanh": (lambda lib, x: x.tanh(), X, True),
    "softmax": (lambda lib, x: x.softmax(-1), X, True),
    "log_softmax": (lambda lib, x: lib.log_softmax(x, 0), X, True),
    "leaky_relu": (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2), X, True),
    "elu": (lambda lib, x: lib.nn.functional.elu(x, 1.3), X, True),
    "gelu": (lambda lib, x: lib.nn.functional.gelu(x), X, True),
    "gelu_tanh": (lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"), X, True),
    "silu": (lambda lib, x: lib.nn.functional.silu(x), X, False),
    "mish": (lambda lib, x: lib.nn.functional.mish(x), X, True),
    "softplus": (lambda lib, x: lib.nn.functional.softplus(x), X, True),
    "softplus_linear_part": (lambda lib, x: lib.nn.functional.softplus(x, 2.0, 1.5), X, True),
    "hardtanh": (lambda lib, x: lib.nn.functional.hardtanh(x), X, True),
    "relu6": (lambda lib, x: lib.nn.functional.relu6(x * 2), X, True),
}
NAMES = list(ACTIVATIONS)
GRAD_OUTPUT = [[0.3, -0.7, 1.1], [0.9, 0.2, -0.4]]


def _first(lib, name):
    """x, the incoming gradient, and the first derivative built with create_graph."""
    act, values, _ = ACTIVATIONS[name]
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    go = lib.tensor(GRAD_OUTPUT, dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad(act(lib, x), x, go, create_graph=True)
    return x, go, g


def _names(fn):
    return [None if f is None else f.name() for f, _ in fn.next_functions]


@pytest.mark.parametrize("name", NAMES)
def test_first_derivative_node_matches_torch(name):
    *_, ours = _first(tg, name)
    *_, theirs = _first(torch, name)
    assert ours.requires_grad and theirs.requires_grad
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    if ACTIVATIONS[name][2]:
        assert _names(ours.grad_fn) == _names(theirs.grad_fn)


@pytest.mark.parametrize("name", NAMES)
def test_second_derivatives_match_torch(name):
    """d(sum g)/dx and d(sum g)/d grad_output, by double backward."""
    results = []
    for lib in (tg, torch):
        x, go, g = _first(lib, name)
        results.append([t.detach().numpy() for t in lib.autograd.grad((g * g).sum(), (x, go))])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_relu_derivative_is_differentiable_as_in_torch():
    results = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        (g,) = lib.autograd.grad(x.relu().sum(), x, create_graph=True)
        results.append((repr(g), g.requires_grad, lib.autograd.grad(g.sum(), x)[0].tolist()))
    assert results[0] == results[1]
    assert results[0][0] == "tensor([1., 0.], grad_fn=<ThresholdBackwardBackward0>)"


@pytest.mark.parametrize("name", NAMES)
def test_plain_backward_matches_torch(name):
    """The array path (no graph), including the in-place one for an owned gradient."""
    results = []
    for lib in (tg, torch):
        act, values, _ = ACTIVATIONS[name]
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        act(lib, x).backward(lib.tensor(GRAD_OUTPUT, dtype=lib.float64))
        (act(lib, x) * 2).sum().backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_function_by_finite_differences(name):
    """(x, grad_output) -> derivative: its first and second derivatives (the activation's
    second and third) by float64 central differences, and equal to torch's."""
    act = ACTIVATIONS[name][0]

    def derivative(lib, x, go):
        with lib.enable_grad():
            leaf = x if x.requires_grad else x.detach().requires_grad_()
            return lib.autograd.grad(act(lib, leaf), leaf, go, create_graph=True)[0]

    check_derivatives(derivative, ACTIVATIONS[name][1], GRAD_OUTPUT, torch=torch)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_third_derivative_nodes_match_torch(name):
    """The second derivative is itself a graph (through the fused node's formulas)."""
    results = []
    for lib in (tg, torch):
        x, go, g = _first(lib, name)
        (gx,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        third = lib.autograd.grad(gx.sum(), (x, go))
        results.append((gx.requires_grad, [t.detach().numpy() for t in third]))
    assert results[0][0] and results[1][0]
    for ours, theirs in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_zero_dim_softmax_double_backward(fn):
    results = []
    for lib in (tg, torch):
        x = lib.tensor(0.7, dtype=lib.float64, requires_grad=True)
        go = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(x, fn)(0), x, go, create_graph=True)
        results.append((g.grad_fn.name(), g.item(),
                        [t.item() for t in lib.autograd.grad(g, (x, go))]))
    assert results[0] == results[1]


@pytest.mark.parametrize("name,attrs", [("relu", ["_saved_self"]),
                                        ("sigmoid", ["_saved_grad_output", "_saved_output"]),
                                        ("softmax", ["_saved_grad_output", "_saved_output"])])
def test_saved_values_match_torch(name, attrs):
    *_, ours = _first(tg, name)
    *_, theirs = _first(torch, name)
    for attr in attrs:
        np.testing.assert_allclose(getattr(ours.grad_fn, attr).detach().numpy(),
                                   getattr(theirs.grad_fn, attr).detach().numpy(), rtol=1e-12)
    assert not hasattr(ours.grad_fn, "_saved_grad_output") or name != "relu"
