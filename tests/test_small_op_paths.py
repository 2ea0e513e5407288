"""The short paths taken by small elementwise graphs: the engine running a chain of nodes
without its heap, operators on Python floats and on same-dtype tensors, and the saved
values they read back. Each compared with torch: values, the order hooks run in, errors."""

import gc

import numpy as np
import pytest
from torch_compare import assert_same_repr, assert_same_result

import tapegrad

torch = pytest.importorskip("torch")


def _numpy_chain(x0: np.ndarray, n: int) -> tuple:
    """The W1 chain by hand in float32 NumPy: value, and gradient by the chain rule."""
    saved, x = [], x0
    for _ in range(n):
        x = x * np.float32(0.5) + np.float32(0.1)
        saved.append(x)
        x = np.exp(np.sin(x))
        saved.append(x)
    g = np.ones_like(x0)
    for i in range(len(saved) - 1, 0, -2):
        g = g * saved[i]
        g = g * np.cos(saved[i - 1])
        g = g * np.float32(0.5)
    return x, g


def test_chain_matches_hand_written_float32_bitwise_and_torch_closely():
    x = tapegrad.tensor([0.3], requires_grad=True)
    y = x
    for _ in range(50):
        y = tapegrad.exp(tapegrad.sin(y * 0.5 + 0.1))
    y.backward()
    value, grad = _numpy_chain(np.array([0.3], np.float32), 50)
    assert y._data.tobytes() == value.tobytes()
    assert x.grad._data.tobytes() == grad.tobytes() and x.grad.dtype == tapegrad.float32

    xt = torch.tensor([0.3], requires_grad=True)
    yt = xt
    for _ in range(50):
        yt = torch.exp(torch.sin(yt * 0.5 + 0.1))
    yt.backward()
    assert np.allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5)
    assert np.allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4)


def test_scalar_mlp_matches_torch():
    def fn(L):
        w = [L.tensor(v, requires_grad=True) for v in (0.5, -0.25, 0.75)]
        b = L.tensor(0.1, requires_grad=True)
        s = b
        for wi, a in zip(w, (1.0, 2.0, -3.0)):
            s = s + wi * L.tensor(a)
        loss = (s.tanh() - 0.5) * (s.tanh() - 0.5)
        loss.backward()
        return [p.grad for p in (*w, b)] + [loss, loss.grad_fn.name(), s.grad_fn.name()]
    assert_same_result(fn, torch)


def test_hook_order_where_a_chain_meets_waiting_branches():
    def fn(L):
        log = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([3.0, 4.0], requires_grad=True)
        a = x * w                              # feeds a chain and a second branch
        chain = a.sin().exp().cos()
        branch = a * 2.0
        for name, t in (("a", a), ("chain", chain), ("branch", branch)):
            t.register_hook(lambda g, name=name: log.append(name))
        for name, t in (("x", x), ("w", w)):
            t.register_hook(lambda g, name=name: log.append(name))
            t.register_post_accumulate_grad_hook(lambda p, name=name: log.append("acc " + name))
        (chain + branch).sum().backward()
        return log, x.grad, w.grad
    assert_same_repr(fn, torch)


def test_node_hooks_run_along_a_chain():
    def fn(L):
        log = []
        x = L.tensor([0.5], requires_grad=True)
        y = x.exp()
        z = y.sin()
        z.grad_fn.register_prehook(lambda go: log.append(("pre sin", go[0].tolist())))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post exp", gi[0].tolist())))
        z.backward()
        return log
    assert_same_repr(fn, torch)


def test_second_backward_through_a_chain_raises():
    def fn(L):
        x = L.tensor([0.5], requires_grad=True)
        y = (x * 0.5).exp().sin()
        y.backward()
        y.backward()
    assert_same_repr(fn, torch)


def test_saved_input_modified_in_place_raises_on_backward():
    def fn(L):
        x = L.tensor([0.5], requires_grad=True)
        y = (x * 1.0).exp()
        z = y.sin()
        y.add_(1.0)
        z.sum().backward()
    assert_same_repr(fn, torch)


def test_unsupported_operand_gives_way_to_python():
    def fn(L):
        x = L.tensor([1.0, 2.0])
        return [type(e).__name__ + ": " + str(e) for e in _errors(
            lambda: x * "a", lambda: x + None, lambda: [1.0] + x, lambda: L.mul(x, "a"))]
    assert_same_repr(fn, torch)


def _errors(*calls):
    out = []
    for call in calls:
        try:
            call()
        except Exception as e:  # noqa: BLE001 -- compared with torch's
            out.append(e)
    return out


def test_saved_attributes_are_class_properties():
    def fn(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        e = x.exp()
        return (y.grad_fn._saved_self, y.grad_fn._saved_other, e.grad_fn._saved_result,
                hasattr(y.grad_fn, "_saved_result"), hasattr(e.grad_fn, "_saved_self"))
    assert_same_repr(fn, torch)


def test_no_node_getattr_fallback():
    # A class-level __getattr__ on nodes would slow every attribute read the engine makes.
    x = tapegrad.tensor([1.0], requires_grad=True)
    assert "__getattr__" not in {k for cls in type(x.exp().grad_fn).__mro__ for k in vars(cls)}
    with pytest.raises(AttributeError, match="has no attribute '_saved_nothing'"):
        x.exp().grad_fn._saved_nothing  # noqa: B018


def test_leaf_gradient_along_a_chain_is_adopted_not_copied():
    x = tapegrad.tensor(np.ones(8192, np.float32), requires_grad=True)
    (x * 2.0).exp().sum().backward()
    assert x.grad._data.flags.owndata and x.grad._data.flags.writeable
    assert np.allclose(x.grad._data, 2 * np.exp(2.0))


def test_gc_state_restored_after_backward_of_a_chain():
    x = tapegrad.tensor([0.5], requires_grad=True)
    assert gc.isenabled()
    (x * 0.5).sin().backward()
    assert gc.isenabled()
