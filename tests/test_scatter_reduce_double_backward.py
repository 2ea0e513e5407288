"""scatter_reduce(reduce="prod")'s gradient is differentiable again, as torch's: first and
second derivatives against torch, zeros in the input and in src included."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import to_numpy

import tapegrad as tg

torch = pytest.importorskip("torch")

INDEX = [0, 1, 0, 0, 2]
CASES = {
    "plain": ([1.5, -0.5, 2.0], [0.6, 0.8, -0.2, -0.8, 1.5]),
    "zero_in_self": ([0.0, -0.5, 2.0], [0.6, 0.8, -0.2, -0.8, 1.5]),
    "one_zero_in_src": ([1.5, -0.5, 2.0], [0.6, 0.0, -0.2, -0.8, 0.0]),
    "zeros_everywhere": ([0.0, 0.0, 2.0], [0.6, 0.0, 0.0, -0.8, 0.0]),
}


def _derivatives(lib, self_values, src_values, include_self):
    a = lib.tensor(self_values, dtype=lib.float64, requires_grad=True)
    s = lib.tensor(src_values, dtype=lib.float64, requires_grad=True)
    y = a.scatter_reduce(0, lib.tensor(INDEX), s, "prod", include_self=include_self)
    weights = lib.tensor([0.3, -1.2, 0.7], dtype=lib.float64)
    ga, gs = lib.autograd.grad((y * weights).sum(), (a, s), create_graph=True)
    second = lib.autograd.grad((ga * ga).sum() + (gs * weights.sum()).sum(), (a, s),
                               allow_unused=True)
    return [to_numpy(t) for t in (y, ga, gs)], [
        None if h is None else to_numpy(h) for h in second]


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_prod_derivatives_to_second_order_match_torch(case, include_self):
    firsts_tg, seconds_tg = _derivatives(tg, *CASES[case], include_self)
    firsts_t, seconds_t = _derivatives(torch, *CASES[case], include_self)
    for ours, theirs in zip(firsts_tg + seconds_tg, firsts_t + seconds_t):
        if theirs is None:
            assert ours is None or not np.any(ours)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_prod_second_derivative_matches_finite_differences():
    """d/dself of sum(grad_self * w): the gradient's own gradient, numerically."""
    src = tg.tensor([0.6, 0.8, -0.2, -0.8, 1.5], dtype=tg.float64)
    w = np.array([0.3, -1.2, 0.7])

    def first(values):
        a = tg.tensor(values, dtype=tg.float64, requires_grad=True)
        y = a.scatter_reduce(0, tg.tensor(INDEX), src, "prod")
        (ga,) = tg.autograd.grad((y * y).sum(), a, create_graph=True)
        return a, ga

    x = np.array([1.5, -0.5, 2.0])
    a, ga = first(x.tolist())
    (hess_w,) = tg.autograd.grad((ga * tg.tensor(w)).sum(), a)
    eps = 1e-6
    numeric = [((first((x + eps * e).tolist())[1].detach().numpy() * w).sum()
                - (first((x - eps * e).tolist())[1].detach().numpy() * w).sum()) / (2 * eps)
               for e in np.eye(3)]
    np.testing.assert_allclose(hess_w.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax"])
def test_inputs_and_result_are_saved_as_torch(reduce):
    """torch saves self, src and result for every reduce: readable as _saved_<name>, and
    an in-place change of the input before backward is an error."""
    results = []
    for lib in (tg, torch):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        s = lib.tensor([4.0, 5.0], requires_grad=True)
        y = a.scatter_reduce(0, lib.tensor([0, 2]), s, reduce)
        saved = [getattr(y.grad_fn, f"_saved_{n}").tolist() for n in ("self", "src", "result")]
        with lib.no_grad():
            a.mul_(2)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        results.append((saved, str(info.value)))
    (ours, our_message), (theirs, their_message) = results
    assert ours == theirs
    assert our_message.startswith(their_message)      # tapegrad adds where it was modified
