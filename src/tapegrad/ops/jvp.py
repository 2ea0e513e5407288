"""Forward mode: every op's Jacobian-vector product, derived from its backward formulas.

No op states a forward rule. While a dual level is open, an op with a dual input is
recorded as for reverse mode (``define.edge`` gives each dual input a TangentEdge, so the
node wants that input's derivative and knows its tangent), and its outputs' tangents are
derived from the node, lazily (``forward_ad``):

- a view of a dual base: the tangent is the same view of the base's tangent (it shares
  its memory, so in-place writes through either are seen by both, as in torch);
- an elementwise op (``UnaryNode``/``BinaryNode``): the Jacobian is diagonal, so J.t is
  the backward formula applied to t (broadcast to the output's shape; no sum_to);
- anything else: J.t = d/du <J^T u, t>, the backward formula run on Tensors with a
  dummy cotangent ``u`` and differentiated once more (its backward is linear in ``u``).

Tangents are computed with tapegrad ops, so they carry history when the primals (or the
given tangents) require grad: forward-over-reverse works.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..autograd import forward_ad as _fwad
from ..autograd.forward_ad import (
    TangentEdge,
    remember_outputs,
    set_tangent,
    state,
    suspended,
    tangent_of,
)
from ..autograd.grad_mode import state as _grad_state
from .define import BinaryNode, Node, Tensor, UnaryNode, mark_view, ns_tensor

__all__ = ["on_record", "resolve", "write_inplace"]

_make = Tensor._make


class _Pending:
    """An op recorded with dual inputs whose outputs' tangents are not derived yet."""

    __slots__ = ("node", "edges", "recorded", "grad_enabled", "outs", "meta", "entries",
                 "done")

    def __init__(self, node: Node, edges: tuple, recorded: bool, outs: Any) -> None:
        self.node = node
        self.edges = edges                    # with the TangentEdges
        self.recorded = recorded
        self.grad_enabled = _grad_state.grad_enabled
        self.outs = [weakref.ref(o) for o in outs]
        self.meta = [(o._data.shape, o._data.dtype) for o in outs]
        self.entries: list = [None] * len(self.meta)
        self.done = False


def on_record(node: Node, outs: Any) -> bool:
    """Called by ``define.record`` for every op while a level is open. Puts the real edges
    back, leaves a pending tangent on each floating output, and drops the graph when only
    forward mode wanted the op recorded. Returns whether the op stays recorded."""
    edges = node.next_functions
    for n, _ in edges:
        if type(n) is TangentEdge:
            break
    else:
        return True
    real = tuple(n.real if type(n) is TangentEdge else (n, nr) for n, nr in edges)
    node.next_functions = real
    recorded = _grad_state.grad_enabled and any(n is not None for n, _ in real)
    pending = _Pending(node, edges, recorded, outs)
    for i, o in enumerate(outs):
        if not recorded:
            o._grad_fn = None
            o._requires_grad = False
        if o._data.dtype.kind in "fc":
            pending.entries[i] = set_tangent(o, None, pending, i)
    if recorded:
        remember_outputs(node, pending.entries)
    return recorded


def resolve(pending: _Pending) -> None:
    """Derive the tangents of a pending op's outputs and attach them."""
    if pending.done:
        return
    pending.done = True
    node = pending.node
    real = node.next_functions
    node.next_functions = pending.edges
    prev = _grad_state.grad_enabled
    _grad_state.grad_enabled = pending.grad_enabled
    try:
        with suspended():
            tangents = _derive(pending)
    finally:
        node.next_functions = real
        _grad_state.grad_enabled = prev
    pending.node = pending.edges = None
    for entry, tangent in zip(pending.entries, tangents, strict=True):
        if entry is not None and entry.pending is pending:
            entry.pending = None
            entry.tangent = tangent


def _derive(p: _Pending) -> list:
    outs = [ref() for ref in p.outs]
    result: list = [None] * len(outs)
    wanted = False
    for i, o in enumerate(outs):
        if p.entries[i] is not None:
            result[i] = _view_tangent(o) if o is not None else None
            wanted = wanted or result[i] is None
    if not wanted:
        return result
    node = p.node
    if isinstance(node, UnaryNode) and p.meta[0][1].kind == "f":
        derived = [_unary(p)]
    elif isinstance(node, BinaryNode) and p.meta[0][1].kind == "f":
        derived = [_binary(p)]
    else:
        derived = _double_vjp(p)
    for i, (shape, dtype) in enumerate(p.meta):
        if result[i] is None and p.entries[i] is not None:
            t = derived[i]
            if t is None:
                t = _make(np.zeros(shape, dtype))
            elif t._data.dtype != dtype:
                t = t.to(_dtype_of(dtype))
            result[i] = t
    return result


