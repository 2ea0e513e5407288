"""The example graphs of docs/visualization.md, each as (output, {name: leaf}).

tools/make_viz_docs.py draws them for the docs and tests/test_viz.py checks what is drawn,
so the pictures in the docs are of the graphs the tests check."""

from __future__ import annotations

import tapegrad as torch
from tapegrad.tensor import Tensor

Example = tuple[Tensor, dict[str, Tensor]]


def square() -> Example:
    """y = x**2 at x = 3."""
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    return y, {"x": x}


def logistic() -> Example:
    """Binary cross-entropy of one logistic unit."""
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(-0.2, requires_grad=True)
    t = 1.0
    p = torch.sigmoid(w * 6.7 + b)
    loss = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    return loss, {"w": w, "b": b}


def mlp() -> Example:
    """Mean squared output of a two-layer perceptron (relu, tanh) on a seeded batch."""
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    w1 = torch.randn(3, 5, requires_grad=True)
    b1 = torch.zeros(5, requires_grad=True)
    w2 = torch.randn(5, 1, requires_grad=True)
    b2 = torch.zeros(1, requires_grad=True)
    h = torch.relu(torch.matmul(x, w1) + b1)
    out = torch.tanh(torch.matmul(h, w2) + b2)
    loss = (out * out).mean()
    return loss, {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


EXAMPLES = [square, logistic, mlp]
