"""Saved-tensor hooks (autograd.graph.saved_tensors_hooks, save_on_cpu,
disable_saved_tensors_hooks): when pack/unpack run, what they see, errors — vs torch."""

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")


def logging_hooks(lib, log, tag=""):
    def pack(t):
        log.append((tag + "pack", list(t.shape), t.grad_fn.name() if t.grad_fn else None))
        return t

    def unpack(t):
        log.append((tag + "unpack", list(t.shape)))
        return t
    return lib.autograd.graph.saved_tensors_hooks(pack, unpack)


def test_pack_runs_per_saved_tensor_and_unpack_per_use_in_backward():
    def prog(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        with logging_hooks(lib, log):
            y = x.exp()        # saves its output
            z = x * x          # saves self and other
            w = x * 2          # a Python scalar is never packed
            v = x.sin()        # saves its input
        log.append("forward done")
        (y + z + w + v).sum().backward()
        return log, x.grad
    assert_same_result(prog, torch)


def test_pack_sees_the_saved_tensor_itself():
    def prog(lib):
        packed = []
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t,
                                                    lambda t: t):
            y = x.exp()
            z = x * x
        return packed[0] is y, packed[1] is x, packed[2] is x, z.grad_fn._saved_self is x
    assert_same_result(prog, torch)


def test_saved_attributes_unpack_once_per_access_and_attach_to_the_graph():
    def prog(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        with logging_hooks(lib, log):
            z = x * x
            y = x.exp()
        s = z.grad_fn._saved_self
        r = y.grad_fn._saved_result
        return (log, s, s.is_leaf, s.grad_fn, repr(r), r.grad_fn is y.grad_fn)
    assert_same_result(prog, torch)


def test_higher_order_through_packed_values():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True, dtype=lib.float64)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
            z = (x * x * x.sin()).sum()
        g, = lib.autograd.grad(z, x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        return g, g2
    assert_same_result(prog, torch)


def test_innermost_hooks_win_and_only_graphs_built_inside_are_affected():
    def prog(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        with logging_hooks(lib, log, "outer "):
            with logging_hooks(lib, log, "inner "):
                a = x.sin()
            b = x.cos()
        c = x.tan()
        with logging_hooks(lib, log, "during backward "):
            (a + b + c).sum().backward()
        return log, x.grad
    assert_same_result(prog, torch)


def test_custom_function_save_for_backward_is_packed():
    def prog(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * g * x
        log = []
        x = lib.tensor([1., 3.], requires_grad=True)
        with logging_hooks(lib, log):
            y = Square.apply(x)
        log.append("forward done")
        y.sum().backward()
        return log, x.grad
    assert_same_result(prog, torch)


def test_packed_values_skip_the_version_check():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            b = x * 1
            z = b * b
        b.add_(5)
        z.sum().backward()
        return x.grad
    assert_same_result(prog, torch)


def test_unpack_may_change_the_dtype():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t.double()):
            y = x * x
        y.sum().backward()
        return x.grad
    assert_same_result(prog, torch)


def test_unpack_returning_a_non_tensor_raises():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = x * x
        y.sum().backward()
    assert_same_result(prog, torch)


def test_pack_modifying_its_input_in_place_raises():
    def prog(lib):
        def bad(t):
            t.add_(1)
            return t
        b = lib.ones(2, requires_grad=True) * 1
        with lib.autograd.graph.saved_tensors_hooks(bad, lambda t: t):
            b * b
    assert_same_result(prog, torch)


@pytest.mark.parametrize("where", ["pack", "unpack"])
def test_hook_exceptions_propagate(where):
    def prog(lib):
        def boom(t):
            raise ValueError("boom")
        pack, unpack = (boom, lambda t: t) if where == "pack" else (lambda t: t, boom)
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = x * x
        y.sum().backward()
    assert_same_result(prog, torch)


def test_saved_values_freed_after_backward_even_when_packed():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            z = x * x
        z.sum().backward()
        return z.grad_fn._saved_self
    assert_same_result(prog, torch)


def test_save_on_cpu_round_trips_cpu_tensors():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x * x.exp()).sum()
        y.backward()
        return x.grad
    assert_same_result(prog, torch)


def test_save_on_cpu_goes_through_pack_and_unpack():
    import tapegrad
    calls = []
    x = tapegrad.tensor([1., 2.], requires_grad=True)
    ctx = tapegrad.autograd.graph.save_on_cpu()
    pack, unpack = ctx.pack_hook, ctx.unpack_hook
    ctx.pack_hook = lambda t: calls.append("pack") or pack(t)
    ctx.unpack_hook = lambda p: calls.append("unpack") or unpack(p)
    with ctx:
        y = x.sin()
    y.sum().backward()
    assert calls == ["pack", "unpack"]


@pytest.mark.parametrize("order", ["hooks inside disable", "disable inside hooks"])
def test_disable_saved_tensors_hooks_raises_its_message(order):
    def prog(lib):
        graph = lib.autograd.graph
        if order == "hooks inside disable":
            with graph.disable_saved_tensors_hooks("no hooks here"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        else:
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                with graph.disable_saved_tensors_hooks("no hooks here"):
                    pass
    assert_same_result(prog, torch)


def test_disable_is_restored_on_exit():
    def prog(lib):
        graph = lib.autograd.graph
        with graph.disable_saved_tensors_hooks("outer"):
            with graph.disable_saved_tensors_hooks("inner"):
                pass
            try:
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
            except RuntimeError as e:
                first = str(e)
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
        return first
    assert_same_result(prog, torch)


def test_in_place_ops_pack_the_value_from_before_the_write():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = lib.tensor([3., 4.], requires_grad=True)
        b = x * 1
        c = x * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
            b.mul_(y)
            c.exp_()
        (b.sum() + c.sum()).backward()
        return x.grad, y.grad
    assert_same_result(prog, torch)


def test_hooks_are_thread_local():
    import threading

    import tapegrad
    packed = []
    x = tapegrad.tensor([1., 2.], requires_grad=True)
    other_thread = {}

    def work():
        other_thread["y"] = x * x
    with tapegrad.autograd.graph.saved_tensors_hooks(lambda t: packed.append("main") or t,
                                                     lambda t: t):
        t = threading.Thread(target=work)
        t.start()
        t.join()
        x.sin()
    other_thread["y"].sum().backward()
    assert packed == ["main"]
    assert x.grad.tolist() == [2.0, 4.0]


def test_custom_function_saving_its_output_works_to_second_order():
    def prog(lib):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                r = x.exp()
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                r, = ctx.saved_tensors
                return g * r
        log = []
        x = lib.tensor([0.5, 1.0], requires_grad=True, dtype=lib.float64)
        with logging_hooks(lib, log):
            y = Exp.apply(x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        return log, g, g2
    assert_same_result(prog, torch)
