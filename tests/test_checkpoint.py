"""utils.checkpoint: values, gradients, recomputation count, RNG replay, warnings and
errors of checkpoint / checkpoint_sequential — vs torch."""

import warnings

import numpy as np
import pytest
from torch_compare import assert_same_result

import tapegrad

torch = pytest.importorskip("torch")

X = [[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, 0.9], [-0.2, 0.8, 0.4, -1.1]]
W = [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.3, 0.2, 0.7], [0.6, -0.5, 0.1]]


def block(lib, calls):
    def f(x, w, scale=1.0):
        calls.append("run")
        h = (x @ w).tanh()
        return (h * h.sin()).sum(-1) * scale
    return f


def inputs(lib):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    return x, w


def cp(lib):
    __import__(lib.__name__ + ".utils.checkpoint")
    return lib.utils.checkpoint


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_values_grads_and_recompute_count_match_torch(use_reentrant):
    def prog(lib):
        calls = []
        x, w = inputs(lib)
        y = cp(lib).checkpoint(block(lib, calls), x, w, use_reentrant=use_reentrant)
        calls.append("forward done")
        y.sum().backward()
        return y, x.grad, w.grad, calls, y.grad_fn.name()
    assert_same_result(prog, torch)


def test_kwargs_autograd_grad_and_higher_order():
    def prog(lib):
        calls = []
        x, w = inputs(lib)
        y = cp(lib).checkpoint(block(lib, calls), x, w, scale=2.0, use_reentrant=False)
        gx, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gw, = lib.autograd.grad(gx.sum(), w)
        return y, gx, gw, calls
    assert_same_result(prog, torch)


def test_gradients_equal_the_unchckpointed_ones():
    calls = []
    f = block(tapegrad, calls)
    x, w = inputs(tapegrad)
    f(x, w).sum().backward()
    plain = (x.grad.numpy().copy(), w.grad.numpy().copy())
    x.grad = w.grad = None
    cp(tapegrad).checkpoint(f, x, w, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), plain[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), plain[1], rtol=1e-12)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_dropout_is_replayed_with_the_forward_rng_state(use_reentrant):
    def f(x):
        return tapegrad.nn.functional.dropout(x.sin(), 0.5, training=True).exp()
    x = tapegrad.ones(50, dtype=tapegrad.float64, requires_grad=True)
    tapegrad.manual_seed(3)
    f(x).sum().backward()
    plain = x.grad.numpy().copy()
    x.grad = None
    tapegrad.manual_seed(3)
    y = cp(tapegrad).checkpoint(f, x, use_reentrant=use_reentrant)
    tapegrad.rand(7)                          # the RNG moves on before backward
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain)


def test_without_preserve_rng_state_dropout_is_redrawn():
    def f(x):
        return tapegrad.nn.functional.dropout(x.sin(), 0.5, training=True).exp()
    x = tapegrad.ones(200, dtype=tapegrad.float64, requires_grad=True)
    tapegrad.manual_seed(3)
    y = f(x)
    tapegrad.manual_seed(3)
    yc = cp(tapegrad).checkpoint(f, x, use_reentrant=False, preserve_rng_state=False)
    np.testing.assert_array_equal(y.detach().numpy(), yc.detach().numpy())
    yc.sum().backward()
    mask = y.detach().numpy() != 1.0
    assert (x.grad.numpy() != 0).tolist() != mask.tolist()


def test_retain_graph_and_saved_attribute_access_recompute_again():
    def prog(lib):
        calls = []
        x, w = inputs(lib)
        y = cp(lib).checkpoint(block(lib, calls), x, w, use_reentrant=False)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        a = lib.tensor([0.1, 0.2], requires_grad=True)

        def h(a):
            calls.append("h")
            return a.sin()
        z = cp(lib).checkpoint(h, a, use_reentrant=False)
        s1 = z.grad_fn._saved_self
        s2 = z.grad_fn._saved_self
        return calls, x.grad, s1, s2, s1.grad_fn
    assert_same_result(prog, torch)


