"""matmul's derivatives under create_graph=True are recorded as torch records them (mm, mv,
a vector times a matrix): the same grad_fn names and next_functions, down to the leaves,
and the same values to first and second order; the view helpers that make the backward's
views without NumPy's Python-level set-up give what NumPy's functions give."""

import numpy as np
import pytest
from torch_compare import check_derivatives

import tapegrad as tg
from tapegrad.ops.shape import _unsqueeze_array, broadcast_view

torch = pytest.importorskip("torch")

SHAPES = {"mm": ((3, 4), (4, 5)), "mv": ((3, 4), (4,)), "vm": ((4,), (4, 5)),
          "dot": ((4,), (4,))}


def _tree(node, depth=0):
    """The graph below ``node`` as nested (name, children) tuples."""
    if node is None or depth > 12:
        return None
    return (node.name(), tuple(_tree(n, depth + 1) for n, _ in node.next_functions))


def _first_grads(lib, case, nonlinear):
    rng = np.random.default_rng(1)
    a, b = (lib.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES[case])
    out = a @ b
    if nonlinear:                       # the gradient then depends on a and b
        out = lib.tanh(out) * lib.tanh(out)
    return (a, b), lib.autograd.grad(out.sum(), (a, b), create_graph=True)


# A vector times a matrix is one node here where torch records three (unsqueeze, mm,
# squeeze), so only its gradient's own graph is compared (the linear case).
@pytest.mark.parametrize("case, nonlinear", [(c, n) for c in SHAPES for n in (False, True)
                                             if not (c == "vm" and n)])
def test_create_graph_records_torchs_graph(case, nonlinear):
    _, ours = _first_grads(tg, case, nonlinear)
    _, theirs = _first_grads(torch, case, nonlinear)
    for o, t in zip(ours, theirs):
        assert _tree(o.grad_fn) == _tree(t.grad_fn)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", list(SHAPES))
def test_hessian_vector_products_match_torch(case):
    def hvp(lib):
        (a, b), (ga, gb) = _first_grads(lib, case, True)
        va, vb = (lib.ones(s, dtype=lib.float64) * 0.3 for s in SHAPES[case])
        return [h.numpy() for h in lib.autograd.grad((ga * va).sum() + (gb * vb).sum(),
                                                     (a, b))]

    for o, t in zip(hvp(tg), hvp(torch)):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", list(SHAPES))
def test_second_derivatives_by_finite_differences(case):
    rng = np.random.default_rng(2)
    check_derivatives(lambda lib, a, b: lib.tanh(a @ b),
                      *(rng.standard_normal(s) for s in SHAPES[case]), torch=torch)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_unsqueeze_helper_is_a_view_like_expand_dims(dim):
    a = np.arange(12.0).reshape(3, 4).T            # not contiguous
    got = _unsqueeze_array(a, dim)
    assert np.shares_memory(got, a)
    np.testing.assert_array_equal(got, np.expand_dims(a, dim))


@pytest.mark.parametrize("shape, target", [((1,), (4,)), ((3, 1), (2, 3, 5)), ((), (2, 2)),
                                           ((2,), (2,)), ((0,), (3, 0)), ((2, 3), (2, 3))])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_broadcast_view_is_numpys_broadcast_to(shape, target, layout):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    if layout == "transposed":
        a = a.T
        target = target[:len(target) - a.ndim] + a.shape if a.ndim else target
    got, expected = broadcast_view(a, target), np.broadcast_to(a, target)
    assert got.shape == expected.shape and got.strides == expected.strides
    assert not got.flags.writeable and np.shares_memory(got, a) == (a.size > 0)
    np.testing.assert_array_equal(got, expected)


def test_broadcast_view_raises_numpys_error():
    with pytest.raises(ValueError):
        broadcast_view(np.ones(3), (4,))


def test_expanded_tensor_stays_unwritable_like_torch():
    def write(lib):
        x = lib.ones(1).expand(3)
        try:
            x.add_(1.0)
        except RuntimeError as e:
            return str(e)
        return "no error"

    assert write(tg) == write(torch)


def _hvp_graph(lib):
    """W4's first derivative, f(x) = sum(tanh(W @ x) ** 2), w.r.t. x and W."""
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    x = lib.tensor(rng.standard_normal(4), requires_grad=True)
    gx, gw = lib.autograd.grad((lib.tanh(w @ x) ** 2).sum(), (x, w), create_graph=True)
    return _tree(gx.grad_fn), _tree(gw.grad_fn)


def test_hessian_vector_product_graph_is_torchs():
    assert _hvp_graph(tg) == _hvp_graph(torch)


@pytest.mark.parametrize("exponent", [2, 3, 2.5, -1])
def test_pow_derivative_records_mul_by_scalar_as_torch(exponent):
    def run(lib):
        x = lib.tensor([0.5, 1.5, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((x ** exponent).sum(), x, create_graph=True)
        scaled = g.grad_fn.next_functions[1][0]
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        return (_tree(g.grad_fn), scaled._saved_other, _tree(h.grad_fn),
                [t.detach().numpy().tolist() for t in (g, h, k)])

    ours, theirs = run(tg), run(torch)
    assert ours[:3] == theirs[:3]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)
