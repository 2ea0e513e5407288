"""sigmoid is computed with torch's formula, 1 / (1 + exp(-x)): the same values as torch
down to the far negative tail (0 where exp(-x) overflows, not a denormal), without NumPy
overflow warnings, on 0-d tensors and arrays alike."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

TAILS = [-800.0, -100.0, -90.0, -88.5, -20.0, -3.0, 0.0, 2.5, 20.0, 100.0, 800.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_tails_match_torch_without_warnings(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = tg.sigmoid(tg.tensor(TAILS, dtype=getattr(tg, dtype))).numpy()
        scalars = [tg.sigmoid(tg.tensor(v, dtype=getattr(tg, dtype))).item() for v in TAILS]
    theirs = torch.sigmoid(torch.tensor(TAILS, dtype=getattr(torch, dtype))).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-7 if dtype == "float32" else 1e-15,
                               atol=0)
    np.testing.assert_allclose(scalars, theirs, rtol=2e-7 if dtype == "float32" else 1e-15,
                               atol=0)


def test_sigmoid_gradient_matches_torch_on_a_large_array():
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 6

    def grad(lib):
        t = lib.from_numpy(x.copy()).requires_grad_()
        lib.sigmoid(t).sum().backward()
        return t.grad.numpy()

    # s (1 - s) near s = 1 turns one-ulp differences in s into larger relative ones
    np.testing.assert_allclose(grad(tg), grad(torch), rtol=1e-6, atol=3e-7)
