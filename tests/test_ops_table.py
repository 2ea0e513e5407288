"""Linear-algebra, shape and indexing ops, checked against torch from one table.

Each spec is one call written once against a library ``T`` (torch or tapegrad: the API
is the same) and sample inputs. From the table we generate: forward (values, dtype,
shape, grad_fn name), first and second derivatives compared with torch, and a float64
finite-difference check of the first derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from torch_compare import assert_same_tensor, central_differences, to_numpy

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def well_conditioned(n: int, batch: tuple = ()) -> np.ndarray:
    return rand(*batch, n, n) * 0.3 + 2 * np.eye(n)


def spd(n: int) -> np.ndarray:
    m = rand(n, n)
    return m @ m.T + n * np.eye(n)


def sym_distinct(n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rand(n, n))
    return q @ np.diag(np.arange(1.0, n + 1) * 1.5) @ q.T


def distinct_sv(m: int, n: int) -> np.ndarray:
    u, _ = np.linalg.qr(rand(m, m))
    v, _ = np.linalg.qr(rand(n, n))
    s = np.zeros((m, n))
    k = min(m, n)
    s[np.arange(k), np.arange(k)] = np.arange(1.0, k + 1) + 0.5
    return u @ s @ v.T


def pad(T: Any) -> Callable:
    return T.nn.functional.pad if T is torch else T._pad


def idx(T: Any, value: Any) -> Any:
    return T.tensor(value)


@dataclass
class Spec:
    name: str
    call: Callable
    inputs: list
    node: bool = True           # compare grad_fn names with torch
    second: bool = True         # compare second derivatives
    positive: bool = False      # inputs shifted positive (prod)
    extra: dict = field(default_factory=dict)


S = Spec
SPECS = [
    # -- linear algebra --------------------------------------------------------------------
    S("matmul_vv", lambda T, a, b: T.matmul(a, b), [rand(3), rand(3)]),
    S("matmul_mv", lambda T, a, b: T.matmul(a, b), [rand(2, 3), rand(3)]),
    S("matmul_vm", lambda T, a, b: T.matmul(a, b), [rand(3), rand(3, 4)]),
    S("matmul_mm", lambda T, a, b: T.matmul(a, b), [rand(2, 3), rand(3, 4)]),
    S("matmul_bmm", lambda T, a, b: T.matmul(a, b), [rand(2, 2, 3), rand(2, 3, 4)]),
    S("matmul_bcast", lambda T, a, b: T.matmul(a, b), [rand(2, 1, 2, 3), rand(3, 3, 2)]),
    S("matmul_b_m", lambda T, a, b: T.matmul(a, b), [rand(2, 2, 3), rand(3, 4)]),
    S("matmul_v_b", lambda T, a, b: T.matmul(a, b), [rand(3), rand(2, 3, 4)]),
    S("matmul_b_v", lambda T, a, b: T.matmul(a, b), [rand(2, 4, 3), rand(3)]),
    S("matmul_empty", lambda T, a, b: T.matmul(a, b), [rand(2, 0), rand(0, 3)]),
    S("mm", lambda T, a, b: a.mm(b), [rand(2, 3), rand(3, 2)]),
    S("bmm", lambda T, a, b: T.bmm(a, b), [rand(2, 2, 3), rand(2, 3, 2)]),
    S("mv", lambda T, a, b: T.mv(a, b), [rand(2, 3), rand(3)]),
    S("dot", lambda T, a, b: a.dot(b), [rand(4), rand(4)]),
    S("vdot", lambda T, a, b: T.vdot(a, b), [rand(4), rand(4)]),
    S("outer", lambda T, a, b: T.outer(a, b), [rand(3), rand(2)]),
    S("einsum_mm", lambda T, a, b: T.einsum("ij,jk->ik", a, b), [rand(2, 3), rand(3, 4)]),
    S("einsum_trace", lambda T, a: T.einsum("ii", a), [rand(3, 3)]),
    S("einsum_diag", lambda T, a: T.einsum("ii->i", a), [rand(3, 3)]),
    S("einsum_sum", lambda T, a: T.einsum("ij->i", a), [rand(3, 4)]),
    S("einsum_ellipsis", lambda T, a, b: T.einsum("...ij,...jk->...ik", a, b),
      [rand(2, 2, 3), rand(2, 3, 2)]),
    S("einsum_three", lambda T, a, b, c: T.einsum("i,ij,j->", a, b, c),
      [rand(3), rand(3, 4), rand(4)]),
    S("einsum_implicit", lambda T, a, b: T.einsum("ij,jk", a, b), [rand(2, 3), rand(3, 2)]),
    S("tensordot", lambda T, a, b: T.tensordot(a, b, dims=([1], [0])),
      [rand(2, 3), rand(3, 4)]),
    S("tensordot_int", lambda T, a, b: T.tensordot(a, b, 2), [rand(2, 3, 4), rand(3, 4, 2)]),
    S("addmm", lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2.0),
      [rand(3), rand(2, 4), rand(4, 3)]),
    S("baddbmm", lambda T, c, a, b: T.baddbmm(c, a, b), [rand(2, 2, 3), rand(2, 2, 4),
                                                         rand(2, 4, 3)]),
    S("trace", lambda T, a: T.trace(a), [rand(3, 4)]),
    S("diag_vec", lambda T, a: T.diag(a, 1), [rand(3)]),
    S("diag_mat", lambda T, a: T.diag(a, -1), [rand(3, 4)]),
    S("diagonal", lambda T, a: T.diagonal(a, 1, 1, 2), [rand(2, 3, 4)]),
    S("tril", lambda T, a: a.tril(-1), [rand(2, 3, 4)]),
    S("triu", lambda T, a: T.triu(a, 1), [rand(3, 4)]),
    S("cross", lambda T, a, b: T.linalg.cross(a, b), [rand(2, 3), rand(1, 3)]),
    S("cross_dim", lambda T, a, b: T.cross(a, b, dim=0), [rand(3, 2), rand(3, 2)]),
    S("kron", lambda T, a, b: T.kron(a, b), [rand(2, 3), rand(2, 2)]),
    S("inv", lambda T, a: T.linalg.inv(a), [well_conditioned(3)]),
    S("inv_batch", lambda T, a: T.linalg.inv(a), [well_conditioned(2, (2,))]),
    S("det", lambda T, a: T.linalg.det(a), [well_conditioned(3)]),
    S("det_batch", lambda T, a: T.linalg.det(a), [well_conditioned(3, (2,))]),
    S("slogdet", lambda T, a: T.linalg.slogdet(a)[1], [well_conditioned(3)]),
    S("solve", lambda T, a, b: T.linalg.solve(a, b), [well_conditioned(3), rand(3, 2)]),
    S("solve_vec", lambda T, a, b: T.linalg.solve(a, b), [well_conditioned(3), rand(3)]),
    S("solve_batch", lambda T, a, b: T.linalg.solve(a, b),
      [well_conditioned(3, (2,)), rand(3, 2)]),
    S("cholesky", lambda T, a: T.linalg.cholesky((a + a.mT) / 2), [spd(3)]),
    S("qr", lambda T, a: T.linalg.qr(a), [rand(4, 3)]),
    S("qr_square", lambda T, a: T.linalg.qr(a), [well_conditioned(3)]),
    S("eigh", lambda T, a: (lambda r: (r[0], r[1] * r[1]))(T.linalg.eigh((a + a.mT) / 2)),
      [sym_distinct(3)]),
    S("eigvalsh", lambda T, a: T.linalg.eigvalsh((a + a.mT) / 2), [sym_distinct(4)]),
    S("svd_tall", lambda T, a: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(
        T.linalg.svd(a, full_matrices=False)), [distinct_sv(4, 3)]),
    S("svd_wide", lambda T, a: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(
        T.linalg.svd(a, full_matrices=False)), [distinct_sv(2, 4)]),
    S("svd_uv", lambda T, a: (lambda r: r[0] @ r[2])(T.linalg.svd(a, full_matrices=False)),
      [distinct_sv(4, 3)]),
    S("svdvals", lambda T, a: T.linalg.svdvals(a), [distinct_sv(3, 4)]),
    S("norm_fro", lambda T, a: T.linalg.matrix_norm(a), [rand(2, 3, 4)]),
    S("norm_nuc", lambda T, a: T.linalg.matrix_norm(a, "nuc"), [distinct_sv(3, 4)]),
    S("norm_2", lambda T, a: T.linalg.matrix_norm(a, 2), [distinct_sv(3, 4)]),
    S("norm_m2", lambda T, a: T.linalg.matrix_norm(a, -2), [distinct_sv(3, 4)]),
    S("norm_1", lambda T, a: T.linalg.matrix_norm(a, 1), [rand(3, 4)]),
    S("norm_m1", lambda T, a: T.linalg.matrix_norm(a, -1), [rand(3, 4)]),
    S("norm_inf", lambda T, a: T.linalg.matrix_norm(a, float("inf")), [rand(3, 4)]),
    S("norm_minf", lambda T, a: T.linalg.matrix_norm(a, -float("inf"), keepdim=True),
      [rand(2, 3, 4)]),
    # -- shape -------------------------------------------------------------------------------
    S("unflatten", lambda T, a: a.unflatten(1, (2, -1)), [rand(3, 4)]),
    S("movedim", lambda T, a: T.movedim(a, (0, 1), (2, 0)), [rand(2, 3, 4)]),
    S("moveaxis", lambda T, a: a.moveaxis(0, -1), [rand(2, 3)]),
    S("repeat", lambda T, a: a.repeat(2, 1, 3), [rand(2, 3)]),
    S("repeat_0d", lambda T, a: a.repeat(3), [rand()]),
    S("tile", lambda T, a: T.tile(a, (2,)), [rand(2, 3)]),
    S("repeat_interleave", lambda T, a: a.repeat_interleave(2, dim=1), [rand(2, 3)]),
    S("flip", lambda T, a: T.flip(a, (0, 2)), [rand(2, 3, 2)]),
    S("flip_empty", lambda T, a: a.flip(0), [rand(0, 3)]),
    S("roll", lambda T, a: T.roll(a, (1, -1), (0, 1)), [rand(3, 4)]),
    S("roll_flat", lambda T, a: a.roll(2), [rand(3, 4)]),
    S("hstack", lambda T, a, b: T.hstack([a, b]), [rand(2, 3), rand(2, 1)]),
    S("vstack", lambda T, a, b: T.vstack([a, b]), [rand(3), rand(3)]),
    S("split_int", lambda T, a: a.split(2)[1], [rand(5, 2)]),
    S("split_sizes", lambda T, a: T.split(a, [1, 3], 1)[1], [rand(2, 4)]),
    S("split_all", lambda T, a: T.split(a, 2, 1), [rand(2, 5)]),
    S("chunk", lambda T, a: a.chunk(3, 0)[2], [rand(5, 2)]),
    S("narrow", lambda T, a: a.narrow(1, 1, 2), [rand(2, 4)]),
    S("select", lambda T, a: T.select(a, 1, -1), [rand(2, 4)]),
    # -- indexing ------------------------------------------------------------------------------
    S("gather", lambda T, a: a.gather(1, idx(T, [[0, 0], [2, 1]])), [rand(3, 3)]),
    S("scatter", lambda T, a, s: a.scatter(1, idx(T, [[0, 1, 2], [2, 0, 1]]), s),
      [rand(2, 3), rand(2, 3)]),
    S("scatter_value", lambda T, a: T.scatter(a, 0, idx(T, [[1, 0]]), value=2.0),
      [rand(2, 3)]),
    S("scatter_add", lambda T, a, s: a.scatter_add(0, idx(T, [[0, 1, 0], [0, 0, 1]]), s),
      [rand(2, 3), rand(2, 3)]),
    S("scatter_reduce_sum", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "sum"), [rand(3), rand(4)]),
    S("scatter_reduce_mean", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "mean", include_self=False), [rand(3), rand(4)],
      ),
    S("scatter_reduce_mean_self", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "mean"), [rand(3), rand(4)]),
    S("scatter_reduce_amax", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "amax"), [rand(3), rand(4)]),
    S("scatter_reduce_amin", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "amin", include_self=False), [rand(3), rand(4)],
      ),
    S("scatter_reduce_prod", lambda T, a, s: a.scatter_reduce(
        0, idx(T, [0, 1, 0, 0]), s, "prod"), [rand(3), rand(4)]),
    S("index_select", lambda T, a: T.index_select(a, 0, idx(T, [2, 0, 2])), [rand(3, 2)]),
    S("index_add", lambda T, a, s: a.index_add(1, idx(T, [0, 0]), s, alpha=2.0),
      [rand(2, 3), rand(2, 2)]),
    S("take", lambda T, a: T.take(a, idx(T, [[0, 5], [5, -1]])), [rand(2, 3)]),
    S("take_along_dim", lambda T, a: T.take_along_dim(a, idx(T, [[0], [2]]), 1),
      [rand(2, 3)]),
    S("take_along_none", lambda T, a: T.take_along_dim(a, idx(T, [0, 4])), [rand(2, 3)]),
    S("masked_fill", lambda T, a: a.masked_fill(idx(T, [True, False, True]), 0.5),
      [rand(2, 3)]),
    S("masked_fill_tensor", lambda T, a, v: T.masked_fill(a, idx(T, [[True], [False]]), v),
      [rand(2, 3), rand()]),
    S("masked_select", lambda T, a: a.masked_select(idx(T, [True, False, True])),
      [rand(2, 3)]),
    S("pad_constant", lambda T, a: pad(T)(a, (1, 2, 0, 1), value=0.5), [rand(2, 3)]),
    S("pad_reflect", lambda T, a: pad(T)(a, (2, 1), mode="reflect"), [rand(2, 4)]),
    S("pad_reflect2d", lambda T, a: pad(T)(a, (1, 1, 2, 0), mode="reflect"),
      [rand(1, 3, 4)]),
    S("pad_replicate", lambda T, a: pad(T)(a, (2, 1), mode="replicate"), [rand(1, 2, 3)]),
    S("pad_circular", lambda T, a: pad(T)(a, (1, 2), mode="circular"), [rand(1, 2, 3)]),
    S("meshgrid_ij", lambda T, a, b: T.meshgrid(a, b, indexing="ij"), [rand(2), rand(3)]),
    S("meshgrid_xy", lambda T, a, b: T.meshgrid(a, b, indexing="xy"), [rand(2), rand(3)]),
    S("getitem_mix", lambda T, a: a[1:, None, ..., idx(T, [0, 0, 2])], [rand(3, 2, 3)]),
    S("getitem_mask", lambda T, a: a[idx(T, [True, False, True])], [rand(3, 2)]),
    S("getitem_step", lambda T, a: a[::2, 1], [rand(5, 2)]),
]


def _run(T: Any, spec: Spec, arrays: list, dtype: Any) -> tuple:
    xs = [T.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = spec.call(T, *xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return xs, outs


def _weights(outs: list) -> list:
    rng = np.random.default_rng(1)
    return [rng.standard_normal(tuple(o.shape)) for o in outs]


def _loss(T: Any, outs: list, weights: list, dtype: Any) -> Any:
    total = None
    for o, w in zip(outs, weights):
        if not o.requires_grad:
            continue
        term = (o * T.tensor(w, dtype=dtype)).sum()
        total = term if total is None else total + term
    return total


def _grads(T: Any, spec: Spec, dtype: Any, create_graph: bool = False) -> tuple:
    xs, outs = _run(T, spec, spec.inputs, dtype)
    loss = _loss(T, outs, _weights(outs), dtype)
    gs = T.autograd.grad(loss, xs, create_graph=create_graph, allow_unused=True)
    return xs, outs, gs


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_forward_matches_torch(spec: Spec) -> None:
    _, t_outs = _run(torch, spec, spec.inputs, torch.float32)
    _, g_outs = _run(tg, spec, spec.inputs, tg.float32)
    assert len(t_outs) == len(g_outs)
    for t, g in zip(t_outs, g_outs):
        assert_same_tensor(g, t, rtol=1e-4, atol=1e-5)
        if spec.node:
            assert type(g.grad_fn).__name__ == type(t.grad_fn).__name__


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_gradient_matches_torch(spec: Spec) -> None:
    _, _, t_gs = _grads(torch, spec, torch.float64)
    _, _, g_gs = _grads(tg, spec, tg.float64)
    for t, g in zip(t_gs, g_gs):
        if t is None:
            assert g is None or not np.any(to_numpy(g))
            continue
        np.testing.assert_allclose(to_numpy(g), to_numpy(t), rtol=1e-7, atol=1e-9)


SECOND = [s for s in SPECS if s.second]


@pytest.mark.parametrize("spec", SECOND, ids=[s.name for s in SECOND])
def test_second_derivative_matches_torch(spec: Spec) -> None:
    results = []
    for T, dt in ((torch, torch.float64), (tg, tg.float64)):
        xs, _, gs = _grads(T, spec, dt, create_graph=True)
        rng = np.random.default_rng(2)
        total = None
        for g in gs:
            if g is None or not g.requires_grad:
                continue
            term = (g * g * T.tensor(rng.standard_normal(tuple(g.shape)), dtype=dt)).sum()
            total = term if total is None else total + term
        if total is None:
            results.append(None)
            continue
        results.append(T.autograd.grad(total, xs, allow_unused=True))
    t_hh, g_hh = results
    if t_hh is None or g_hh is None:        # a linear op: no second derivative
        for hh in (t_hh, g_hh):
            assert hh is None or all(h is None or not np.any(to_numpy(h)) for h in hh)
        return
    for t, g in zip(t_hh, g_hh):
        if t is None:
            assert g is None or not np.any(to_numpy(g))
            continue
        np.testing.assert_allclose(to_numpy(g), to_numpy(t), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_gradient_matches_finite_differences(spec: Spec) -> None:
    xs, outs, gs = _grads(tg, spec, tg.float64)
    weights = _weights(outs)

    def loss_at(arrays: list) -> float:
        _, o = _run(tg, spec, arrays, tg.float64)
        return float(sum((to_numpy(a) * w).sum() for a, w in zip(o, weights) if a.requires_grad))

    numeric = central_differences(loss_at, spec.inputs)
    for x, g, n in zip(spec.inputs, gs, numeric):
        got = np.zeros(x.shape) if g is None else to_numpy(g)
        np.testing.assert_allclose(got, n, rtol=1e-5, atol=1e-6)
