"""The core issue's worked examples, each compared with the value torch prints."""

import math

import pytest

import tapegrad as tg


def test_square_backward_gives_six():
    x = tg.tensor(3.0, requires_grad=True)
    y = x**2
    assert repr(y) == "tensor(9., grad_fn=<PowBackward0>)"
    y.backward()
    assert repr(x.grad) == "tensor(6.)"


def test_two_x_dot_x_gradient_is_four_x():
    x = tg.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
    (2 * x.dot(x)).backward()
    assert repr(x.grad) == "tensor([ 0.,  4.,  8., 12.])"


def test_logistic_regression_loss_gradients():
    w = tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(0.0, requires_grad=True)
    t = 0.0
    p = tg.sigmoid(w * 6.7 + b).clamp(1e-8, 1 - 1e-8)
    loss = -(t * tg.log(p) + (1 - t) * tg.log(1 - p))
    loss.backward()
    assert repr(w.grad) == "tensor(6.6918)"
    assert repr(b.grad) == "tensor(0.9988)"


def test_cube_by_fan_out_accumulates_27():
    x = tg.tensor(3.0, requires_grad=True)
    (x * x * x).backward()
    assert x.grad.item() == 27.0


def test_third_derivative_through_create_graph():
    x = tg.tensor(2.0, requires_grad=True)
    (g1,) = tg.autograd.grad(x**3, x, create_graph=True)
    (g2,) = tg.autograd.grad(g1, x, create_graph=True)
    (g3,) = tg.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)
    assert repr(g1) == "tensor(12., grad_fn=<MulBackward0>)"



def test_broadcast_gradient_is_summed_back():
    a = tg.ones(2, 3, requires_grad=True)
    b = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (a * b).sum().backward()
    assert b.grad.tolist() == [2.0, 2.0, 2.0]
    assert a.grad.tolist() == [[1.0, 2.0, 3.0]] * 2


def test_sgd_step_matches_hand_update():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.tolist() == pytest.approx([0.8, -1.6])
    opt.zero_grad()
    assert w.grad is None
    assert not math.isnan(w.sum().item())
