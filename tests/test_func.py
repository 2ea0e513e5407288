"""torch.func transforms: values, composition, argnums/has_aux, errors — vs torch."""

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")


def x_of(lib, requires_grad=False):
    return lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=requires_grad)


def cube_sum(x):
    return (x ** 3).sum()


def test_grad_and_grad_and_value():
    def prog(lib):
        F = lib.func
        x = x_of(lib)
        return (F.grad(cube_sum)(x), F.grad_and_value(cube_sum)(x),
                F.grad(lambda x: (cube_sum(x), x * 2), has_aux=True)(x),
                F.grad_and_value(lambda x: (cube_sum(x), x * 2), has_aux=True)(x))
    assert_same_result(prog, torch)


def test_grad_keeps_graph_when_input_requires_grad():
    def prog(lib):
        x = x_of(lib, True)
        g = lib.func.grad(cube_sum)(x)
        return g, g.requires_grad, lib.func.grad(cube_sum)(x.detach()).requires_grad
    assert_same_result(prog, torch)


def test_grad_composes():
    def prog(lib):
        F = lib.func
        t = lib.tensor(2., dtype=lib.float64)
        return (F.grad(F.grad(lambda x: x ** 3))(t),
                F.grad(F.grad(F.grad(lambda x: x.sin() * x)))(t))
    assert_same_result(prog, torch, tol=1e-10)


def test_argnums_and_pytrees():
    def prog(lib):
        F = lib.func
        x = x_of(lib)
        y = lib.ones(3, dtype=lib.float64) * 0.5

        def f(a, b):
            return (a * b.exp()).sum()
        return (F.grad(f, argnums=1)(x, y), F.grad(f, argnums=(0, 1))(x, y),
                F.grad(f, argnums=-1)(x, y),
                F.grad(lambda d: (d["a"] * d["b"]).sum())({"a": x, "b": y}))
    assert_same_result(prog, torch)


@pytest.mark.parametrize("case", ["non_scalar", "not_tensor", "aux_not_tuple", "argnum_range",
                                  "argnum_dup", "argnum_type", "jvp_not_tuple"])
def test_errors(case):
    def prog(lib):
        F = lib.func
        x = x_of(lib)
        return {
            "non_scalar": lambda: F.grad(lambda x: x * 2)(x),
            "not_tensor": lambda: F.grad(lambda x: 3.0)(x),
            "aux_not_tuple": lambda: F.grad(lambda x: x.sum(), has_aux=True)(x),
            "argnum_range": lambda: F.grad(lambda a, b: (a * b).sum(), argnums=2)(x, x),
            "argnum_dup": lambda: F.grad(lambda a, b: (a * b).sum(), argnums=(0, 0))(x, x),
            "argnum_type": lambda: F.grad(lambda a, b: (a * b).sum(), argnums=1.0)(x, x),
            "jvp_not_tuple": lambda: F.jvp(lambda x: x.sin(), x, x),
        }[case]()
    got = assert_same_result(prog, torch)
    assert isinstance(got, Exception)


def test_vjp_and_jvp():
    def prog(lib):
        F = lib.func
        x = x_of(lib)
        y = lib.ones(3, dtype=lib.float64) * 1.5
        out, fn = F.vjp(lambda a, b: (a * b, b.sin()), x, y)
        cot = (lib.ones(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64) * 2)
        out2, jv = F.jvp(lambda a, b: (a * b).exp(), (x, y), (y, x))
        return out, fn(cot), out2, jv
    assert_same_result(prog, torch, tol=1e-10)


def test_jacrev_jacfwd_hessian_agree_with_torch():
    def prog(lib):
        F = lib.func
        x = x_of(lib)
        y = lib.ones(2, dtype=lib.float64) * 0.3

        def f(a, b):
            return a.sin() * b.sum(), (a ** 2).sum() * b
        return (F.jacrev(lambda a: a.exp() * a)(x), F.jacfwd(lambda a: a.exp() * a)(x),
                F.jacrev(f, argnums=(0, 1))(x, y), F.jacfwd(f, argnums=1)(x, y),
                F.hessian(lambda a: (a.sin() * a ** 2).sum())(x),
                F.jacfwd(F.jacrev(lambda a: (a ** 3).sum()))(x))
    assert_same_result(prog, torch, tol=1e-10)


def test_hessian_of_custom_function_built_from_ops():
    def prog(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * g
        x = x_of(lib)
        return lib.autograd.functional.hessian(lambda a: Cube.apply(a).sum(), x)
    assert_same_result(prog, torch, tol=1e-10)
