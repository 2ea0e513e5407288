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


def _r(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


EINSUMS = [("ij->ji", [(2, 3)]), ("ij", [(2, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
           ("ij->", [(2, 3)]), ("bij->b", [(2, 3, 4)]), ("i,i->", [(3,), (3,)]),
           ("i,j->ij", [(2,), (3,)]), ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
           ("ij,j,k->ik", [(2, 3), (3,), (4,)]), ("i,i,i->i", [(3,), (3,), (3,)]),
           (",->", [(), ()]), ("i,->", [(2,), ()]), ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
           ("bii->bi", [(2, 3, 3)])]

COMPOSITES: list[tuple[str, Callable, list]] = [
    *[(f"einsum {eq}", (lambda e: lambda T, *xs: T.einsum(e, *xs))(eq), [_r(*s) for s in shapes])
      for eq, shapes in EINSUMS],
    ("kron", lambda T, a, b: T.kron(a, b), [_r(2, 3), _r(2, 2)]),
    ("kron_1d", lambda T, a, b: T.kron(a, b), [_r(3), _r(2)]),
    ("tensordot", lambda T, a, b: T.tensordot(a, b, 1), [_r(2, 3), _r(3, 4)]),
    ("linear_1d", lambda T, x, w, b: T.nn.functional.linear(x, w, b), [_r(3), _r(4, 3), _r(4)]),
    ("linear_1d_no_bias", lambda T, x, w: T.nn.functional.linear(x, w), [_r(3), _r(4, 3)]),
    ("linear_3d", lambda T, x, w, b: T.nn.functional.linear(x, w, b),
     [_r(2, 2, 3), _r(4, 3), _r(4)]),
    ("linear_3d_no_bias", lambda T, x, w: T.nn.functional.linear(x, w), [_r(2, 2, 3), _r(4, 3)]),
    ("repeat_interleave_int", lambda T, x: x.repeat_interleave(2, dim=1), [_r(2, 3)]),
    ("repeat_interleave_flat", lambda T, x: T.repeat_interleave(x, 2), [_r(2, 3)]),
    ("repeat_interleave_tensor", lambda T, x: x.repeat_interleave(T.tensor([1, 2]), dim=0),
     [_r(2, 3)]),
    ("reshape_copy", lambda T, x: x.t().reshape(6), [_r(2, 3)]),
    ("flatten_copy", lambda T, x: x.t().flatten(), [_r(2, 3)]),
    ("reshape_view", lambda T, x: x.reshape(3, 2), [_r(2, 3)]),
    ("movedim_method", lambda T, x: x.movedim(0, 1), [_r(2, 3)]),
    ("matrix_norm_fro_keepdim", lambda T, x: T.linalg.matrix_norm(x, keepdim=True), [_r(2, 3)]),
    ("matrix_norm_nuc_keepdim", lambda T, x: T.linalg.matrix_norm(x, "nuc", keepdim=True),
     [_r(2, 3)]),
    ("matrix_norm_2_keepdim", lambda T, x: T.linalg.matrix_norm(x, 2, keepdim=True), [_r(2, 3)]),
    ("matrix_norm_1_keepdim", lambda T, x: T.linalg.matrix_norm(x, 1, keepdim=True), [_r(2, 3)]),
    ("matrix_norm_inf_dims", lambda T, x: T.linalg.matrix_norm(x, float("inf"), dim=(2, 0)),
     [_r(2, 3, 4)]),
    ("matrix_norm_2_dims_keepdim",
     lambda T, x: T.linalg.matrix_norm(x, -2, dim=(0, 2), keepdim=True), [_r(2, 3, 4)]),
    ("diagonal", lambda T, x: T.diagonal(x, -1, 2, 1), [_r(2, 3, 4)]),
]


@pytest.mark.parametrize("case", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composite_grad_fn_name_value_and_gradient_match_torch(case: tuple) -> None:
    _, fn, arrays = case
    t_in, g_in = _leaves(torch, arrays), _leaves(tg, arrays)
    want, got = fn(torch, *t_in), fn(tg, *g_in)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    w = RNG.standard_normal(tuple(want.shape))
    (want * torch.tensor(w)).sum().backward()
    (got * tg.tensor(w)).sum().backward()
    for t, g in zip(t_in, g_in):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-8)


def test_reshape_that_copies_is_not_a_view() -> None:
    for T in (torch, tg):
        x = T.zeros(2, 3)
        y = x.t().reshape(6)
        y.add_(1)
        assert float(x.sum()) == 0.0 and x._version == 0


# -- diagonal is a view ----------------------------------------------------------------------


def _diagonal_story(T: Any) -> tuple:
    base = T.arange(12.0, dtype=T.float64).reshape(3, 4).requires_grad_()
    x = base * 1
    d = x.diagonal(1)
    shares = d.data_ptr() != x.data_ptr() and d._base is x
    versions_before = (x._version, d._version)
    d.mul_(10)
    names = (type(x.grad_fn).__name__, type(d.grad_fn).__name__)
    (x * T.arange(12.0, dtype=T.float64).reshape(3, 4)).sum().backward()
    return (shares, versions_before, (x._version, d._version), names,
            x.detach().numpy().tolist(), base.grad.numpy().tolist())


def test_diagonal_is_a_view_in_place_through_it_reaches_the_base() -> None:
    assert _diagonal_story(tg) == _diagonal_story(torch)


def test_diagonal_writes_land_in_the_base_without_grad() -> None:
    for T in (torch, tg):
        y = T.zeros(3, 3)
        T.diagonal(y).fill_(1)
        assert y.numpy().tolist() == np.eye(3).tolist()


def test_view_modified_in_place_reads_from_base_as_torch() -> None:
    names = []
    for T in (torch, tg):
        x = T.ones(3, 4, requires_grad=True) * 1
        a, b, c = x[0], x.t(), x.view(12)
        for v in (a, b, c):
            v.mul_(2)
        names.append([type(v.grad_fn).__name__ for v in (a, b, c)])
    assert names[0] == names[1]
