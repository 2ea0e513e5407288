"""sum's derivative under create_graph=True is recorded as torch records it: a full
reduction's 0-d gradient is expanded as it is, a reduction over dims puts each dim back
with one UnsqueezeBackward0 before the ExpandBackward0 (no ViewBackward0). mean's is the
same, divided by the count as a Scalar (DivBackward1)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

REDUCTIONS = {
    "all": lambda x: x.sum(),
    "dim": lambda x: x.sum(1),
    "two_dims": lambda x: x.sum((0, 2)),
    "negative_dim": lambda x: x.sum(-1),
    "keepdim": lambda x: x.sum(1, keepdim=True),
    "mean_dim": lambda x: x.mean((0, 2)),
    "mean_all": lambda x: x.mean(),
    "mean_keepdim": lambda x: x.mean(-1, keepdim=True),
    "mean_no_dims": lambda x: x.mean(()),
}


def _tree(node):
    if node is None:
        return None
    return (node.name(), tuple(_tree(n) for n, _ in node.next_functions))


def _first(lib, name):
    x = lib.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = REDUCTIONS[name](x)
    go = lib.tensor(np.linspace(0.5, 2.0, out.numel()).reshape(tuple(out.shape)),
                    requires_grad=True)
    (g,) = lib.autograd.grad(out, x, go, create_graph=True)
    return go, g


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_sum_and_mean_backward_graph_matches_torch(name):
    """mean divides by the count as torch's Scalar overload: DivBackward1."""
    assert _tree(_first(tg, name)[1].grad_fn) == _tree(_first(torch, name)[1].grad_fn)


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_sum_backward_values_and_second_order_match_torch(name):
    def run(lib):
        go, g = _first(lib, name)
        (gg,) = lib.autograd.grad((g * g).sum(), go)
        return g.detach().numpy(), gg.numpy()

    for ours, theirs in zip(run(tg), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
