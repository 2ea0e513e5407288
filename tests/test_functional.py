"""autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp — values and errors vs torch."""

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")


def inputs(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    y = lib.tensor([[1.5, 0.2], [0.3, -0.7]], dtype=lib.float64)
    return x, y


def f_vec(x):
    return (x.sin() * x ** 2).exp()


def f_pair(x, y):
    return (x.sum() * y).tanh(), (y * y).sum() + x.cos().sum()


def f_scalar(x, y):
    return (x.exp().sum() * (y ** 3).sum()).sin()


@pytest.mark.parametrize("kw", [{}, {"create_graph": True}, {"vectorize": True},
                                {"strategy": "forward-mode", "vectorize": True},
                                {"strict": True}])
def test_jacobian_single_and_tuple(kw):
    def prog(lib):
        x, y = inputs(lib)
        J = lib.autograd.functional
        return J.jacobian(f_vec, x, **kw), J.jacobian(f_pair, (x, y), **kw)
    assert_same_result(prog, torch, tol=1e-10)


@pytest.mark.parametrize("kw", [{}, {"create_graph": True}, {"vectorize": True}])
def test_hessian_single_and_tuple(kw):
    def prog(lib):
        x, y = inputs(lib)
        J = lib.autograd.functional
        return (J.hessian(lambda x: (x.sin() * x ** 2).sum(), x, **kw),
                J.hessian(f_scalar, (x, y), **kw))
    assert_same_result(prog, torch, tol=1e-10)


@pytest.mark.parametrize("fn", ["vjp", "jvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp(fn, create_graph):
    def prog(lib):
        x, y = inputs(lib)
        J = lib.autograd.functional
        v_out = (lib.ones(2, 2, dtype=lib.float64), lib.tensor(2., dtype=lib.float64))
        v_in = (lib.ones(3, dtype=lib.float64), lib.full((2, 2), 0.5, dtype=lib.float64))
        v = v_out if fn == "vjp" else v_in
        return getattr(J, fn)(f_pair, (x, y), v, create_graph=create_graph)
    assert_same_result(prog, torch, tol=1e-10)


@pytest.mark.parametrize("fn", ["hvp", "vhp"])
def test_hvp_vhp(fn):
    def prog(lib):
        x, y = inputs(lib)
        v = (lib.ones(3, dtype=lib.float64), lib.full((2, 2), 0.5, dtype=lib.float64))
        return getattr(lib.autograd.functional, fn)(f_scalar, (x, y), v)
    assert_same_result(prog, torch, tol=1e-10)


def test_create_graph_result_is_differentiable():
    def prog(lib):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        h = lib.autograd.functional.hessian(lambda x: (x ** 4).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return h, g
    assert_same_result(prog, torch, tol=1e-10)


@pytest.mark.parametrize("case", [
    "vjp_no_v", "jvp_no_v", "hvp_non_scalar", "vhp_tuple", "strict_independent",
    "strict_unused_input", "int_output", "bad_input_type", "bad_tuple_input", "forward_no_vec",
    "v_bad_size", "v_bad_len", "strict_hessian_linear", "bad_strategy"])
def test_errors(case):
    def prog(lib):
        F = lib.autograd.functional
        x = lib.ones(2, dtype=lib.float64)
        return {
            "vjp_no_v": lambda: F.vjp(lambda x: x * 2, x),
            "jvp_no_v": lambda: F.jvp(lambda x: x * 2, x),
            "hvp_non_scalar": lambda: F.hvp(lambda x: x * 2, x, x),
            "vhp_tuple": lambda: F.vhp(lambda x: (x.sum(), x.sum()), x, x),
            "strict_independent": lambda: F.jacobian(lambda x: lib.ones(2), x, strict=True),
            "strict_unused_input": lambda: F.jacobian(lambda x, y: x * 2, (x, x), strict=True),
            "int_output": lambda: F.jacobian(lambda x: 3, x),
            "bad_input_type": lambda: F.jacobian(lambda x: x, 3.0),
            "bad_tuple_input": lambda: F.vjp(lambda x, y: x, (x, 2)),
            "forward_no_vec": lambda: F.jacobian(lambda x: x, x, strategy="forward-mode"),
            "v_bad_size": lambda: F.vjp(lambda x: x * 2, x, lib.ones(3, dtype=lib.float64)),
            "v_bad_len": lambda: F.jvp(lambda x, y: x, (x, x), (x,)),
            "strict_hessian_linear": lambda: F.hessian(lambda x: (x * 2).sum(), x, strict=True),
            "bad_strategy": lambda: F.jacobian(lambda x: x, x, strategy="sideways"),
        }[case]()
    got = assert_same_result(prog, torch)
    assert isinstance(got, Exception)
