"""nn ops torch computes with one fused kernel (mse_loss, layer_norm, batch_norm, nll_loss,
embedding, avg_pool2d, ...): their node's next_functions are the op's inputs, as in
torch; first and second derivatives unchanged (finite differences and torch); in-place
checks of what torch's node saves; retain_graph, hooks, checkpoint — vs torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same_result, check_derivatives

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)
A = RNG.standard_normal((4, 3))
B = RNG.standard_normal((4, 3))
P = RNG.uniform(0.1, 0.9, (4, 3))
W3 = RNG.standard_normal(3)
B3 = RNG.standard_normal(3)
IMG = RNG.standard_normal((2, 3, 4, 4))


def _cls(lib):
    return lib.tensor([0, 2, 1, 1])


# fn(lib, x, w, b) with x = A-shaped input (or IMG for the image ops), w, b = (3,) params
CASES = {
    "mse": (lambda lib, x, w, b: lib.nn.functional.mse_loss(x * w, lib.tensor(B)), A),
    "mse both inputs": (lambda lib, x, w, b: lib.nn.functional.mse_loss(x, x * w + b), A),
    "mse none": (lambda lib, x, w, b: lib.nn.functional.mse_loss(
        x, lib.tensor(B), reduction="none"), A),
    "smooth_l1": (lambda lib, x, w, b: lib.nn.functional.smooth_l1_loss(
        x * w, lib.tensor(B), beta=0.5), A),
    "huber": (lambda lib, x, w, b: lib.nn.functional.huber_loss(x, lib.tensor(B) + b), A),
    "bce": (lambda lib, x, w, b: lib.nn.functional.binary_cross_entropy(
        x.sigmoid(), lib.tensor(P), weight=lib.tensor(W3).abs()), A),
    "bce logits": (lambda lib, x, w, b: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.tensor(P), pos_weight=lib.tensor(W3).abs()), A),
    "nll": (lambda lib, x, w, b: lib.nn.functional.nll_loss(x.log_softmax(1), _cls(lib)), A),
    "nll 4-d": (lambda lib, x, w, b: lib.nn.functional.nll_loss(
        x, lib.zeros(2, 4, 4, dtype=lib.long) + 1, reduction="sum"), IMG),
    "cross_entropy": (lambda lib, x, w, b: lib.nn.functional.cross_entropy(
        x * w, _cls(lib), weight=lib.tensor(W3).abs()), A),
    "cross_entropy probs": (lambda lib, x, w, b: lib.nn.functional.cross_entropy(
        x * w, lib.tensor(P).softmax(1)), A),
    "layer_norm": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3,), w, b), A),
    "layer_norm no affine": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x * w, (3,)),
                             A),
    "batch_norm": (lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, None, None, w, b, training=True), A),
    "batch_norm eval": (lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, lib.tensor(B3), lib.tensor(W3).abs(), w, None), A),
    "group_norm": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 3, w, b), IMG),
    "embedding": (lambda lib, x, w, b: lib.nn.functional.embedding(
        lib.tensor([[0, 3], [3, 1]]), x * w), A),
    # rows at padding_idx get no gradient by design: no finite-difference check
    "embedding padded": (lambda lib, x, w, b: lib.nn.functional.embedding(
        lib.tensor([[0, 3], [3, 1]]), x * w, padding_idx=1), A),
    "avg_pool2d": (lambda lib, x, w, b: lib.nn.functional.avg_pool2d(x, 3, 1, 1), IMG),
    "adaptive_avg_pool2d": (lambda lib, x, w, b: lib.nn.functional.adaptive_avg_pool2d(
        x, (3, 2)), IMG),
    "adaptive_avg_pool2d even": (lambda lib, x, w, b: lib.nn.functional.adaptive_avg_pool2d(
        x, 2), IMG),
}


def _structure(y, depth: int = 3) -> list:
    """Node names level by level below y (breadth first, ``depth`` levels)."""
    levels, frontier = [], [y.grad_fn]
    for _ in range(depth):
        levels.append([None if n is None else n.name() for n in frontier])
        frontier = [m for n in frontier if n is not None for m, _ in n.next_functions]
    return levels


def _inputs(lib, x):
    return (lib.tensor(x, requires_grad=True), lib.tensor(W3, requires_grad=True),
            lib.tensor(B3, requires_grad=True))


@pytest.mark.parametrize("case", list(CASES))
def test_fused_node_edges_are_the_inputs_like_torch(case):
    fn, x = CASES[case]
    assert _structure(fn(tapegrad, *_inputs(tapegrad, x))) == \
        _structure(fn(torch, *_inputs(torch, x)))


@pytest.mark.parametrize("case", [c for c in CASES if c != "embedding padded"])
def test_fused_node_derivatives_to_second_order(case):
    fn, x = CASES[case]

    def scaled(lib, x, w, b):
        return fn(lib, x, w, b) ** 2         # a nonlinear use, for the second order
    check_derivatives(scaled, x, W3, B3, torch=torch, rtol=1e-5)


@pytest.mark.parametrize("case", ["input", "target", "layer_norm bias", "batch_norm bias",
                                  "embedding weight", "group_norm weight"])
def test_in_place_change_of_what_torch_saves_raises_like_torch(case):
    def prog(lib):
        F = lib.nn.functional
        x, w, b = _inputs(lib, A)
        h = x * 1
        t = lib.tensor(B)
        if case in ("input", "target"):
            y, changed = F.mse_loss(h, t), h if case == "input" else t
        elif case == "layer_norm bias":
            bias = b * 1
            y, changed = F.layer_norm(h, (3,), w, bias), bias
        elif case == "batch_norm bias":
            bias = b * 1
            y, changed = F.batch_norm(h, None, None, w, bias, training=True), bias
        elif case == "embedding weight":
            y, changed = F.embedding(lib.tensor([0, 2]), h), h
        else:
            weight = w * 1
            y, changed = F.group_norm(lib.tensor(IMG), 3, weight), weight
        with lib.no_grad():
            changed.add_(1)
        y.sum().backward()
        return x.grad
    assert_same_result(prog, torch)


def test_second_backward_retain_graph_and_hooks_like_torch():
    def prog(lib):
        x, w, _ = _inputs(lib, A)
        seen = []
        h = x * w
        h.register_hook(lambda g: seen.append(g.sum().item()))
        y = lib.nn.functional.mse_loss(h, lib.tensor(B))
        y.backward(retain_graph=True)
        y.backward()
        first = x.grad.clone()
        try:
            y.backward()
        except RuntimeError as e:
            return first, seen, str(e)
    assert_same_result(prog, torch)


def test_fused_nodes_inside_checkpoint():
    def prog(lib):
        x, w, b = _inputs(lib, A)
        calls = []

        def block(x):
            calls.append("run")
            return lib.nn.functional.mse_loss(lib.nn.functional.layer_norm(x, (3,), w, b),
                                              lib.tensor(B))
        y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
        y.backward()
        return y, x.grad, w.grad, b.grad, calls
    __import__("tapegrad.utils.checkpoint")
    assert_same_result(prog, torch)


def test_batch_norm_updates_running_stats_once_even_with_create_graph():
    def prog(lib):
        x, w, b = _inputs(lib, A)
        mean, var = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        y = lib.nn.functional.batch_norm(x, mean, var, w, b, training=True)
        (g,) = lib.autograd.grad((y ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        return mean, var, x.grad
    assert_same_result(prog, torch)
