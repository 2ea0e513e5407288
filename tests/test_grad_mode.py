"""Grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode, each compared with torch.

Every mode as a context manager and as a decorator (with and without parentheses),
on functions and on generator functions; nesting, exceptions, thread-locality, and
inference tensors.
"""

import threading

import pytest
from torch_compare import assert_same_repr

torch = pytest.importorskip("torch")


def modes(lib):
    return (lib.is_grad_enabled(), lib.is_inference_mode_enabled())


def recorded(lib):
    """Whether an op on a tensor that requires grad records a graph right now."""
    x = lib.ones(2, requires_grad=True)
    return (x * 2).requires_grad


# -- context managers --------------------------------------------------------------------


@pytest.mark.parametrize("enter", [
    lambda L: L.no_grad(),
    lambda L: L.enable_grad(),
    lambda L: L.set_grad_enabled(False),
    lambda L: L.set_grad_enabled(True),
    lambda L: L.inference_mode(),
    lambda L: L.inference_mode(False),
    lambda L: L.inference_mode(mode=True),
], ids=["no_grad", "enable_grad", "set_false", "set_true", "inference", "inference_false",
        "inference_kw"])
def test_context_manager_sets_mode_inside_and_restores_it(enter):
    def fn(L):
        before = modes(L)
        with enter(L) as entered:
            inside = (modes(L), recorded(L), entered)
        return before, inside, modes(L)
    assert_same_repr(fn, torch)


def test_enable_grad_inside_no_grad_records_again():
    def fn(L):
        with L.no_grad():
            with L.enable_grad():
                inner = recorded(L)
            return inner, recorded(L)
    assert_same_repr(fn, torch)


def test_nesting_restores_each_level():
    def fn(L):
        seen = []
        with L.no_grad():
            seen.append(modes(L))
            with L.enable_grad():
                seen.append(modes(L))
                with L.inference_mode():
                    seen.append(modes(L))
                    with L.inference_mode(False):
                        seen.append(modes(L))
                        with L.set_grad_enabled(False):
                            seen.append(modes(L))
                        seen.append(modes(L))
                    seen.append(modes(L))
                seen.append(modes(L))
            seen.append(modes(L))
        seen.append(modes(L))
        return seen
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("enter", [
    lambda L: L.no_grad(), lambda L: L.enable_grad(), lambda L: L.set_grad_enabled(False),
    lambda L: L.inference_mode(), lambda L: L.inference_mode(False)],
    ids=["no_grad", "enable_grad", "set_false", "inference", "inference_false"])
def test_exception_inside_restores_mode(enter):
    def fn(L):
        outer = []
        for prev in (True, False):
            L.set_grad_enabled(prev)
            try:
                with enter(L):
                    raise KeyError("boom")
            except KeyError as e:
                outer.append((str(e), modes(L)))
        L.set_grad_enabled(True)
        return outer
    assert_same_repr(fn, torch)


def test_set_grad_enabled_plain_call_takes_effect_at_once():
    def fn(L):
        L.set_grad_enabled(False)
        off = (modes(L), recorded(L))
        L.set_grad_enabled(True)
        return off, modes(L), recorded(L)
    assert_same_repr(fn, torch)


def test_set_grad_enabled_result_as_context_restores_previous_mode():
    def fn(L):
        with L.no_grad():
            with L.set_grad_enabled(True):
                inside = modes(L)
            after = modes(L)
        return inside, after, modes(L)
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_with_mode_without_parentheses_raises_as_torch(name):
    def fn(L):
        with getattr(L, name):
            pass
    assert_same_repr(fn, torch)


# -- decorators --------------------------------------------------------------------------


@pytest.mark.parametrize("decorate", [
    lambda L: L.no_grad, lambda L: L.no_grad(),
    lambda L: L.enable_grad, lambda L: L.enable_grad(),
    lambda L: L.inference_mode, lambda L: L.inference_mode(), lambda L: L.inference_mode(False),
    lambda L: L.set_grad_enabled(False), lambda L: L.set_grad_enabled(True)],
    ids=["no_grad", "no_grad()", "enable_grad", "enable_grad()", "inference_mode",
         "inference_mode()", "inference_mode(False)", "set_false", "set_true"])
def test_decorated_function_runs_in_mode_and_keeps_its_name(decorate):
    def fn(L):
        def body(a, b=1):
            """Body docstring."""
            return modes(L), recorded(L), a + b
        wrapped = decorate(L)(body)
        result = [modes(L), wrapped.__name__, wrapped.__doc__]
        for outer in (True, False):
            with L.set_grad_enabled(outer):
                result.append((wrapped(2, b=3), modes(L)))
        return result
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("decorate", [
    lambda L: L.no_grad, lambda L: L.no_grad(), lambda L: L.enable_grad,
    lambda L: L.inference_mode, lambda L: L.inference_mode(False),
    lambda L: L.set_grad_enabled(False)],
    ids=["no_grad", "no_grad()", "enable_grad", "inference_mode", "inference_mode(False)",
         "set_false"])
