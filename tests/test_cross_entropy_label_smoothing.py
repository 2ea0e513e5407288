"""F.cross_entropy with label_smoothing > 0 records torch's graph: the nll term and the
smoothing term (-sum of log-probabilities, 0 at ignored targets, reduced) each scaled by a
number (MulBackward1). Values and derivatives to second order against torch, and the
first derivative against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import central_differences

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = {
    "mean": ((3, 4), [0, 2, 3], {}),
    "sum": ((3, 4), [0, 2, 3], {"reduction": "sum"}),
    "none": ((3, 4), [0, 2, 3], {"reduction": "none"}),
    "ignored": ((3, 4), [0, -100, 3], {}),
    "weight": ((3, 4), [0, 1, 3], {"weight": [0.5, 1.0, 2.0, 1.5]}),
    "weight_ignore": ((3, 4), [0, 1, 3], {"weight": [0.5, 1.0, 2.0, 1.5], "ignore_index": 1}),
    "unbatched": ((4,), 2, {}),
    "image": ((2, 3, 2, 2), [[[0, 1], [2, 0]], [[1, 1], [2, 2]]], {}),
    "sequence_none": ((2, 3, 5), [[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]], {"reduction": "none"}),
}


def _tree(fn, depth=7):
    if fn is None:
        return None
    return (fn.name(), [_tree(f, depth - 1) if depth else "..." for f, _ in fn.next_functions])


def _loss(lib, x, case):
    _, target, kwargs = CASES[case]
    kwargs = dict(kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = lib.tensor(kwargs["weight"], dtype=lib.float64)
    return lib.nn.functional.cross_entropy(x, lib.tensor(target), label_smoothing=0.2,
                                           **kwargs)


def _input(case):
    return np.random.default_rng(0).standard_normal(CASES[case][0])


def _run(lib, case):
    x = lib.tensor(_input(case), requires_grad=True)
    y = _loss(lib, x, case)
    (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    (h,) = lib.autograd.grad((g * g).sum(), x)
    return _tree(y.grad_fn), [t.detach().numpy() for t in (y, g, h)]


@pytest.mark.parametrize("case", CASES)
def test_graph_and_derivatives_match_torch(case):
    (ours_tree, ours), (theirs_tree, theirs) = _run(tg, case), _run(torch, case)
    assert ours_tree == theirs_tree
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["mean", "weight_ignore", "image"])
def test_gradient_matches_finite_differences(case):
    x = tg.tensor(_input(case), requires_grad=True)
    y = _loss(tg, x, case)
    (g,) = tg.autograd.grad(y.sum(), x)
    (numeric,) = central_differences(
        lambda arrays: float(_loss(tg, tg.tensor(arrays[0]), case).sum()), [_input(case)])
    np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-8)
