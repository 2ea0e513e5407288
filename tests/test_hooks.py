"""Tensor hooks: register_hook, register_post_accumulate_grad_hook, and how they meet
retain_grad and create_graph; each compared with torch (values, order, errors)."""

import pytest
from torch_compare import assert_same_repr

torch = pytest.importorskip("torch")


@pytest.fixture
def torch_warns_every_time():
    """torch warns once per process about backward(create_graph=True); warning every
    time here keeps that one warning for whichever test checks it, and lets us compare."""
    before = torch._C._get_warnAlways()
    torch._C._set_warnAlways(True)
    yield
    torch._C._set_warnAlways(before)


def log_hook(log, tag, returns=None):
    """A hook that records (tag, grad) and returns ``returns(grad)`` (or None)."""
    def hook(g):
        log.append((tag, None if g is None else g.clone()))
        return None if returns is None else returns(g)
    return hook


# -- register_hook -----------------------------------------------------------------------


def test_hook_returning_a_tensor_replaces_the_gradient():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return x.grad
    assert_same_repr(fn, torch)


def test_hook_returning_none_keeps_the_gradient():
    def fn(L):
        log = []
        x = L.tensor([1., 2., 3.], requires_grad=True)
        x.register_hook(log_hook(log, "seen"))
        (x * x).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_several_hooks_run_in_registration_order_each_seeing_the_previous_result():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(log_hook(log, "a", lambda g: g * 10))
        x.register_hook(log_hook(log, "b"))
        x.register_hook(log_hook(log, "c", lambda g: g + 1))
        (x * 3).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_removed_hook_does_not_run():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        first = x.register_hook(log_hook(log, "first", lambda g: g * 100))
        x.register_hook(log_hook(log, "second"))
        first.remove()
        first.remove()                       # removing twice is harmless
        (x * 3).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_handle_as_context_manager_removes_the_hook():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        with x.register_hook(lambda g: g * 100):
            (x * 3).sum().backward()
        inside = x.grad.clone()
        x.grad = None
        (x * 3).sum().backward()
        return inside, x.grad
    assert_same_repr(fn, torch)


def test_hook_on_non_leaf_changes_what_flows_further_back():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(log_hook(log, "y", lambda g: g * 5))
        (y * y).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_hooks_on_leaf_and_non_leaf_run_newest_node_first():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        z = y * 3
        x.register_hook(log_hook(log, "x"))
        z.register_hook(log_hook(log, "z"))
        y.register_hook(log_hook(log, "y"))
        z.sum().backward()
        return [tag for tag, _ in log], x.grad
    assert_same_repr(fn, torch)


def test_leaf_hook_runs_once_with_the_summed_gradient():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(log_hook(log, "x"))
        (x * 2 + x * x).sum().backward()
        return log
    assert_same_repr(fn, torch)


def test_hook_also_applies_to_autograd_grad_results():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        x.register_hook(lambda g: g * 2)
        y.register_hook(lambda g: g * 3)
        return L.autograd.grad(y.sum(), x), L.autograd.grad((y * 1).sum(), y)
    assert_same_repr(fn, torch)


def test_hook_on_an_output_that_received_no_gradient_sees_none():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        a, b = (x * 2).unbind()
        a.register_hook(log_hook(log, "a"))
        (b * 3).backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_hook_on_tensor_without_grad_raises():
    def fn(L):
        L.tensor([1., 2.]).register_hook(lambda g: g)
    assert_same_repr(fn, torch)

    def fn_no_grad_result(L):
        x = L.tensor([1., 2.], requires_grad=True)
        with L.no_grad():
            y = x * 2
        y.register_hook(lambda g: g)
    assert_same_repr(fn_no_grad_result, torch)


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non_leaf"])
def test_hook_returning_wrong_shape_raises(leaf):
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        t = x if leaf else x * 2

        def resize(g):
            return L.ones(3)
        t.register_hook(resize)
        (t * 2).sum().backward()
    assert_same_repr(fn, torch)


def test_hook_returning_wrong_dtype_raises():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g.double())
        (y * 2).sum().backward()
    assert_same_repr(fn, torch)


def test_hook_returning_a_non_tensor_raises():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: 3)
        (x * 2).sum().backward()
    assert_same_repr(fn, torch)


# -- retain_grad -------------------------------------------------------------------------


def test_retain_grad_stores_the_gradient_after_hooks_registered_before_it():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(log_hook(log, "before", lambda g: g * 2))
        y.retain_grad()
        y.register_hook(log_hook(log, "after", lambda g: g * 3))
        (y * 1).sum().backward()
        return log, y.grad, x.grad
    assert_same_repr(fn, torch)


