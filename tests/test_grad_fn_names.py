"""grad_fn names of public ops and composites are torch's, checked live against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)


def _leaves(T: Any, arrays: list) -> list:
    return [T.tensor(a, requires_grad=True) for a in arrays]


CASES: list[tuple[str, Callable, list]] = [
    ("softmax", lambda T, x: T.softmax(x, 1), [RNG.standard_normal((2, 3))]),
    ("softmax_method", lambda T, x: x.softmax(-1), [RNG.standard_normal((2, 3))]),
    ("log_softmax", lambda T, x: T.log_softmax(x, 0), [RNG.standard_normal((2, 3))]),
    ("log_softmax_method", lambda T, x: x.log_softmax(dim=1), [RNG.standard_normal((2, 3))]),
    ("F_softmax", lambda T, x: T.nn.functional.softmax(x, dim=1), [RNG.standard_normal((2, 3))]),
    ("F_log_softmax", lambda T, x: T.nn.functional.log_softmax(x, dim=1),
     [RNG.standard_normal((2, 3))]),
    ("addmm", lambda T, b, x, w: T.addmm(b, x, w), [RNG.standard_normal(3),
                                                    RNG.standard_normal((2, 4)),
                                                    RNG.standard_normal((4, 3))]),
    ("linear", lambda T, x, w, b: T.nn.functional.linear(x, w, b),
     [RNG.standard_normal((2, 4)), RNG.standard_normal((3, 4)), RNG.standard_normal(3)]),
    ("erf", lambda T, x: T.erf(x), [RNG.standard_normal(3)]),
    ("gelu", lambda T, x: T.nn.functional.gelu(x), [RNG.standard_normal(3)]),
    ("amax", lambda T, x: T.amax(x, 1), [RNG.standard_normal((2, 3))]),
    ("amin", lambda T, x: x.amin(0), [RNG.standard_normal((2, 3))]),
    ("vector_norm", lambda T, x: T.linalg.vector_norm(x), [RNG.standard_normal((2, 3))]),
    ("matrix_norm_fro", lambda T, x: T.linalg.matrix_norm(x), [RNG.standard_normal((2, 3))]),
    ("matrix_norm_2", lambda T, x: T.linalg.matrix_norm(x, 2), [RNG.standard_normal((2, 3))]),
    ("matrix_norm_m2", lambda T, x: T.linalg.matrix_norm(x, -2), [RNG.standard_normal((2, 3))]),
    ("matrix_norm_1", lambda T, x: T.linalg.matrix_norm(x, 1), [RNG.standard_normal((2, 3))]),
    ("matrix_norm_inf", lambda T, x: T.linalg.matrix_norm(x, float("inf")),
     [RNG.standard_normal((2, 3))]),
    ("matrix_norm_nuc", lambda T, x: T.linalg.matrix_norm(x, "nuc"),
     [RNG.standard_normal((2, 3))]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_grad_fn_name_and_value_match_torch(case: tuple) -> None:
    _, fn, arrays = case
    want = fn(torch, *_leaves(torch, arrays))
    got = fn(tg, *_leaves(tg, arrays))
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_softmax_of_integers_raises_torchs_error() -> None:
    for T in (torch, tg):
        with pytest.raises(NotImplementedError) as info:
            T.softmax(T.arange(3), 0)
        assert str(info.value) == "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"


def test_softmax_dtype_argument_casts_first() -> None:
    x = RNG.standard_normal(4)
    want = torch.softmax(torch.tensor(x), 0, dtype=torch.float32)
    got = tg.softmax(tg.tensor(x), 0, dtype=tg.float32)
    assert got.dtype == tg.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_softmax_of_a_scalar_backpropagates_like_torch() -> None:
    grads = []
    for T in (torch, tg):
        x = T.tensor(0.3, requires_grad=True)
        T.softmax(x, 0).backward()
        grads.append(float(x.grad))
    assert grads[0] == grads[1]
