"""Matrix ops beyond matmul: products (addmm, baddbmm, vdot, outer, kron, tensordot,
einsum, cross), triangles and diagonals, and the ``torch.linalg`` functions with their
derivatives (inv, det, slogdet, solve, cholesky, qr, svd, svdvals, eigh, matrix_norm).

Each derivative is a formula over ``ns`` (matmul, mT, linalg_inv, ...), so it runs on
arrays for a plain backward and on Tensors for higher order. The rules follow the
standard matrix-calculus results (the same ones torch's derivatives.yaml uses).
"""

from __future__ import annotations

import builtins
import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.graph import SavedResult
from .define import (
    Node,
    Tensor,
    edge,
    formula,
    needs_grad,
    record,
    record_many,
    save_values,
    tensor_method,
    wrap_dim,
)
from .indexing import gather_flat, positions
from .linalg import bmm, matmul
from .shape import permute, reshape, unsafe_view

_make = Tensor._make


# ---------------------------------------------------------------------------------------
# A node whose backward is one formula over (grads, inputs, outputs)
# ---------------------------------------------------------------------------------------


class _FormulaNode(Node):
    """``rule(ns, grads, inputs, outputs, arg, needs) -> grads``; inputs/outputs saved."""

    __slots__ = ("arg", "n_in", "n_outputs")
    rule: Callable

    def backward(self, ns, grads):
        vals = self.unpack(ns.graph)
        needs = tuple(n is not None for n in self._edges[::2])
        outs = vals[self.n_in:]
        grads = [ns.zeros(tuple(o.shape), ns.np_dtype(o)) if g is None else g
                 for g, o in zip(grads, outs)]
        out = type(self).rule(ns, grads, vals[:self.n_in], outs, self.arg, needs)
        return tuple(g if n else None for g, n in zip(out, needs))


def _node_class(name: str, rule: Callable) -> type:
    return type(name, (_FormulaNode,), {"__slots__": (), "rule": staticmethod(rule)})


def record_formula(node_cls: type, inputs: Sequence[Any], outputs: Sequence[np.ndarray],
                   arg: Any = None) -> Any:
    """Outputs of an op whose gradient is ``node_cls.rule``; one Tensor or a tuple."""
    tensors = [t for t in inputs]
    if not needs_grad(*[t for t in tensors if isinstance(t, Tensor)]):
        res = [_make(o) for o in outputs]
        return res[0] if len(res) == 1 else tuple(res)
    node = node_cls(tuple(edge(t) for t in tensors))
    node.arg, node.n_in = arg, len(tensors)
    if len(outputs) == 1:
        outs = [record(node, outputs[0])]
        node.n_outputs = 1
    else:
        outs = record_many(node, list(outputs))
    save_values(node, tuple(tensors) + tuple(
        SavedResult(o._data, o._counter, i) for i, o in enumerate(outs)))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _eye_like(ns, x: Any) -> Any:
    n = x.shape[-1]
    return ns.constant(np.eye(n, dtype=ns.np_dtype(x)))


def _diag_embed(ns, v: Any) -> Any:
    return ns.mul(ns.unsqueeze(v, -1), _eye_like(ns, v))


def _diag_part(ns, x: Any) -> Any:
    return ns.sum(ns.mul(x, _eye_like(ns, x)), -1)


def _float_check(a: np.ndarray, fn: str) -> None:
    if a.dtype.kind not in "fc":
        from .. import dtypes as _dt
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. "
                           f"Got {_dt.from_numpy_dtype(a.dtype).scalar_name}")


def _square_check(a: np.ndarray, fn: str) -> None:
    if a.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    _float_check(a, fn)


# ---------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------


