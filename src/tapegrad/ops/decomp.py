"""``torch.linalg`` functions and their derivatives: inv, det, slogdet, solve, cholesky,
qr, svd, svdvals, eigh, eigvalsh, matrix_norm.

Each gradient is a matrix-calculus formula over ``ns`` (matmul, mT, linalg_inv, ...),
so a plain backward runs on arrays and ``create_graph=True`` differentiates it again.
Spectral rules (eigh, svd) divide by eigenvalue (singular value) gaps: they are exact for
distinct values and, as in torch, only losses that do not depend on the sign (phase) of
the vectors are well defined.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import return_types
from .define import Tensor, formula, needs_grad, wrap_dim
from .indexing import movedim
from .matrix import _diag_embed, _node_class, _square_check, record_formula
from .no_derivative import missing_derivative
from .reduction import sum as _sum
from .reductions_extra import amax, amin, vector_norm

_make = Tensor._make


def _mT(ns, x):
    return ns.mT(x)


def _mat(ns, g):
    """A batch of scalars -> a batch of 1x1 matrices (to scale matrices)."""
    return ns.unsqueeze(ns.unsqueeze(g, -1), -1)


# -- inv / det / slogdet / solve ---------------------------------------------------------


def _inv_rule(ns, grads, ins, outs, arg, needs):
    r_t = _mT(ns, outs[0])
    return (ns.neg(ns.matmul(ns.matmul(r_t, grads[0]), r_t)),)


LinalgInvExBackward0 = _node_class("LinalgInvExBackward0", _inv_rule)


def inv(A: Tensor) -> Tensor:
    """torch.linalg.inv(A)"""
    a = A._data
    _square_check(a, "linalg.inv")
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could "
                           "not be completed because the input matrix is singular.") from None
    return record_formula(LinalgInvExBackward0, (A,), (out,))


formula("linalg_inv", np.linalg.inv, inv)


def _det_rule(ns, grads, ins, outs, arg, needs):
    scale = _mat(ns, ns.mul(grads[0], outs[0]))
    return (ns.mul(scale, _mT(ns, ns.linalg_inv(ins[0]))),)


LinalgDetBackward0 = _node_class("LinalgDetBackward0", _det_rule)


def det(A: Tensor) -> Tensor:
    """torch.linalg.det(A)"""
    _square_check(A._data, "linalg.det")
    return record_formula(LinalgDetBackward0, (A,), (np.asarray(np.linalg.det(A._data)),))


def _slogdet_rule(ns, grads, ins, outs, arg, needs):
    return (ns.mul(_mat(ns, grads[1]), _mT(ns, ns.linalg_inv(ins[0]))),)


LinalgSlogdetBackward0 = _node_class("LinalgSlogdetBackward0", _slogdet_rule)


def slogdet(A: Tensor) -> tuple:
    """torch.linalg.slogdet(A) -> (sign, logabsdet)"""
    _square_check(A._data, "linalg.slogdet")
    sign, logdet = np.linalg.slogdet(A._data)
    outs = record_formula(LinalgSlogdetBackward0, (A,), (np.asarray(sign), np.asarray(logdet)))
    return return_types.linalg_slogdet(outs)


def _solve_rule(ns, grads, ins, outs, arg, needs):
    a, b = ins
    x = outs[0]
    g = grads[0]
    vector = arg
    gb = ns.linalg_solve(_mT(ns, a), g)
    ga = None
    if needs[0]:
        if vector:
            ga = ns.neg(ns.mul(ns.unsqueeze(gb, -1), ns.unsqueeze(x, -2)))
        else:
            ga = ns.neg(ns.matmul(gb, _mT(ns, x)))
        ga = ns.sum_to(ga, tuple(a.shape))
    return ga, ns.sum_to(gb, tuple(b.shape)) if needs[1] else None


LinalgSolveExBackward0 = _node_class("LinalgSolveExBackward0", _solve_rule)


def _solve_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if b.ndim == a.ndim - 1 and b.shape == a.shape[:-1] or b.ndim == 1:
        b = b[..., None]
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        return np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]),
                               np.broadcast_to(b, batch + b.shape[-2:]))[..., 0]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]),
                           np.broadcast_to(b, batch + b.shape[-2:]))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """torch.linalg.solve(A, B, *, left=True): X with A @ X = B."""
    a, b = A._data, B._data
    _square_check(a, "linalg.solve")
    if not left:
        raise NotImplementedError("linalg.solve(left=False) is not supported yet")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if (b.shape[-1] if vector else b.shape[-2]) != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{'x'.join(map(str, b.shape[-2:]))})")
    try:
        out = _solve_array(a, b)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.solve: The solver failed because the input matrix is "
                           "singular.") from None
    return record_formula(LinalgSolveExBackward0, (A, B), (out,), vector)


formula("linalg_solve", _solve_array, solve)

# -- cholesky / qr ---------------------------------------------------------------------------


def _cholesky_rule(ns, grads, ins, outs, arg, needs):
    low = outs[0]
    l_inv = ns.linalg_inv(low)
    p = ns.tril(ns.matmul(_mT(ns, low), grads[0]), 0)
    p = ns.mul(ns.add(p, _mT(ns, ns.tril(p, -1))), 0.5)
    return (ns.matmul(ns.matmul(_mT(ns, l_inv), p), l_inv),)


LinalgCholeskyExBackward0 = _node_class("LinalgCholeskyExBackward0", _cholesky_rule)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """torch.linalg.cholesky(A, *, upper=False)"""
    _square_check(A._data, "linalg.cholesky")
    try:
        low = np.linalg.cholesky(A._data)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because "
                           "the input is not positive-definite.") from None
    out = record_formula(LinalgCholeskyExBackward0, (A,), (low,))
    return out.mT if upper else out


def _copyltu(ns, m):
    return ns.add(ns.tril(m, 0), _mT(ns, ns.tril(m, -1)))


def _qr_rule(ns, grads, ins, outs, arg, needs):
    q, r = outs
    gq, gr = grads
    m = ns.sub(ns.matmul(r, _mT(ns, gr)), ns.matmul(_mT(ns, gq), q))
    b = ns.add(gq, ns.matmul(q, _copyltu(ns, m)))
    return (ns.matmul(b, _mT(ns, ns.linalg_inv(r))),)


LinalgQrBackward0 = _node_class("LinalgQrBackward0", _qr_rule)


def qr(A: Tensor, mode: str = "reduced") -> tuple:
    """torch.linalg.qr(A, mode='reduced'); the gradient needs rows >= columns."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = np.zeros(a.shape[:-2] + (0,), a.dtype)
    if needs_grad(A) and mode != "reduced" and not (mode == "complete" and a.shape[-2] <=
                                                    a.shape[-1]):
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr." if mode == "r" else
                           "The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if needs_grad(A) and a.shape[-2] < a.shape[-1]:
        raise missing_derivative("linalg_qr", " for wide matrices (rows < columns)")
    return return_types.linalg_qr(record_formula(LinalgQrBackward0, (A,), (q, r)))


