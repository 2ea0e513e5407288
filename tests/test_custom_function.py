"""Custom autograd.Function: forward/backward, ctx API, errors, higher order — vs torch."""

import warnings

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")


def define(lib, forward, backward, name="F", setup_context=None, decorate=None):
    body = {"forward": staticmethod(forward),
            "backward": staticmethod(decorate(backward) if decorate else backward)}
    if setup_context is not None:
        body["setup_context"] = staticmethod(setup_context)
    return type(name, (lib.autograd.Function,), body)


def test_forward_backward_non_tensor_args_and_needs_input_grad():
    def prog(lib):
        seen = []

        def fwd(ctx, x, k, y):
            ctx.save_for_backward(x)
            return x * k + y

        def bwd(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g * 3, None, g
        F = define(lib, fwd, bwd)
        x = lib.tensor([1., 2.], requires_grad=True)
        r = F.apply(x, 3, lib.tensor([1., 2.]))
        r.sum().backward()
        return repr(r), [type(n).__name__ for n, _ in r.grad_fn.next_functions], x.grad, seen
    assert_same_result(prog, torch)


def test_setup_context_style_and_saved_tensors_from_grad_fn():
    def prog(lib):
        def fwd(x, y):
            return x * y

        def setup(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        def bwd(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x
        F = define(lib, fwd, bwd, "Mul", setup)
        x = lib.tensor([1., 2.], requires_grad=True)
        y = lib.tensor([3., 4.], requires_grad=True)
        r = F.apply(x, y)
        saved = r.grad_fn.saved_tensors
        r.sum().backward()
        return repr(r), saved, x.grad, y.grad
    assert_same_result(prog, torch)


def test_saved_tensors_freed_after_backward_and_version_checked():
    def freed(lib):
        F = define(lib, lambda ctx, x: (ctx.save_for_backward(x), x * 2)[1],
                   lambda ctx, g: g * 2)
        r = F.apply(lib.ones(2, requires_grad=True))
        r.sum().backward()
        return r.grad_fn.saved_tensors

    def modified(lib):
        def bwd(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x
        F = define(lib, lambda ctx, x: (ctx.save_for_backward(x), x * 2)[1], bwd)
        a = lib.ones(2, requires_grad=True)
        b = a * 1
        r = F.apply(b)
        b.add_(1)
        r.sum().backward()
    assert_same_result(freed, torch)
    got = assert_same_result(modified, torch)
    assert isinstance(got, RuntimeError)
    assert "is at version 1; expected version 0" in str(got)


def test_save_for_backward_non_tensor_type_error():
    def prog(lib):
        F = define(lib, lambda ctx, x: (ctx.save_for_backward(x, 3), x)[1], lambda ctx, g: g)
        F.apply(lib.ones(2, requires_grad=True))
    assert_same_result(prog, torch)


def test_forward_runs_under_no_grad_and_node_name():
    def prog(lib):
        inside = []

        def fwd(ctx, x):
            inside.append(lib.is_grad_enabled())
            return x.clone()
        F = define(lib, fwd, lambda ctx, g: g, "MyOp")
        r = F.apply(lib.ones(2, requires_grad=True))
        return inside, type(r.grad_fn).__name__, r.grad_fn.name(), repr(r)
    assert_same_result(prog, torch)


@pytest.mark.parametrize("returned", ["too_few", "too_many_non_none", "extra_none",
                                      "bad_shape", "broadcast_shape", "int"])
def test_wrong_gradients_returned(returned):
    def prog(lib):
        def bwd(ctx, g):
            return {"too_few": lambda: g, "too_many_non_none": lambda: (g, g, g),
                    "extra_none": lambda: (g, g, None),
                    "bad_shape": lambda: (lib.ones(3), g),
                    "broadcast_shape": lambda: (lib.ones(3, 2), g),
                    "int": lambda: (3, g)}[returned]()
        F = define(lib, lambda ctx, x, y: x * y, bwd, "WrongNum")
        x = lib.tensor([1., 2.], requires_grad=True)
        F.apply(x, lib.ones(2, requires_grad=True)).sum().backward()
        return x.grad
    assert_same_result(prog, torch)


def test_missing_forward_or_backward():
    def no_backward(lib):
        F = type("G", (lib.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x * 2)})
        F.apply(lib.ones(2, requires_grad=True)).sum().backward()

    def no_forward(lib):
        type("H", (lib.autograd.Function,), {}).apply(lib.ones(2))
    assert_same_result(no_backward, torch)
    assert_same_result(no_forward, torch)


def test_returning_an_input_gives_a_new_tensor():
    def prog(lib):
        F = define(lib, lambda ctx, x: x, lambda ctx, g: g * 5, "Ident")
        x = lib.tensor([1., 2.], requires_grad=True)
        r = F.apply(x)
        r.sum().backward()
        return r is x, repr(r), x.grad
    assert_same_result(prog, torch)


def test_mark_dirty():
    def ok(lib):
        def fwd(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x
        F = define(lib, fwd, lambda ctx, g: g * 2, "Double")
        a = lib.tensor([1., 2.], requires_grad=True)
        b = a * 1
        r = F.apply(b)
        r.sum().backward()
        return r is b, repr(r), a.grad

    def leaf(lib):
        F = define(lib, lambda ctx, x: (ctx.mark_dirty(x), x)[1], lambda ctx, g: g)
        F.apply(lib.ones(2, requires_grad=True))

    def not_returned(lib):
        F = define(lib, lambda ctx, x: (ctx.mark_dirty(x), x * 1)[1], lambda ctx, g: g)
        F.apply(lib.ones(2, requires_grad=True) * 1)
    assert_same_result(ok, torch)
    assert_same_result(leaf, torch)
    assert_same_result(not_returned, torch)


def test_mark_non_differentiable_and_materialize_grads():
    def prog(lib, materialize):
        seen = []

        def fwd(ctx, x):
            ctx.set_materialize_grads(materialize)
            a, b = x * 2, x * 3
            ctx.mark_non_differentiable(b)
            return a, b

        def bwd(ctx, ga, gb):
            seen.append(gb)
            return ga * 2
        F = define(lib, fwd, bwd, "Two")
        x = lib.tensor([1., 2.], requires_grad=True)
        a, b = F.apply(x)
        a.sum().backward()
        return b.requires_grad, x.grad, seen
    assert_same_result(lambda lib: prog(lib, True), torch)
    assert_same_result(lambda lib: prog(lib, False), torch)


def test_integer_output_does_not_require_grad():
    def prog(lib):
        seen = []

        def bwd(ctx, g, h):
            seen.append(h)
            return g * 2
        F = define(lib, lambda ctx, x: (x * 2, (x > 0).long()), bwd, "D")
        x = lib.tensor([1., 2.], requires_grad=True)
        a, b = F.apply(x)
        a.sum().backward()
        return b.requires_grad, x.grad, seen
    assert_same_result(prog, torch)


def _square(lib, decorate=None):
    def fwd(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def bwd(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g
    return define(lib, fwd, bwd, "Square", decorate=decorate)


def test_backward_built_from_ops_is_differentiable_again():
    def prog(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        F = _square(lib)
        y = F.apply(x) * F.apply(x)          # x^4
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return repr(g), gg
    assert_same_result(prog, torch)


def test_once_differentiable():
    def prog(lib):
        F = _square(lib, decorate=lib.autograd.function.once_differentiable)
        x = lib.tensor([1., 2.], requires_grad=True)
        (g1,) = lib.autograd.grad(F.apply(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(F.apply(x), x, lib.ones(2, requires_grad=True),
                                  create_graph=True)
        out = [repr(g1), repr(g2)]
        try:
            g2.sum().backward()
        except RuntimeError as e:
            out.append(str(e))
        return out
    got = assert_same_result(prog, torch)
    assert "grad_fn=<Error>" in got[1][1]


def test_legacy_instantiation_warns_and_call_raises():
    for lib in (torch, pytest.importorskip("tapegrad")):
        F = _square(lib)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            f = F()
        assert "should not be instantiated. Methods on autograd functions are all static" \
            in str(w[0].message) and w[0].category is DeprecationWarning
        with pytest.raises(RuntimeError, match="Legacy autograd function with non-static"):
            f(lib.ones(1))


def test_no_recording_when_nothing_requires_grad():
    def prog(lib):
        r = _square(lib).apply(lib.tensor([1., 2.]))
        return repr(r), r.grad_fn is None
    assert_same_result(prog, torch)
