"""Matrix products: matmul and its named cases (dot, mv, mm, bmm)."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import state as _fw
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import DETACHED_IN_PLACE
from .define import (
    Node,
    Tensor,
    broadcast_error,
    edge,
    formula,
    needs_grad,
    record,
    save_values,
    tensor_method,
)

_make = Tensor._make


class _MatmulNode(Node):
    """a @ b with NumPy's (and torch's) rules for 1-D operands and batch broadcasting.

    For 1-D and 2-D operands the gradients are the formulas torch records for mm, mv and
    dot (so a backward under create_graph builds torch's graph: ``MvBackward0`` of
    ``TBackward0`` ...), with no reshaping beyond torch's own."""

    __slots__ = ()
    saved_names = ("self", "other")

    def backward(self, ns, grads):
        g = grads[0]
        saved = self._saved
        if _unchanged(saved, self._versions):
            a, b = saved
            an, bn = a._data.ndim, b._data.ndim
            if not ns.graph:
                a, b = a._data, b._data
        else:
            a, b = self.unpack(ns.graph)
            an, bn = len(a.shape), len(b.shape)
        node_a, _, node_b, _ = self._edges
        need_a = node_a is not None
        need_b = node_b is not None
        ga = gb = None
        if an == 2 and bn == 2:                      # mm
            if need_a:
                ga = ns.matmul_like(g, ns.t(b), a)
            if need_b:
                gb = ns.matmul_like(ns.t(a), g, b)
        elif an == 2 and bn == 1:                    # mv: torch's grad.ger(vec), mat.t().mv(grad)
            if need_a:
                ga = ns.mul(ns.reshape(g, (a.shape[0], 1)), b)
            if need_b:
                gb = ns.matmul(ns.t(a), g)
        elif an == 1 and bn == 1:                    # dot: g is a scalar
            ga = ns.mul(g, b) if need_a else None
            gb = ns.mul(g, a) if need_b else None
        elif an == 1 and bn == 2:                    # torch: a.unsqueeze(0).mm(b).squeeze(0)
            g2 = ns.unsqueeze(g, 0)
            if need_a:
                ga = ns.squeeze(ns.matmul(g2, ns.t(b)), 0)
            if need_b:
                gb = ns.matmul(ns.t(ns.unsqueeze(a, 0)), g2)
        elif an == 1:                                # (k) @ (..., k, n) -> (..., n)
            g2 = ns.unsqueeze(g, -2)                 # (..., 1, n)
            if need_a:
                ga = ns.sum_to(ns.squeeze(ns.matmul(g2, ns.mT(b)), -2), tuple(a.shape))
            if need_b:
                gb = (ns.matmul(ns.t(ns.unsqueeze(a, 0)), ns.unsqueeze(g, 0)) if bn == 2
                      # torch's mm of the column a^T and the row g (its graph under
                      # create_graph); batched: the outer products, summed
                      else ns.sum_to(ns.mul(ns.unsqueeze(a, -1), g2), tuple(b.shape)))
        elif bn == 1:                                # (..., m, k) @ (k) -> (..., m)
            g2 = ns.unsqueeze(g, -1)                 # (..., m, 1)
            if need_a:
                ga = ns.sum_to(ns.mul(g2, b), tuple(a.shape))
            if need_b:
                gb = (ns.matmul(ns.t(a), g) if an == 2      # torch's mv backward: a^T g
                      else ns.sum_to(ns.squeeze(ns.matmul(ns.mT(a), g2), -1), tuple(b.shape)))
        else:
            tr = ns.t if an == 2 and bn == 2 else ns.mT      # torch's mm backward uses t()
            if need_a:
                ga = ns.sum_to(ns.matmul_like(g, tr(b), a), tuple(a.shape))
            if need_b:
                gb = ns.sum_to(ns.matmul_like(tr(a), g, b), tuple(b.shape))
        return (ga, gb)


def _unchanged(saved: tuple | None, versions: tuple) -> bool:
    """Whether a matmul node's two saved inputs can be used as they are: plain Tensors
    (not packed by saved-tensor hooks, not freed) at the versions saved, neither detached
    in place (``unpack`` checks the same, and raises torch's errors where not)."""
    if saved is None or len(saved) != 2:
        return False
    a, b = saved
    if a.__class__ is not Tensor or b.__class__ is not Tensor:
        return False
    va, vb = a._vc, b._vc
    return ((0 if va is None else va.value) == versions[0]
            and (0 if vb is None else vb.value) == versions[1]
            and a._grad_acc is not DETACHED_IN_PLACE and b._grad_acc is not DETACHED_IN_PLACE)


def _matmul_like_array(x: np.ndarray, y: np.ndarray, like: np.ndarray) -> np.ndarray:
    """x @ y laid out in memory as ``like`` is: for a transposed matrix (``w.T``) compute
    (y.T @ x.T).T, so that the gradient reaching ``w`` is C-contiguous, as torch's mm
    backward does; no copy is then needed when it becomes ``w.grad``."""
    if like.ndim == 2 and x.ndim == 2 and y.ndim == 2 and like.flags.f_contiguous and (
            not like.flags.c_contiguous):
        return np.matmul(y.T, x.T).T
    return np.matmul(x, y)