# -- eigh / svd -------------------------------------------------------------------------------


def _gap_inverse(ns, values: Any, square: bool) -> Any:
    """F[i, j] = 1 / (v_j - v_i) (of squares for svd) off the diagonal, 0 on it; a
    function of the values, so that second derivatives see it change."""
    v = ns.mul(values, values) if square else values
    diff = ns.sub(ns.unsqueeze(v, -2), ns.unsqueeze(v, -1))
    eye = np.eye(v.shape[-1], dtype=ns.np_dtype(v))
    f = ns.reciprocal(ns.add(diff, ns.constant(eye)))
    return ns.mul(f, ns.constant(1 - eye))


def _eigh_rule(ns, grads, ins, outs, arg, needs):
    lam, v = outs
    gl, gv = grads
    f = _gap_inverse(ns, lam, False)
    inner = ns.mul(f, ns.matmul(_mT(ns, v), gv))
    inner = ns.add(inner, _diag_embed(ns, gl))
    ga = ns.matmul(ns.matmul(v, inner), _mT(ns, v))
    return (ns.mul(ns.add(ga, _mT(ns, ga)), 0.5),)


LinalgEighBackward0 = _node_class("LinalgEighBackward0", _eigh_rule)


def eigh(A: Tensor, UPLO: str = "L") -> tuple:
    """torch.linalg.eigh(A, UPLO='L')"""
    _square_check(A._data, "linalg.eigh")
    lam, v = np.linalg.eigh(A._data, UPLO=UPLO)
    return return_types.linalg_eigh(record_formula(LinalgEighBackward0, (A,), (lam, v)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """torch.linalg.eigvalsh(A, UPLO='L')"""
    return eigh(A, UPLO)[0]


def _svd_rule(ns, grads, ins, outs, arg, needs):
    u, s, vh = outs
    gu, gs, gvh = grads
    a = ins[0]
    v, gv = _mT(ns, vh), _mT(ns, gvh)
    f = _gap_inverse(ns, s, True)
    s_mat = _diag_embed(ns, s)
    s_inv = _diag_embed(ns, ns.reciprocal(s))
    ut_gu = ns.matmul(_mT(ns, u), gu)
    vt_gv = ns.matmul(_mT(ns, v), gv)
    j = ns.mul(f, ns.sub(ut_gu, _mT(ns, ut_gu)))
    k = ns.mul(f, ns.sub(vt_gv, _mT(ns, vt_gv)))
    core = ns.add(ns.add(ns.matmul(j, s_mat), ns.matmul(s_mat, k)), _diag_embed(ns, gs))
    ga = ns.matmul(ns.matmul(u, core), vh)
    m, n = a.shape[-2], a.shape[-1]
    if m > n:      # the part of gU outside U's column space
        proj = ns.sub(gu, ns.matmul(u, ut_gu))
        ga = ns.add(ga, ns.matmul(ns.matmul(proj, s_inv), vh))
    if n > m:
        proj = ns.sub(gv, ns.matmul(v, vt_gv))
        ga = ns.add(ga, ns.matmul(ns.matmul(u, s_inv), _mT(ns, proj)))
    return (ga,)


LinalgSvdBackward0 = _node_class("LinalgSvdBackward0", _svd_rule)


def svd(A: Tensor, full_matrices: bool = True) -> tuple:
    """torch.linalg.svd(A, full_matrices=True); the gradient needs full_matrices=False
    (or a square A)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    if needs_grad(A) and full_matrices and a.shape[-1] != a.shape[-2]:
        raise missing_derivative("linalg_svd", " with full_matrices=True on a non-square "
                                 "input (use full_matrices=False)")
    return return_types.linalg_svd(record_formula(LinalgSvdBackward0, (A,), (u, s, vh)))


def svdvals(A: Tensor) -> Tensor:
    """torch.linalg.svdvals(A)"""
    if not needs_grad(A):
        return _make(np.linalg.svd(A._data, compute_uv=False))
    return svd(A, full_matrices=False)[1]



# -- matrix_norm -------------------------------------------------------------------------------


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False,
                *, dtype: Any = None) -> Tensor:
    """torch.linalg.matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False)"""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if a.dtype.kind not in "fc":
        raise RuntimeError("linalg.matrix_norm: Expected a floating point or complex tensor as "
                           "input. Got Long" if a.dtype == np.int64 else
                           "linalg.matrix_norm: Expected a floating point tensor as input")
    d0, d1 = (wrap_dim(d, a.ndim) for d in dim)
    inf = builtins.float("inf")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in (1, -1, inf, -inf):
        # torch: the extremum over one dim of the 1-norms along the other
        along, over = (d0, d1) if ord in (1, -1) else (d1, d0)
        if not keepdim and along < over:
            over -= 1
        return (amax if ord > 0 else amin)(vector_norm(A, 1, along, keepdim), over, keepdim)
    if ord not in (2, -2, "nuc"):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # spectral norms: move the matrix dims last, reduce the singular values, put them back
    x = movedim(A, (d0, d1), (-2, -1))
    sv = svdvals(x)
    res = _sum(sv, -1, keepdim) if ord == "nuc" else (amax if ord == 2 else amin)(sv, -1,
                                                                                  keepdim)
    if keepdim:
        res = movedim(res.unsqueeze(-1), (-2, -1), (d0, d1))
    return res