def _dtype_of(np_dtype: np.dtype) -> Any:
    from ..dtypes import from_numpy_dtype
    return from_numpy_dtype(np_dtype)


def _view_tangent(o: Tensor) -> Tensor | None:
    """The tangent of a view of a dual base: the same view of the base's tangent."""
    base = o._base
    if base is None or not o._view or o._view[0] is None:
        return None
    base_tangent = tangent_of(base)
    if base_tangent is None or base_tangent._data.shape != base._data.shape:
        return None
    return o._view[0](ns_tensor, base_tangent)


def _saved(p: _Pending) -> list:
    """The node's saved values: Tensors with history when the op stays recorded, else
    constants (the tangent then depends on the given tangents only)."""
    if p.recorded:
        return p.node.unpack(True)
    return [_make(v) if isinstance(v, np.ndarray) else v for v in p.node.unpack(False)]


def _unary(p: _Pending) -> Tensor:
    return p.node.formula(ns_tensor, p.edges[0][0].tangent, *_saved(p))


def _binary(p: _Pending) -> Tensor | None:
    node = p.node
    vals = _saved(p) if node._saved else [None, None, None]
    shape = p.meta[0][0]
    total = None
    # zip stops at the edges the node has: a number ``other`` gets no edge.
    for (n, _), (fn, uses) in zip(p.edges, ((node.grad_self, node.uses_self),
                                            (node.grad_other, node.uses_other))):
        if type(n) is not TangentEdge or fn is None:
            continue
        t = n.tangent
        if tuple(t.shape) != shape:
            t = t.expand(shape)
        term = fn(ns_tensor, t, *[vals[k] for k in uses])
        total = term if total is None else total + term
    return total


def _double_vjp(p: _Pending) -> list:
    """J.t = d/du <J^T u, t>: the node's backward on a dummy cotangent u, differentiated."""
    from ..autograd.api import grad
    node = p.node
    us = [_make(np.zeros(shape, dtype), True) if dtype.kind in "fc" else None
          for shape, dtype in p.meta]
    _grad_state.grad_enabled = True
    grads_in = node.backward(ns_tensor, list(us))
    total = None
    tangents = []
    for (n, _), g in zip(p.edges, grads_in, strict=False):
        if type(n) is TangentEdge and g is not None and g._requires_grad:
            tangents.append(n.tangent)
            term = (g * n.tangent).sum()
            total = term if total is None else total + term
    wrt = [u for u in us if u is not None]
    if total is None:
        return [None] * len(us)
    create = p.grad_enabled and (p.recorded or any(t._requires_grad for t in tangents))
    jt = iter(grad(total, wrt, create_graph=create, allow_unused=True))
    return [next(jt) if u is not None else None for u in us]


def write_inplace(self: Tensor, tangent: Tensor | None) -> None:
    """After an in-place op wrote into ``self``: write the op's tangent into ``self``'s
    (which a view shares with its base; a view of a non-dual base makes the base dual,
    with zeros elsewhere, as torch does)."""
    current = tangent_of(self)
    if tangent is None:
        if current is not None:
            current._data[...] = 0
        return
    if current is None:
        replay = self._view[0] if self._view else None
        base = self._base
        if base is None or replay is None:
            set_tangent(self, tangent)
            return
        base_tangent = tangent_of(base)
        if base_tangent is None:
            base_tangent = _make(np.zeros_like(base._data))
            set_tangent(base, base_tangent)
        with suspended():
            current = replay(ns_tensor, base_tangent)
        set_tangent(self, current)
    if tangent._requires_grad and _grad_state.grad_enabled and current._grad_fn is not None:
        with suspended():
            current.copy_(tangent)
    else:
        np.copyto(current._data, tangent._data, casting="unsafe")


class Identity(Node):
    """The node of ``unpack_dual(t).primal`` (torch names it ``Identity``)."""

    __slots__ = ()

    def backward(self, ns: Any, grads: list) -> tuple:
        return (grads[0],)


def _identity_replay(ns: Any, x: Any) -> Any:
    return x


_identity_replay.primal_only = True     # the primal never takes the dual's tangent


def primal_of(t: Tensor) -> Tensor:
    """A view of ``t`` without its tangent (gradients pass through unchanged)."""
    if t._requires_grad and _grad_state.grad_enabled:
        out = _make(t._data.view(), True, Identity((t._edge(),)))
    else:
        out = _make(t._data.view())
    return mark_view(out, t, _identity_replay)


state.on_record = on_record
state.primal_of = primal_of
state.ns_tensor = ns_tensor
state.resolve = resolve
state.write_inplace = write_inplace
Tensor._tangent_repr = property(_fwad.tangent_repr)