def test_retain_grad_first_then_hook():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        (y * 1).sum().backward()
        return y.grad, x.grad, y.retains_grad
    assert_same_repr(fn, torch)


def test_retain_grad_on_leaf_is_a_no_op_and_leaf_hooks_still_apply():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        x.retain_grad()
        x.register_hook(lambda g: g * 3)
        (x * 1).sum().backward()
        return x.grad, x.retains_grad
    assert_same_repr(fn, torch)


# -- register_post_accumulate_grad_hook -------------------------------------------------


def test_post_accumulate_hook_runs_after_grad_is_accumulated():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad.clone())))
        x.register_hook(log_hook(log, "pre", lambda g: g * 2))
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_receives_the_tensor_itself():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t is x))
        (x * 3).sum().backward()
        return seen
    assert_same_repr(fn, torch)


def test_post_accumulate_hooks_run_in_order_and_can_be_removed():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: log.append("a"))
        h = x.register_post_accumulate_grad_hook(lambda t: log.append("b"))
        x.register_post_accumulate_grad_hook(lambda t: log.append("c"))
        (x * 3).sum().backward()
        h.remove()
        (x * 3).sum().backward()
        return log
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_can_update_the_parameter():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)

        def sgd_step(t):
            with L.no_grad():
                t.sub_(0.1 * t.grad)
            t.grad = None
        x.register_post_accumulate_grad_hook(sgd_step)
        (x * x).sum().backward()
        return x, x.grad
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_does_not_run_for_autograd_grad():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: log.append("post"))
        L.autograd.grad((x * 3).sum(), x)
        (x * 3).sum().backward(inputs=[x])
        return log
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_on_non_leaf_raises():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_on_tensor_without_grad_raises():
    def fn(L):
        L.tensor([1., 2.]).register_post_accumulate_grad_hook(lambda t: None)
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("returns", [
    lambda L, t: t.detach(), lambda L, t: t.grad, lambda L, t: L.ones(2),
    lambda L, t: L.ones(3), lambda L, t: L.ones(2, dtype=L.float64), lambda L, t: "x",
    lambda L, t: t],
    ids=["detached", "grad", "same_shape", "wrong_shape", "wrong_dtype", "not_tensor",
         "itself"])
def test_post_accumulate_hook_returning_a_value(returns):
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: returns(L, t))
        (x * 3).sum().backward()
        return x.grad
    assert_same_repr(fn, torch)


# -- create_graph ------------------------------------------------------------------------


def test_hook_under_create_graph_is_differentiated_through():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x ** 2
        y.register_hook(lambda g: g * x)
        gx, = L.autograd.grad(y.sum(), x, create_graph=True)
        g2, = L.autograd.grad(gx.sum(), x)
        return gx, g2
    assert_same_repr(fn, torch)


def test_hook_sees_a_gradient_with_history_under_create_graph():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: log.append(g.requires_grad))
        x.register_hook(lambda g: log.append(g.requires_grad))
        L.autograd.grad(y.sum(), x, create_graph=True)
        L.autograd.grad((y * 1).sum(), x)
        return log
    assert_same_repr(fn, torch)


def test_leaf_hook_under_backward_create_graph(torch_warns_every_time):
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g * x)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        second = L.autograd.grad(g.sum(), x)
        return g, second
    assert_same_repr(fn, torch)


def test_retain_grad_under_create_graph_keeps_history(torch_warns_every_time):
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x ** 2
        y.retain_grad()
        z = (y ** 2).sum()
        z.backward(create_graph=True)
        return y.grad, L.autograd.grad(y.grad.sum(), x)
    assert_same_repr(fn, torch)


def test_retain_grad_follows_an_inplace_write():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, x.grad, y.retains_grad
    assert_same_repr(fn, torch)


def test_hooks_registered_before_and_after_an_inplace_write():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(log_hook(log, "before"))
        y.mul_(3)
        y.register_hook(log_hook(log, "after"))
        (y * y).sum().backward()
        return log, x.grad
    assert_same_repr(fn, torch)


def test_hooks_on_the_root_of_backward():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        y = x * 1
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        z = y.sum()
        z.retain_grad()
        z.register_hook(lambda g: g * 5)
        z.backward()
        return x.grad, y.grad, z.grad
    assert_same_repr(fn, torch)


def test_post_accumulate_hook_sees_grad_with_history_under_create_graph(torch_warns_every_time):
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: log.append(t.grad.requires_grad))
        (x ** 2).sum().backward(create_graph=True)
        return log, x.grad
    assert_same_repr(fn, torch)
