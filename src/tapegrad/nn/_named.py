"""torch's node names for nn ops that tapegrad composes from smaller differentiable ops.

torch computes mse_loss, layer_norm, embedding, ... with one fused kernel, and users see
its node (``grad_fn=<MseLossBackward0>``). tapegrad builds them from core ops, whose own
nodes carry the derivatives; ``named`` puts one identity node with torch's name on top.
Values and gradients (of any order: the identity is differentiable) are the composite's;
only ``grad_fn`` and what hangs below it in ``next_functions`` differ from torch.
"""

from __future__ import annotations

from ..ops.define import Node, Tensor, edge, record

__all__ = ["named"]


class _NamedComposite(Node):
    """Passes the gradient through to the composite it names."""

    __slots__ = ()
    explain_rule = "the gradient passes unchanged to the ops that compute it (below)"

    def backward(self, ns, grads):
        return (grads[0],)


_NODE_CLASSES: dict[str, type] = {}


def named(out: Tensor, node_name: str) -> Tensor:
    """``out`` under a node called ``node_name``; ``out`` itself when it has no history."""
    if out._grad_fn is None:
        return out
    cls = _NODE_CLASSES.get(node_name)
    if cls is None:
        cls = _NODE_CLASSES[node_name] = type(node_name, (_NamedComposite,), {"__slots__": ()})
    res = record(cls((edge(out),)), out._data)
    res._counter = out._counter      # one array, one version: in-place edits stay visible
    return res
