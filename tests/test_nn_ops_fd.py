"""Finite-difference checks (float64) for the differentiable ops nn relies on."""

import numpy as np
import pytest
from torch_compare import central_differences

import tapegrad as tg
from tapegrad.nn import _conv_ops, _ops
from tapegrad.ops import activation, matrix, unary_math

RNG = np.random.default_rng(21)


def _fd_check(fn, *arrays, eps=1e-6, tol=1e-6):
    """Compare backward of sum(fn(...) * w) with central differences, for every input."""
    inputs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    w = RNG.standard_normal(tuple(out.shape))
    (out * tg.tensor(w)).sum().backward()

    def weighted_output(xs):
        return (fn(*[tg.tensor(x) for x in xs]).numpy() * w).sum()

    for x, numeric in zip(inputs, central_differences(weighted_output, arrays, eps), strict=True):
        np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=tol, atol=tol)


def test_erf_gradient():
    _fd_check(unary_math.erf, RNG.standard_normal((3, 4)))


def test_addmm_gradient():
    _fd_check(matrix.addmm, RNG.standard_normal(3), RNG.standard_normal((2, 4)),
              RNG.standard_normal((4, 3)))


@pytest.mark.parametrize("op", [activation.softmax, activation.log_softmax])
def test_softmax_gradients(op):
    _fd_check(lambda x: op(x, 1), RNG.standard_normal((2, 3, 2)))


def test_bce_gradient():
    _fd_check(_ops.binary_cross_entropy, RNG.random((2, 3)) * 0.8 + 0.1, RNG.random((2, 3)))


def test_convolution_gradient():
    spec = _conv_ops.WindowSpec((2, 2, 4, 5), (2, 3), (2, 1), ((1, 1), (0, 1)), (1, 1))
    _fd_check(lambda x, w, b: _conv_ops.convolution(x, w, b, spec, 2),
              RNG.standard_normal((2, 2, 4, 5)), RNG.standard_normal((4, 1, 2, 3)),
              RNG.standard_normal(4))


def test_im2col_and_col2im_are_adjoint():
    spec = _conv_ops.WindowSpec((1, 2, 5, 4), (2, 2), (2, 1), ((1, 0), (1, 1)), (2, 1))
    x = RNG.standard_normal(spec.in_shape)
    cols = _conv_ops._im2col_array(x, spec)
    y = RNG.standard_normal(cols.shape)
    lhs = (cols * y).sum()
    rhs = (x * _conv_ops._col2im_array(y, spec)).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12)
