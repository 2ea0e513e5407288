"""Ops without a derivative, recorded as torch records them.

torch gives such an op a node (``NotImplemented`` for floor_divide, ``Unique2Backward0``
for unique, ...), so its result requires grad like any other; the error comes when a
backward reaches the node, and names the op. tapegrad does the same, with torch's message
and a hint on what to do. Random ops whose gradient torch defines as zero (normal with
tensor mean/std) record a node that returns zeros.

An op whose derivative torch has but tapegrad lacks is a different case: it raises when
it is recorded (see ``missing_derivative``), never later and never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.forward_ad import has_tangent
from ..autograd.forward_ad import state as _forward_ad
from .define import Node, Tensor, edge, needs_grad, record

_make = Tensor._make

__all__ = ["record_no_derivative", "record_zero_derivative", "missing_derivative"]


def _hint(op: str) -> str:
    return (f" (tapegrad: {op} has no gradient; compute it on detach()ed inputs or under "
            "torch.no_grad() if none is needed.)")


class _NoDerivativeNode(Node):
    """Backward raises ``error(message)``: the op was recorded but has no derivative."""

    __slots__ = ()
    error: type
    message: str
    op: str

    def backward(self, ns, grads):
        raise self.error(self.message + _hint(self.op))


_NODES: dict[tuple, type] = {}


def _node_class(node_name: str, op: str) -> type:
    """torch's two wordings: its generic ``NotImplemented`` node, and a named node of an op
    whose derivative derivatives.yaml declares not implemented."""
    cls = _NODES.get((node_name, op))
    if cls is None:
        if node_name == "NotImplemented":
            attrs = {"error": RuntimeError,
                     "message": f"derivative for aten::{op} is not implemented"}
        else:
            attrs = {"error": NotImplementedError,
                     "message": f"the derivative for '{op}' is not implemented."}
        cls = _NODES[(node_name, op)] = type(node_name, (_NoDerivativeNode,),
                                             {"__slots__": (), "op": op, **attrs})
        if node_name == "NotImplemented":         # torch names its generic node in full
            cls.name = lambda self: "torch::autograd::NotImplemented"
    return cls


def record_no_derivative(node_name: str, op: str, inputs: Sequence[Any],
                         out: np.ndarray) -> Tensor:
    """``out`` as torch returns it from an op without a derivative: requiring grad (when an
    input does) through a node whose backward raises, naming ``op``."""
    tensors = [t for t in inputs if isinstance(t, Tensor)]
    if _forward_ad.active and has_tangent(tuple(tensors)):
        raise NotImplementedError(f"Trying to use forward AD with aten::{op} that does not "
                                  "support it.")
    if not needs_grad(*tensors) or out.dtype.kind not in "fc":
        return _make(out)
    return record(_node_class(node_name, op)(tuple(edge(t) for t in tensors)), out)


class _ZeroDerivativeNode(Node):
    """Every input's gradient is zero (torch's rule for sampling ops such as normal)."""

    __slots__ = ("shapes",)

    def backward(self, ns, grads):
        dt = ns.np_dtype(grads[0])
        return tuple(ns.zeros(s, dt) for s in self.shapes)


_ZERO_NODES: dict[str, type] = {}


def record_zero_derivative(node_name: str, inputs: Sequence[Any], out: np.ndarray) -> Tensor:
    """``out`` recorded under ``node_name`` with a zero gradient for each Tensor input."""
    tensors = [t for t in inputs if isinstance(t, Tensor)]
    if not needs_grad(*tensors):
        return _make(out)
    cls = _ZERO_NODES.get(node_name)
    if cls is None:
        cls = _ZERO_NODES[node_name] = type(node_name, (_ZeroDerivativeNode,), {"__slots__": ()})
    node = cls(tuple(edge(t) for t in tensors))
    node.shapes = tuple(t._data.shape for t in tensors)
    return record(node, out)


def missing_derivative(op: str, detail: str = "") -> NotImplementedError:
    """The error for an op that torch differentiates but tapegrad cannot (yet), raised when
    the op is recorded with an input that requires grad."""
    return NotImplementedError(
        f"the derivative for '{op}' is not implemented in tapegrad{detail}. Compute it on "
        "detach()ed inputs or under torch.no_grad() if its gradient is not needed.")
