"""autograd.grad / backward(inputs=): only nodes leading to a captured input run.

The engine skips its parents walk when every sink it meets is a captured input; these
check both that case and the fallback (some sink is not captured) against torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _net(lib, w1_data, w2_data, x_data):
    w1 = lib.from_numpy(w1_data.copy()).requires_grad_()
    w2 = lib.from_numpy(w2_data.copy()).requires_grad_()
    x = lib.from_numpy(x_data.copy())
    h = lib.tanh(w1 @ x)
    y = (lib.tanh(w2 @ h) ** 2).sum()
    return w1, w2, h, y


def _data():
    rng = np.random.default_rng(3)
    return (rng.standard_normal((4, 4)), rng.standard_normal((4, 4)),
            rng.standard_normal(4))


def _run(lib, which):
    """Gradient for one weight (or the hidden layer); which node hooks fired, in order."""
    w1, w2, h, y = _net(lib, *_data())
    fired = []
    for name, node in (("h", h.grad_fn), ("root", y.grad_fn)):
        node.register_prehook(lambda g, name=name: fired.append(name))
    target = {"w1": w1, "w2": w2, "h": h}[which]
    (g,) = lib.autograd.grad(y, target, retain_graph=True)
    return g.detach().numpy(), fired


@pytest.mark.parametrize("which", ["w1", "w2", "h"])
def test_grad_runs_only_nodes_leading_to_the_input(which):
    ours, fired = _run(tapegrad, which)
    theirs, torch_fired = _run(torch, which)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert fired == torch_fired


def test_backward_inputs_accumulates_only_the_inputs():
    results = []
    for lib in (tapegrad, torch):
        w1, w2, _, y = _net(lib, *_data())
        y.backward(inputs=[w2])
        results.append((w1.grad, w2.grad.detach().numpy()))
    (ours_w1, ours_w2), (torch_w1, torch_w2) = results
    assert ours_w1 is None and torch_w1 is None
    np.testing.assert_allclose(ours_w2, torch_w2, rtol=1e-12, atol=1e-12)


def test_hessian_vector_product_graph_and_values():
    rng = np.random.default_rng(0)
    w_data = rng.standard_normal((8, 8)) / np.sqrt(8)
    x_data, v_data = rng.standard_normal(8), rng.standard_normal(8)
    out = []
    for lib in (tapegrad, torch):
        w, v = lib.from_numpy(w_data), lib.from_numpy(v_data)
        x = lib.from_numpy(x_data.copy()).requires_grad_()
        f = (lib.tanh(w @ x) ** 2).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        (hv,) = lib.autograd.grad((g * v).sum(), x)
        out.append((type(g.grad_fn).__name__, hv.detach().numpy()))
    (ours_name, ours), (torch_name, theirs) = out
    assert ours_name == torch_name == "MvBackward0"
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
