"""nn.functional.pad in every mode, against torch: values, grad_fn names, gradients
(first and second), finite differences, and torch's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)

CASES = [
    ("constant", (2, 3), (1, 2), {}),
    ("constant", (2, 3), (1, 2, 0, 1), {"value": 0.5}),
    ("constant", (2, 3, 4), (-1, 2, 1, -2), {}),
    ("constant", (2, 3), (-3, 0), {}),
    ("constant", (3,), (2, 0), {"value": -1.0}),
    ("constant", (1, 2, 2, 2, 2), (1, 0, 0, 1, 1, 1, 0, 0), {}),
    ("reflect", (2, 4), (2, 1), {}),
    ("reflect", (1, 2, 4), (3, 0), {}),
    ("reflect", (1, 3, 4), (1, 1, 2, 0), {}),
    ("reflect", (2, 3, 3, 4), (1, 2, 2, 1), {}),
    ("reflect", (1, 3, 3, 4), (1, 0, 2, 1, 0, 2), {}),
    ("reflect", (1, 2, 4), (-1, 2), {}),
    ("replicate", (1, 2, 3), (2, 1), {}),
    ("replicate", (2, 3, 4), (1, 1, 2, 3), {}),
    ("replicate", (1, 2, 2, 3, 2), (1, 1, 0, 2, 1, 0), {}),
    ("replicate", (1, 2, 3), (-2, 1), {}),
    ("circular", (1, 2, 3), (1, 2), {}),
    ("circular", (2, 3), (3, 2), {}),
    ("circular", (1, 2, 3, 4), (1, 2, 3, 0), {}),
    ("circular", (1, 1, 2, 2, 3), (1, 1, 1, 1, 1, 1), {}),
    ("circular", (1, 2, 3), (-1, 2), {}),
]
IDS = [f"{m}-{s}-{p}" for m, s, p, _ in CASES]


def _run(T: Any, case: tuple, x: np.ndarray, create_graph: bool = False) -> tuple:
    mode, _, pad, kw = case
    leaf = T.tensor(x, requires_grad=True)
    out = T.nn.functional.pad(leaf, pad, mode=mode, **kw)
    w = T.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    (g,) = T.autograd.grad((out * out * w).sum(), leaf, create_graph=create_graph)
    return leaf, out, g


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pad_forward_first_and_second_derivatives_match_torch(case: tuple) -> None:
    x = RNG.standard_normal(case[1])
    results = []
    for T in (torch, tg):
        leaf, out, g = _run(T, case, x, create_graph=True)
        (gg,) = T.autograd.grad((g ** 3).sum(), leaf)
        results.append((type(out.grad_fn).__name__, tuple(out.shape), out.detach().numpy(),
                        g.detach().numpy(), gg.numpy()))
    (t_name, t_shape, *t_arrays), (g_name, g_shape, *g_arrays) = results
    assert (g_name, g_shape) == (t_name, t_shape)
    for t, g in zip(t_arrays, g_arrays):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if len(c[1]) <= 3],
                         ids=[i for i, c in zip(IDS, CASES) if len(c[1]) <= 3])
def test_pad_gradient_matches_finite_differences(case: tuple) -> None:
    x = RNG.standard_normal(case[1])
    _, out, g = _run(tg, case, x)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    mode, _, pad, kw = case

    def loss(a: np.ndarray) -> float:
        o = tg.nn.functional.pad(tg.tensor(a), pad, mode=mode, **kw).numpy()
        return float((o * o * w).sum())

    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        numeric[i] = (loss(up) - loss(down)) / 2e-6
    np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-7)


def test_pad_keeps_integer_dtype_and_casts_the_value_as_torch() -> None:
    want = torch.nn.functional.pad(torch.arange(3).reshape(1, 3), (1, 1), value=2.5)
    got = tg.nn.functional.pad(tg.arange(3).reshape(1, 3), (1, 1), value=2.5)
    assert str(got.dtype) == str(want.dtype)
    assert got.tolist() == want.tolist()


def test_pad_without_grad_records_nothing() -> None:
    out = tg.nn.functional.pad(tg.ones(2, 3), (1, 1), mode="replicate")
    assert out.grad_fn is None and not out.requires_grad


ERRORS = [
    ((1, 2, 3), (1,), {}),
    ((1, 2, 3), (1,) * 8, {}),
    ((1, 2, 3), (1, 1), {"mode": "foo"}),
    ((1, 2, 3), (3, 1), {"mode": "reflect"}),
    ((1, 2, 3), (1, 1), {"mode": "reflect", "value": 1.0}),
    ((3,), (1, 1), {"mode": "replicate"}),
    ((3,), (1, 1), {"mode": "circular"}),
    ((1, 2, 3), (1,) * 6, {"mode": "reflect"}),
    ((2, 2, 2, 2), (1, 1), {"mode": "circular"}),
    ((1, 2, 3), (4, 1), {"mode": "circular"}),
    ((1, 2, 3), (-4, 0), {}),
    ((1, 2, 3), (-2, -2), {}),
    ((1, 2, 3), (1.5, 1), {}),
    ((1, 0, 3), (1, 1), {"mode": "reflect"}),
    ((2, 0), (1, 1), {"mode": "replicate"}),
]


@pytest.mark.parametrize("shape,pad,kw", ERRORS, ids=[f"{s}-{p}-{k}" for s, p, k in ERRORS])
def test_pad_errors_match_torch(shape: tuple, pad: tuple, kw: dict) -> None:
    with pytest.raises(Exception) as want:
        torch.nn.functional.pad(torch.zeros(shape), pad, **kw)
    with pytest.raises(Exception) as got:
        tg.nn.functional.pad(tg.zeros(shape), pad, **kw)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)
