"""The engine adopts an unshared gradient array as a leaf's .grad instead of copying it;
these tests check that adoption never makes two tensors share memory and never lets
a later in-place accumulation change an array the user or another leaf holds."""

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _shares(a, b):
    return np.shares_memory(a.detach().numpy(), b.detach().numpy())


def test_two_leaves_fed_the_same_gradient_array_do_not_alias():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    y = tapegrad.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()                 # AddBackward sends one array to both leaves
    assert not _shares(x.grad, y.grad)
    (x + y).sum().backward()                 # accumulating into one must not change the other
    x.grad.add_(100.0)
    assert y.grad.tolist() == [2.0, 2.0]
    assert x.grad.tolist() == [102.0, 102.0]


def test_user_gradient_is_never_adopted_or_mutated():
    for make in (lambda x: x + 1.0, lambda x: x * 1.0, lambda x: x):
        x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        u = tapegrad.tensor([0.5, 0.25])
        out = make(x)
        if out is x:
            x.backward(gradient=u)
        else:
            out.backward(gradient=u)
        assert not _shares(x.grad, u)
        x2 = make(x)
        (x2 if x2 is not x else x).backward(gradient=u)
        assert u.tolist() == [0.5, 0.25]
        assert x.grad.tolist() == [1.0, 0.5]


def test_hook_that_keeps_the_gradient_sees_it_unchanged_by_later_accumulation():
    kept = []
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: kept.append(g))
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    assert [k.tolist() for k in kept] == [[3.0, 3.0], [3.0, 3.0]]
    assert x.grad.tolist() == [6.0, 6.0]
    assert not _shares(x.grad, kept[0])


def test_grads_match_torch_after_repeated_accumulation_through_shared_paths():
    data = np.array([0.3, -1.2, 2.0], np.float32)
    results = []
    for lib in (tapegrad, torch):
        a = lib.tensor(data, requires_grad=True)
        b = lib.tensor(data * 2, requires_grad=True)
        for _ in range(3):
            s = a + b
            (s * s + a - b).sum().backward()
        results.append((a.grad.numpy().copy(), b.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


def test_large_gradient_is_adopted_without_copy_only_when_unshared():
    w = tapegrad.tensor(np.ones((64, 64), np.float32), requires_grad=True)
    x = tapegrad.tensor(np.ones((8, 64), np.float32))
    (x @ w).sum().backward()
    g = w.grad
    assert g.numpy().flags.owndata or g.numpy().base is None
    assert not _shares(g, x)


def test_transposed_weight_gradient_is_adopted_contiguous_and_matches_torch():
    rng = np.random.default_rng(0)
    xd = rng.standard_normal((5, 4)).astype(np.float32)
    wd = rng.standard_normal((3, 4)).astype(np.float32)
    grads = []
    for lib in (tapegrad, torch):
        w = lib.tensor(wd, requires_grad=True)
        (lib.tensor(xd) @ w.T).tanh().sum().backward()
        assert w.grad.is_contiguous()
        assert w.grad.stride() == (4, 1)
        grads.append(w.grad.detach().numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-6)


def test_transposed_gradient_kept_by_a_hook_is_not_adopted():
    kept = []
    w = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    wt = w.T
    wt.register_hook(lambda g: kept.append(g))
    x = tapegrad.tensor([[1.0, 0.5], [0.0, 2.0]])
    (x @ wt).sum().backward()
    assert not _shares(w.grad, kept[0])
    w.grad.add_(10.0)
    assert kept[0].tolist() == [[1.0, 1.0], [2.5, 2.5]]


def _chain(lib, x):
    a = x * 0.5
    b = lib.exp(a)
    c = lib.sin(b)
    d = lib.relu(c * 3.0)
    return a, b, c, d


def _torch_and_tapegrad(fn):
    data = np.linspace(-2.0, 2.0, 5000)     # large enough for the in-place path
    return [fn(lib, lib.tensor(data, requires_grad=True)) for lib in (tapegrad, torch)]


def test_gradients_written_in_place_in_backward_match_torch():
    def run(lib, x):
        (lib.exp(_chain(lib, x)[3]) * x).sum().backward()
        return x.grad.numpy().copy()
    a, b = _torch_and_tapegrad(run)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_intermediate_gradients_seen_by_hooks_retain_grad_and_grad_are_not_overwritten():
    def run(lib, x):
        a, b, c, d = _chain(lib, x)
        kept = []
        b.register_hook(lambda g: kept.append(g))
        c.retain_grad()
        d.grad_fn.register_hook(lambda gi, go: kept.append(go[0]))
        a.grad_fn.register_prehook(lambda go: kept.append(go[0]))
        d.sum().backward(retain_graph=True)
        (gb,) = lib.autograd.grad(d.sum(), b)
        return [k.numpy().copy() for k in kept] + [c.grad.numpy().copy(), gb.numpy().copy(),
                                                     x.grad.numpy().copy()]
    a, b = _torch_and_tapegrad(run)
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_gradient_sent_along_two_edges_is_not_written_in_place():
    def run(lib, x):
        s = x * 0.5
        y = lib.exp(s) + lib.sin(s)          # AddBackward sends one array to exp and sin
        (y * 2.0).sum().backward()
        return x.grad.numpy().copy()
    a, b = _torch_and_tapegrad(run)
    np.testing.assert_allclose(a, b, rtol=1e-12)
