"""torch's fused nodes for nn ops that tapegrad composes from smaller differentiable ops.

torch computes mse_loss, layer_norm, embedding, ... with one fused kernel, and users see
its node: ``grad_fn=<MseLossBackward0>`` whose ``next_functions`` are the op's inputs.
tapegrad builds them from core ops, whose own nodes carry the derivatives. ``fused`` runs
the composite on stand-ins of the inputs (``AliasBackward0`` nodes with no edges, sharing
the inputs' data and version counters) and records one node with torch's name whose edges
are the real inputs; its backward runs the composite's backward from the stand-ins' output
down to the stand-ins (a nested backward that walks only the composite). Under
create_graph it runs the composite again on fresh stand-ins, takes the gradient with a
graph, and then links those stand-ins to the real inputs, so the gradient is
differentiable in the inputs to any order.

While forward-mode AD is active (the fused node has no tangent rule) ``named`` is used
instead: one identity node with torch's name on top of the composite.
"""

from __future__ import annotations

from collections.abc import Callable

from ..autograd import engine
from ..autograd.forward_ad import state as _forward_ad
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import modified_error
from ..ops.define import Node, Tensor, edge, needs_grad, record

__all__ = ["named", "fused"]

_make = Tensor._make


class _NamedComposite(Node):
    """Passes the gradient through to the composite it names."""

    __slots__ = ()
    explain_rule = "the gradient passes unchanged to the ops that compute it (below)"

    def backward(self, ns, grads):
        return (grads[0],)


class AliasBackward0(Node):
    """A fused op's input as its composite sees it: gradients stop here (the fused node
    hands them on); linked to the real input only in gradients taken with a graph."""

    __slots__ = ()

    def backward(self, ns, grads):
        return (grads[0],)


class _FusedNode(Node):
    """torch's node for a fused op; saved value: the composite's output on stand-ins."""

    __slots__ = ("fn", "inputs", "versions", "saved_slots", "stand_ins", "has_edge")
    explain_rule = "the backward of the ops that compute it, run as one step"

    def backward(self, ns, grads):
        if ns.graph:
            return self._backward_with_graph(grads[0])
        composite_out, = self.unpack(False)      # raises torch's error once freed
        self._check_versions()
        # the stand-ins are leaves of their own: their .grad is the answer (a capture
        # would cost a second walk of the composite)
        engine.execute([edge(composite_out)], [grads[0]], keep_graph=True,
                       create_graph=False)
        out = []
        for s, kept in zip(self.stand_ins, self.has_edge, strict=True):
            if kept:
                g = getattr(s, "_grad", None)
                out.append(None if g is None else g._data)
                if g is not None:
                    s._grad = None
        return tuple(out)

    def _check_versions(self) -> None:
        """The in-place check of the inputs torch's node saves."""
        for i in self.saved_slots:
            t, version = self.inputs[i], self.versions[i]
            if t is not None and t._counter.value != version:
                gf = t._grad_fn
                raise modified_error(t._data, type(gf).__name__ if gf else None,
                                     t._counter.value, version, t._counter)

    def _backward_with_graph(self, grad: Tensor) -> tuple:
        self.unpack(False)
        self._check_versions()
        stand_ins = _stand_ins(self.inputs, True)
        with enable_grad():
            out = self.fn(*stand_ins)
        grads = engine.execute([edge(out)], [grad], keep_graph=True, create_graph=True,
                               capture=[(None, 0) if s is t else s._edge()
                                        for s, t in zip(stand_ins, self.inputs, strict=True)],
                               accumulate=False)
        for s, t in zip(stand_ins, self.inputs, strict=True):
            if s is not t:
                s._grad_fn.next_functions = (edge(t),)
        return self._per_edge(grads)

    def _per_edge(self, grads: list) -> tuple:
        return tuple(g for g, kept in zip(grads, self.has_edge, strict=True) if kept)

    def release(self) -> None:
        super().release()
        self.inputs = self.stand_ins = ()


def _stand_ins(inputs: tuple, linkable: bool) -> list:
    """Each input that requires grad as a new tensor on the same data and version counter,
    with no edge below it (the others as they are): leaves for the forward, AliasBackward0
    nodes (linked to the inputs afterwards) for a gradient taken with a graph."""
    out = []
    for t in inputs:
        if isinstance(t, Tensor) and t._requires_grad:
            s = _make(t._data, True, AliasBackward0(()) if linkable else None)
            s._counter = t._counter
            t = s
        out.append(t)
    return out


_NODE_CLASSES: dict[tuple[str, type], type] = {}


def _node_class(node_name: str, base: type) -> type:
    cls = _NODE_CLASSES.get((node_name, base))
    if cls is None:
        cls = _NODE_CLASSES[node_name, base] = type(node_name, (base,), {"__slots__": ()})
    return cls


def fused(node_name: str, fn: Callable[..., Tensor], *inputs: Tensor | None,
          extra: tuple = (), saved: tuple[int, ...] | None = None) -> Tensor:
    """``fn(*inputs, *extra)`` recorded as one node called ``node_name`` whose edges are
    the inputs (``(None, 0)`` for an input that is None or needs no grad), as torch's
    fused kernels are; ``extra`` tensors (those torch cannot differentiate) get an edge
    after them only when they require grad. Every tensor ``fn`` uses that may require
    grad must be passed here. ``saved``: the positions (in ``inputs + extra``) of the
    tensors torch's node saves, whose in-place change backward reports (all by default).
    """
    inputs += extra
    if not needs_grad(*inputs) or _forward_ad.active:
        return named(fn(*inputs), node_name)
    stand_ins = _stand_ins(inputs, False)
    out = fn(*stand_ins)
    if out._grad_fn is None:
        return out
    n_inputs = len(inputs) - len(extra)
    has_edge = [i < n_inputs or (t is not None and t._requires_grad)
                for i, t in enumerate(inputs)]
    node = _node_class(node_name, _FusedNode)(
        tuple(edge(t) for t, kept in zip(inputs, has_edge, strict=True) if kept))
    node.has_edge = has_edge
    node.fn = fn
    node.inputs = inputs
    node.saved_slots = range(len(inputs)) if saved is None else saved
    node.versions = tuple(None if t is None or i not in node.saved_slots
                          else t._counter.value for i, t in enumerate(inputs))
    node.stand_ins = stand_ins
    node.save((out,), (None,))
    res = record(node, out._data)
    res._counter = out._counter      # one array, one version: in-place edits stay visible
    return res


def named(out: Tensor, node_name: str) -> Tensor:
    """``out`` under a node called ``node_name``; ``out`` itself when it has no history."""
    if out._grad_fn is None:
        return out
    res = record(_node_class(node_name, _NamedComposite)((edge(out),)), out._data)
    res._counter = out._counter      # one array, one version: in-place edits stay visible
    return res