def test_decorated_generator_has_mode_only_while_it_runs(decorate):
    def fn(L):
        def gen(n):
            for i in range(n):
                got = yield (i, modes(L), recorded(L))
                yield ("sent", got, modes(L))
            return "done"
        wrapped = decorate(L)(gen)
        seen = []
        with L.set_grad_enabled(True):
            it = wrapped(2)
            seen.append(modes(L))          # creating the generator runs none of it
            seen.append(next(it))
            seen.append(modes(L))          # between steps: the caller's mode
            seen.append(it.send("hello"))
            seen.append(modes(L))
            with L.no_grad():
                seen.append(next(it))
                seen.append(modes(L))
            seen.append(next(it))
            try:
                next(it)
            except StopIteration as e:
                seen.append(("stop", e.value, modes(L)))
        return seen
    assert_same_repr(fn, torch)


def test_exception_thrown_into_decorated_generator_runs_in_mode():
    def fn(L):
        @L.no_grad()
        def gen():
            try:
                yield 1
            except ValueError as e:
                yield ("caught", str(e), modes(L))
        it = gen()
        next(it)
        got = it.throw(ValueError("inside"))
        it.close()
        return got, modes(L)
    assert_same_repr(fn, torch)


def test_decorated_function_exception_restores_mode():
    def fn(L):
        @L.inference_mode
        def boom():
            raise RuntimeError("from inside")
        try:
            boom()
        except RuntimeError as e:
            return str(e), modes(L)
    assert_same_repr(fn, torch)


# -- threads -----------------------------------------------------------------------------


@pytest.mark.parametrize("enter", [lambda L: L.no_grad(), lambda L: L.inference_mode(),
                                   lambda L: L.set_grad_enabled(False)],
                         ids=["no_grad", "inference_mode", "set_false"])
def test_mode_is_thread_local(enter):
    def fn(L):
        seen = {}

        def worker():
            seen["thread"] = (modes(L), recorded(L))
        with enter(L):
            t = threading.Thread(target=worker)
            t.start()
            t.join()
            seen["main"] = modes(L)
        return seen
    assert_same_repr(fn, torch)


def test_mode_set_in_a_thread_does_not_leak_to_the_main_thread():
    def fn(L):
        def worker():
            L.set_grad_enabled(False)
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        return modes(L)
    assert_same_repr(fn, torch)


# -- results of ops ----------------------------------------------------------------------


def test_no_grad_results_do_not_require_grad():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        with L.no_grad():
            y = x * 2
        return y, y.requires_grad, y.grad_fn, y.is_leaf, y.is_inference()
    assert_same_repr(fn, torch)


def test_tensor_created_with_requires_grad_under_no_grad_still_requires_it():
    def fn(L):
        with L.no_grad():
            x = L.ones(2, requires_grad=True)
        return x, (x * 3).grad_fn is not None
    assert_same_repr(fn, torch)


# -- inference tensors -------------------------------------------------------------------


def inference_ones(L, *shape):
    with L.inference_mode():
        return L.ones(*shape)


def test_tensors_made_in_inference_mode_are_inference_tensors():
    def fn(L):
        normal = L.ones(2)
        with L.inference_mode():
            made = L.ones(2)
            computed = normal * 2
            view_of_normal = normal.view(2)
            with L.inference_mode(False):
                made_in_false = L.ones(2)
        return (made.is_inference(), computed.is_inference(), view_of_normal.is_inference(),
                made_in_false.is_inference(), normal.is_inference(), made.requires_grad)
    assert_same_repr(fn, torch)


def test_views_detach_and_clones_of_inference_tensors():
    def fn(L):
        x = inference_ones(L, 2, 2)
        return (x.view(4).is_inference(), x[0].is_inference(), x.detach().is_inference(),
                x.clone().is_inference(), (x + 1).is_inference())
    assert_same_repr(fn, torch)


def test_requires_grad_inside_inference_mode_records_nothing():
    def fn(L):
        with L.inference_mode():
            x = L.ones(2, requires_grad=True)
            y = x * 2
        return x.requires_grad, x.is_inference(), y.requires_grad, y.grad_fn
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("write", [
    lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(3.),
    lambda x: x.copy_(x.clone()), lambda x: x.__setitem__(0, 5.),
    lambda x: x.__setitem__(slice(0, 1), 5.), lambda x: x.view(2).add_(1)],
    ids=["add_", "mul_", "zero_", "fill_", "copy_", "setitem_int", "setitem_slice",
         "view_add_"])