def _addmm_rule(ns, grads, ins, outs, arg, needs):
    g = grads[0]
    beta, alpha = arg
    inp, m1, m2 = ins
    gi = ns.sum_to(ns.mul(g, beta) if beta != 1 else g, tuple(inp.shape)) if needs[0] else None
    product = ns.bmm if len(g.shape) == 3 else ns.matmul      # baddbmm: torch's bmm
    g1 = product(g, ns.mT(m2)) if needs[1] else None
    g2 = product(ns.mT(m1), g) if needs[2] else None
    if alpha != 1:
        g1 = ns.mul(g1, alpha) if g1 is not None else None
        g2 = ns.mul(g2, alpha) if g2 is not None else None
    return gi, g1, g2


formula("bmm", np.matmul, bmm)
AddmmBackward0 = _node_class("AddmmBackward0", _addmm_rule)
BaddbmmBackward0 = _node_class("BaddbmmBackward0", _addmm_rule)


def _addmm_like(input: Tensor, a: Tensor, b: Tensor, beta: float, alpha: float,
                node_cls: type, product: Callable) -> Tensor:
    with no_grad():     # the product's own node would be thrown away: do not record it
        prod = product(a, b)._data
    try:
        out = (beta * input._data if beta != 1 else input._data) + (
            alpha * prod if alpha != 1 else prod)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the "
                           f"existing size ({input._data.shape[-1]}) at non-singleton "
                           f"dimension {prod.ndim - 1}.") from None
    if beta == 0:
        out = alpha * prod
    out = np.asarray(out, dtype=prod.dtype)
    return record_formula(node_cls, (input, a, b), (out,), (beta, alpha))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """torch.addmm(input, mat1, mat2, *, beta=1, alpha=1)"""
    from .linalg import mm
    return _addmm_like(input, mat1, mat2, beta, alpha, AddmmBackward0, mm)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """torch.baddbmm(input, batch1, batch2, *, beta=1, alpha=1)"""
    from .linalg import bmm
    return _addmm_like(input, batch1, batch2, beta, alpha, BaddbmmBackward0, bmm)


def _vdot_rule(ns, grads, ins, outs, arg, needs):
    g = grads[0]
    a, b = ins
    return (ns.mul(g, b) if needs[0] else None, ns.mul(g, a) if needs[1] else None)


VdotBackward0 = _node_class("VdotBackward0", _vdot_rule)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """torch.vdot(input, other): conjugating dot product of 1-D tensors."""
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype != b.dtype:
        from .. import dtypes as _dt
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found "
                           f"{_dt.from_numpy_dtype(a.dtype).scalar_name} and "
                           f"{_dt.from_numpy_dtype(b.dtype).scalar_name}")
    return record_formula(VdotBackward0, (input, other), (np.asarray(np.vdot(a, b)),))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """torch.outer(input, vec2)"""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D"
                           if input._data.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    return reshape(input, (-1, 1)) * vec2


ger = outer


def kron(input: Tensor, other: Tensor) -> Tensor:
    """torch.kron(input, other)"""
    a, b = input._data, other._data
    nd = max(a.ndim, b.ndim)
    ash = (1,) * (nd - a.ndim) + a.shape
    bsh = (1,) * (nd - b.ndim) + b.shape
    ia = reshape(input, tuple(x for s in ash for x in (s, 1)))
    ib = reshape(other, tuple(x for s in bsh for x in (1, s)))
    return unsafe_view(ia * ib, tuple(x * y for x, y in zip(ash, bsh)))


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """torch.tensordot(a, b, dims=2)"""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (builtins.int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, (builtins.int, np.integer)) else list(da)
        db = [db] if isinstance(db, (builtins.int, np.integer)) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, na) for d in da]
    db = [wrap_dim(d, nb) for d in db]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {x} and second has size "
                               f"{b._data.shape[y]} in dim {y}")
    free_a = [i for i in range(na) if i not in da]
    free_b = [i for i in range(nb) if i not in db]
    k = int(np.prod([a._data.shape[d] for d in da]))
    sa = [a._data.shape[i] for i in free_a]
    sb = [b._data.shape[i] for i in free_b]
    pa = reshape(permute(a, tuple(free_a + da)), (int(np.prod(sa)), k))
    pb = reshape(permute(b, tuple(db + free_b)), (k, int(np.prod(sb))))
    return reshape(matmul(pa, pb), tuple(sa + sb))