def test_no_grad_runs_the_function_once_and_records_nothing():
    def prog(lib):
        calls = []
        x, w = inputs(lib)
        with lib.no_grad():
            y = cp(lib).checkpoint(block(lib, calls), x, w, use_reentrant=False)
        return y, calls
    assert_same_result(prog, torch)


def test_missing_use_reentrant_warns_and_uses_the_reentrant_variant():
    def prog(lib):
        x, w = inputs(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = cp(lib).checkpoint(block(lib, []), x, w)
            cp(lib).checkpoint_sequential([lambda t: t.sin(), lambda t: t.cos()], 2, x)
        return [(w.category.__name__, str(w.message)) for w in caught], y.grad_fn.name()
    assert_same_result(prog, torch)


def test_reentrant_rejects_autograd_grad_and_kwargs():
    def grad_prog(lib):
        x, w = inputs(lib)
        y = cp(lib).checkpoint(block(lib, []), x, w, use_reentrant=True)
        lib.autograd.grad(y.sum(), x)

    def kwargs_prog(lib):
        x, w = inputs(lib)
        cp(lib).checkpoint(block(lib, []), x, w, use_reentrant=True, scale=2.0)
    assert_same_result(grad_prog, torch)
    assert_same_result(kwargs_prog, torch)


RERUNS = {   # what the function does when run again; the first run computes x.sin().sum()
    "saves fewer tensors": (lambda x: x.sum(), 3),
    "saves another shape": (lambda x: x[:2].sin().sum(), 4),
}


@pytest.mark.parametrize("rerun", list(RERUNS))
def test_non_deterministic_function_raises_checkpoint_error(rerun):
    def prog(lib):
        runs = []
        again, lines = RERUNS[rerun]

        def g(x):
            runs.append(1)
            return x.sin().sum() if len(runs) == 1 else again(x)
        x, _ = inputs(lib)
        y = cp(lib).checkpoint(g, x, use_reentrant=False)
        try:
            y.backward()
        except cp(lib).CheckpointError as e:
            return str(e).split("\n")[:lines]
    assert_same_result(prog, torch)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_sequential_matches_torch(use_reentrant):
    def prog(lib):
        x, _ = inputs(lib)
        model = lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Sigmoid(), lib.nn.Softplus(),
                                  lib.nn.Tanh(), lib.nn.Sigmoid())
        y = cp(lib).checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant)
        y.sum().backward()
        fns = [lambda t: t.sin(), lambda t: t * 2, lambda t: t.exp(), lambda t: t.cos()]
        z = cp(lib).checkpoint_sequential(fns, 3, x, use_reentrant=use_reentrant)
        return y, x.grad, z
    assert_same_result(prog, torch)


def test_nested_checkpoint_gradients():
    def prog(lib):
        calls = []
        x, w = inputs(lib)
        inner = block(lib, calls)

        def outer(x, w):
            calls.append("outer")
            return cp(lib).checkpoint(inner, x.cos(), w, use_reentrant=False).exp()
        y = cp(lib).checkpoint(outer, x, w, use_reentrant=False)
        y.sum().backward()
        return y, x.grad, w.grad, calls
    assert_same_result(prog, torch)


def test_checkpoint_saves_no_intermediate_activations():
    log = []
    x = tapegrad.ones(4, requires_grad=True)

    def f(t):
        return t.sin().exp().cos()
    with tapegrad.autograd.graph.saved_tensors_hooks(lambda t: log.append(t) or t, lambda t: t):
        cp(tapegrad).checkpoint(f, x, use_reentrant=False)
    assert log == []                         # the checkpoint's own hooks are innermost


@pytest.mark.parametrize("leaf", [False, True])
def test_input_modified_in_place_after_checkpoint_raises(leaf):
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        a = x if leaf else x * 1
        y = cp(lib).checkpoint(lambda t: t.sin(), a, use_reentrant=False)
        with lib.no_grad():
            a.add_(1)
        y.sum().backward()
    assert_same_result(prog, torch)