def test_inplace_on_inference_tensor_outside_inference_mode_raises(write):
    def fn(L):
        x = inference_ones(L, 2)
        write(x)
    assert_same_repr(fn, torch)


def test_inplace_on_inference_tensor_under_no_grad_still_raises():
    def fn(L):
        x = inference_ones(L, 2)
        with L.no_grad():
            x.mul_(2)
    assert_same_repr(fn, torch)


def test_inplace_on_inference_tensor_inside_inference_mode_is_allowed():
    def fn(L):
        x = inference_ones(L, 2)
        with L.inference_mode():
            x.add_(1)
            x[0] = 7.
        return x
    assert_same_repr(fn, torch)


def test_inplace_on_normal_tensor_inside_inference_mode_bumps_its_version():
    def fn(L):
        x = L.ones(2)
        with L.inference_mode():
            x.add_(1)
        return x, x._version, x.is_inference()
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("op", [
    lambda w, x: w * x, lambda w, x: x * w, lambda w, x: w / x, lambda w, x: w ** x,
    lambda w, x: L_matmul(w, x)],
    ids=["mul", "rmul", "div", "pow", "matmul"])
def test_inference_tensor_saved_for_backward_raises(op):
    def fn(L):
        x = inference_ones(L, 2)
        w = L.ones(2, requires_grad=True)
        return op(w, x)
    assert_same_repr(fn, torch)


def L_matmul(a, b):
    return a @ b


def test_inference_tensor_not_saved_for_backward_is_usable():
    def fn(L):
        x = inference_ones(L, 2)
        w = L.tensor([1., 2.], requires_grad=True)
        y = (w + x).sum()
        y.backward()
        return y, w.grad, x.clone().requires_grad_()
    assert_same_repr(fn, torch)


def test_inference_tensor_requires_grad_outside_mode_raises():
    def fn(L):
        x = inference_ones(L, 2)
        x.requires_grad_()
    assert_same_repr(fn, torch)

    def fn_attr(L):
        x = inference_ones(L, 2)
        x.requires_grad = True
    assert_same_repr(fn_attr, torch)


def test_inference_tensor_requires_grad_inside_mode_is_allowed():
    def fn(L):
        x = inference_ones(L, 2)
        with L.inference_mode():
            x.requires_grad_()
        return x.requires_grad, x.is_inference()
    assert_same_repr(fn, torch)


def test_enable_grad_inside_inference_mode_reports_grad_but_records_nothing():
    def fn(L):
        with L.inference_mode():
            with L.enable_grad():
                inside = (modes(L), recorded(L))
                with L.no_grad():
                    innermost = modes(L)
                with L.set_grad_enabled(True):
                    set_inside = (modes(L), recorded(L))
            return inside, innermost, set_inside, modes(L)
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("mode", [1, 0, None, "yes"], ids=["1", "0", "None", "str"])
def test_set_grad_enabled_needs_a_bool(mode):
    def fn(L):
        try:
            L.set_grad_enabled(mode)
        finally:
            L.set_grad_enabled(True)
    assert_same_repr(fn, torch)


def test_set_grad_enabled_without_argument_as_decorator_raises():
    def fn(L):
        @L.set_grad_enabled
        def body():
            return modes(L)
        return body()
    assert_same_repr(fn, torch)


# -- grad mode and the backward pass -----------------------------------------------------


def test_backward_computes_gradients_inside_no_grad_and_inference_mode():
    def fn(L):
        grads = []
        for enter in (L.no_grad, L.inference_mode):
            x = L.tensor([1., 2.], requires_grad=True)
            y = (x * x).sum()
            with enter():
                y.backward()
            grads.append(x.grad)
        return grads, modes(L)
    assert_same_repr(fn, torch)


def test_create_graph_inside_inference_mode_records_nothing():
    # The gradient is computed but not recorded: an inference tensor without grad_fn.
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = (x ** 3).sum()
        with L.inference_mode():
            g, = L.autograd.grad(y, x, create_graph=True)
            z = x * 2
        return g, g.requires_grad, g.grad_fn, g.is_inference(), z.is_inference(), modes(L)
    assert_same_repr(fn, torch)


def test_hooks_run_with_grad_mode_set_to_create_graph():
    def fn(L):
        log = []
        x = L.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: log.append(("hook", modes(L))))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("post", modes(L))))
        (x * x).sum().backward()
        L.autograd.grad((x * x).sum(), x, create_graph=True)
        with L.no_grad():
            g, = L.autograd.grad((x * x).sum(), x, create_graph=True)
        return log, g.requires_grad, modes(L)
    assert_same_repr(fn, torch)