_NODES = {name: type(name, (_MatmulNode,), {"__slots__": ()})
          for name in ("DotBackward0", "MvBackward0", "MmBackward0", "BmmBackward0",
                       "UnsafeViewBackward0", "SqueezeBackward4", "CloneBackward0")}


def _node_name(an: int, bn: int) -> str:
    if an == 1 and bn == 1:
        return "DotBackward0"
    if an == 2 and bn == 1:
        return "MvBackward0"
    if an == 2 and bn == 2:
        return "MmBackward0"
    if an == 1 and bn == 2:
        return "SqueezeBackward4"
    if an == 2:                                  # torch transposes, batches, and copies
        return "CloneBackward0"
    return "UnsafeViewBackward0"


def _check(a: np.ndarray, b: np.ndarray, fn: str) -> None:
    if (a.dtype == b.dtype and 0 < a.ndim <= 2 and 0 < b.ndim <= 2
            and a.shape[-1] == b.shape[0]):
        return                  # the usual vector / matrix operands: nothing to refuse
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to {fn} need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_dt.cpp_type_name(a.dtype)} != {_dt.cpp_type_name(b.dtype)}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if b.ndim >= 3:
        # torch broadcasts the batch dims, then multiplies the batches with bmm
        batch_a = a.shape[:-2] if a.ndim >= 2 else ()
        try:
            batch = np.broadcast_shapes(batch_a, b.shape[:-2])
        except ValueError:
            raise broadcast_error(batch_a, b.shape[:-2]) from None
        if k_a != k_b:
            _bmm_error(int(np.prod(batch)), k_a, int(np.prod(batch)), k_b)
        return
    if a.ndim >= 3:             # torch folds a's batch into its rows
        a = a.reshape(-1, k_a)
    if k_a != k_b:
        if a.ndim == 1 and b.ndim == 1:
            n, m = a.shape[0], b.shape[0]
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] "
                               "to have the same number of elements, but got "
                               f"{n} and {m} elements respectively")
        if a.ndim == 2 and b.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x"
                               f"{a.shape[1]}), vec ({b.shape[0]})")
        ash = "x".join(map(str, a.shape if a.ndim > 1 else (1,) + a.shape))
        bsh = "x".join(map(str, b.shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ash} and {bsh})")


def _bmm_error(batch_a: int, k_a: int, batch_b: int, k_b: int) -> None:
    raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{batch_a}, {k_a}] but got: [{batch_b}, {k_b}].")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """torch.matmul(input, other)"""
    return _matmul(input, other, None)


def _matmul(input: Tensor, other: Tensor, node_name: str | None) -> Tensor:
    """matmul, its node named as the calling function's (bmm) or as matmul's."""
    a, b = input._data, other._data
    _check(a, b, "matmul")
    out = np.matmul(a, b)               # a NumPy scalar for two vectors: _make wraps it
    if _fw.active:              # a dual input's edge is its tangent's
        if not needs_grad(input, other):
            return _make(out)
        edges = (edge(input), edge(other))
    elif _grad_state.grad_enabled and (input._requires_grad or other._requires_grad):
        edges = (input._edge(), other._edge())
    else:
        return _make(out)
    node = _NODES[node_name or _node_name(a.ndim, b.ndim)](edges)
    save_values(node, (input, other))
    return record(node, out)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """torch.mm(input, mat2): 2-D only."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """torch.mv(input, vec)"""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec._data.ndim}, "
                           f"{input._data.ndim}, {vec._data.ndim}")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """torch.dot(input, other): 1-D only."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    return matmul(input, other)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """torch.bmm(input, mat2): batches of matrices, 3-D only."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (ba, _, ka), (bb, kb, _) = input._data.shape, mat2._data.shape
    if ba != bb or ka != kb:
        _bmm_error(ba, ka, bb, kb)
    return _matmul(input, mat2, "BmmBackward0")


for _name, _fn in {"matmul": matmul, "mm": mm, "mv": mv, "dot": dot, "bmm": bmm,
                   "__matmul__": matmul}.items():
    tensor_method(_name)(_fn)
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
formula("matmul", np.matmul, matmul)


def _matmul_like_tensor(x: Tensor, y: Tensor, like: Tensor) -> Tensor:
    # Batches of one size: torch's bmm backward is a bmm (its node under create_graph).
    xs, ys = x._data.shape, y._data.shape
    if len(xs) == 3 and len(ys) == 3 and xs[0] == ys[0]:
        return _matmul(x, y, "BmmBackward0")
    return matmul(x, y)


formula("matmul_like", _matmul_like_array, _matmul_like_tensor)