# -- einsum ---------------------------------------------------------------------------------


def _parse_einsum(equation: str, shapes: list) -> tuple[list[str], str]:
    """Explicit subscripts (ellipsis replaced by letters) and the output's subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(shapes) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for t, shp in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(shp) - len(t.replace("...", "")))
    ell = "".join(spare[:n_ell])
    out_terms = []
    for t, shp in zip(terms, shapes):
        if "..." in t:
            k = len(shp) - len(t.replace("...", ""))
            t = t.replace("...", ell[n_ell - k:])
        if len(t) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(t)}) does not match the number of dimensions "
                               f"({len(shp)}) for operand {len(out_terms)} and no ellipsis was "
                               f"given")
        out_terms.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_terms, out


def _einsum_rule(ns, grads, ins, outs, arg, needs):
    terms, out_sub = arg
    g = grads[0]
    result = []
    for k, (t, x) in enumerate(zip(terms, ins)):
        if not needs[k]:
            result.append(None)
            continue
        unique = "".join(dict.fromkeys(t))
        ops, subs = [g], [out_sub]
        for j, (tj, xj) in enumerate(zip(terms, ins)):
            if j != k:
                ops.append(xj)
                subs.append(tj)
        present = set("".join(subs))
        for c in unique:
            if c not in present:          # summed only within operand k: broadcast back
                ops.append(ns.constant(np.ones(x.shape[t.index(c)], ns.np_dtype(g))))
                subs.append(c)
        gk = ns.einsum(",".join(subs) + "->" + unique, *ops)
        if unique != t:                   # repeated subscripts: put it on the diagonal
            diag_pos = np.einsum(t + "->" + unique, positions(tuple(x.shape)))
            numel = int(np.prod(x.shape, dtype=np.int64))
            gk = ns.reshape(ns.index_backward(gk, (numel,), diag_pos, False), tuple(x.shape))
        result.append(gk)
    return tuple(result)


# One rule; the node is named after the last op of torch's einsum: a permute (one operand)
# or a mul (several), then a sum (one operand) or a view (several) if any label is summed.
_EINSUM_NODES = {name: _node_class(name, _einsum_rule) for name in (
    "PermuteBackward0", "MulBackward0", "SumBackward1", "ViewBackward0")}


def _einsum_node(terms: list, out_sub: str) -> type:
    summed = bool(set("".join(terms)) - set(out_sub))
    if len(terms) == 1:
        return _EINSUM_NODES["SumBackward1" if summed else "PermuteBackward0"]
    return _EINSUM_NODES["ViewBackward0" if summed else "MulBackward0"]


def _einsum_view(x: Tensor, term: str, out_sub: str) -> Tensor:
    """One operand, nothing summed: diagonals of repeated labels, then a permute, as in torch
    (so the result is a view of the operand)."""
    labels = list(term)
    for c in dict.fromkeys(term):
        while labels.count(c) > 1:
            i = labels.index(c)
            j = labels.index(c, i + 1)
            x = x.diagonal(0, i, j)
            labels = [lab for k, lab in enumerate(labels) if k not in (i, j)] + [c]
    x = x.permute([labels.index(c) for c in out_sub])
    # torch permutes the operand into output order, then the result (the identity here)
    return x.permute(list(range(len(out_sub)))) if len(labels) < len(term) else x


def einsum(equation: str, *operands: Any) -> Tensor:
    """torch.einsum(equation, *operands)"""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    shapes = [o._data.shape for o in operands]
    terms, out_sub = _parse_einsum(equation, shapes)
    arrays = [o._data for o in operands]
    from .. import dtypes as _dt
    dt = _dt.result_np_dtype(tuple(arrays))
    arrays = [a.astype(dt, copy=False) for a in arrays]
    for t, a in zip(terms, arrays):
        sizes = {}
        for c, s in zip(t, a.shape):
            if sizes.setdefault(c, s) != s:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the "
                                   f"sizes don't match, {sizes[c]} != {s}")
    if len(operands) == 1 and set(terms[0]) == set(out_sub):
        return _einsum_view(operands[0], terms[0], out_sub)
    eq = ",".join(terms) + "->" + out_sub
    try:
        out = np.asarray(np.einsum(eq, *arrays, optimize=len(arrays) > 2))
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e}") from None
    return record_formula(_einsum_node(terms, out_sub), operands, (out,), (terms, out_sub))


def _einsum_array(eq: str, *arrays: np.ndarray) -> np.ndarray:
    return np.asarray(np.einsum(eq, *arrays, optimize=len(arrays) > 2))


formula("einsum", _einsum_array, einsum)


# -- cross ------------------------------------------------------------------------------------


def _cross_rule(ns, grads, ins, outs, arg, needs):
    g = grads[0]
    a, b = ins
    ga = ns.sum_to(ns.linalg_cross(b, g, arg), tuple(a.shape)) if needs[0] else None
    gb = ns.sum_to(ns.linalg_cross(g, a, arg), tuple(b.shape)) if needs[1] else None
    return ga, gb


LinalgCrossBackward0 = _node_class("LinalgCrossBackward0", _cross_rule)


def linalg_cross(input: Tensor, other: Tensor, dim: int = -1) -> Tensor:
    """torch.linalg.cross(input, other, *, dim=-1)"""
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    out = np.cross(a, b, axisa=d, axisb=d, axisc=d)
    return record_formula(LinalgCrossBackward0, (input, other), (out,), d)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """torch.cross(input, other, dim=None): dim None means the first dim of size 3."""
    if dim is None:
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim)


formula("linalg_cross", lambda a, b, d: np.cross(a, b, axisa=d, axisb=d, axisc=d),
        linalg_cross)


# -- triangles and diagonals --------------------------------------------------------------


def _tri_rule(ns, grads, ins, outs, arg, needs):
    fn, k = arg
    return (getattr(ns, fn)(grads[0], k),)


TrilBackward0 = _node_class("TrilBackward0", _tri_rule)
TriuBackward0 = _node_class("TriuBackward0", _tri_rule)


def _tri(input: Tensor, diagonal: int, fn: str, node_cls: type) -> Tensor:
    a = input._data
    if a.ndim < 2:
        raise RuntimeError(f"{fn}: input tensor must have at least 2 dimensions")
    out = getattr(np, fn)(a, diagonal)
    return record_formula(node_cls, (input,), (out,), (fn, diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.tril(input, diagonal=0)"""
    return _tri(input, diagonal, "tril", TrilBackward0)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.triu(input, diagonal=0)"""
    return _tri(input, diagonal, "triu", TriuBackward0)


formula("tril", np.tril, tril)
formula("triu", np.triu, triu)


class DiagEmbedBackward0(Node):
    __slots__ = ("index",)

    def backward(self, ns, grads):
        return (ns.getitem(grads[0], self.index),)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.diag(input, diagonal=0): a 1-D input -> a matrix; a matrix -> its diagonal."""
    a = input._data
    if a.ndim == 2:
        return gather_flat(input, np.diagonal(positions(a.shape), diagonal),
                           "DiagonalBackward0_copy")
    if a.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{a.ndim}D")
    out = np.diag(a, diagonal)
    if not needs_grad(input):
        return _make(out)
    n = a.shape[0]
    rows = np.arange(n) + max(-diagonal, 0)
    cols = np.arange(n) + max(diagonal, 0)
    node = DiagEmbedBackward0((edge(input),))
    node.index = (rows, cols)
    return record(node, out)


for _fn in (addmm, baddbmm, vdot, outer, ger, kron, tril, triu, diag, cross):
    tensor_method(_fn.__name__)(_fn)
tensor_method("tensordot")(tensordot)

