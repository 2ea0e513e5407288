"""gradcheck / gradgradcheck: pass on correct derivatives, torch's GradcheckError text otherwise."""

import warnings

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")


def wrong_square(lib):
    class WrongSquare(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * g
    return WrongSquare


def test_gradcheck_passes_on_builtin_ops():
    def prog(lib):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([[1.5], [0.7]], dtype=lib.float64, requires_grad=True)
        return (lib.autograd.gradcheck(lambda a, b: (a.sin() * b).exp(), (x, y)),
                lib.autograd.gradgradcheck(lambda a, b: (a ** 3 * b).sum(), (x, y)))
    assert_same_result(prog, torch)


def test_gradcheck_mismatch_message_and_error_type():
    def prog(lib):
        x = lib.tensor([1., 2., 3.], dtype=lib.float64, requires_grad=True)
        try:
            lib.autograd.gradcheck(wrong_square(lib).apply, (x,))
        except RuntimeError as e:
            return type(e).__name__, str(e)
    assert_same_result(prog, torch)


def test_mismatch_names_output_and_input_index():
    def prog(lib):
        a = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
        b = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
        f = wrong_square(lib).apply
        return lib.autograd.gradcheck(lambda a, b: (a * b, f(b)), (a, b),
                                      raise_exception=False)
    assert_same_result(prog, torch)
    import tapegrad
    a = tapegrad.ones(2, dtype=tapegrad.float64, requires_grad=True)
    b = tapegrad.ones(2, 2, dtype=tapegrad.float64, requires_grad=True)
    f = wrong_square(tapegrad).apply
    with pytest.raises(tapegrad.autograd.GradcheckError,
                       match="^Jacobian mismatch for output 1 with respect to input 1,\n"):
        tapegrad.autograd.gradcheck(lambda a, b: (a * b, f(b)), (a, b))


def test_gradgradcheck_detects_wrong_second_derivative():
    def prog(lib):
        x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x * x * g
        first = lib.autograd.gradcheck(Cube.apply, (x,))
        try:
            lib.autograd.gradgradcheck(Cube.apply, (x,))
            second = "passed"
        except RuntimeError as e:      # numbers depend on random grad_outputs
            second = str(e).split("\n")[0]
        return first, second
    assert_same_result(prog, torch)


def test_float32_input_warns_and_fails():
    for lib in (torch, pytest.importorskip("tapegrad")):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ok = lib.autograd.gradcheck(lambda x: x.sin(), (lib.ones(2, requires_grad=True),),
                                        raise_exception=False)
        assert ok is False
        assert [str(m.message) for m in w] == [
            "Input #0 requires gradient and is not a double precision floating point or "
            "complex. This check will likely fail if all the inputs are not of double "
            "precision floating point or complex. "]


def test_no_input_requires_grad():
    assert_same_result(
        lambda lib: lib.autograd.gradcheck(lambda x: x, (lib.ones(2, dtype=lib.float64),)), torch)
