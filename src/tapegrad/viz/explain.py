"""``explain(root)``: run the real backward pass and narrate the chain rule, node by node.

Hooks on every node of the graph (pre-hooks see a node's incoming gradient, post-hooks
what it sends on) observe the engine while ``root.backward()`` runs; the hooks are removed
afterwards, so the gradients accumulated into ``.grad`` are exactly backward()'s.
"""

from __future__ import annotations

from typing import Any

from ..autograd.graph import AccumulateGrad
from ..tensor import Tensor
from .model import collect_nodes, format_array, frame_names

__all__ = ["explain", "RULES"]

# Node class name (without the trailing version digit) -> the local rule a learner writes.
RULES = {
    "Add": "d(a+b)/da = 1,  d(a+b)/db = 1",
    "Sub": "d(a-b)/da = 1,  d(a-b)/db = -1",
    "Rsub": "d(b-a)/da = -1,  d(b-a)/db = 1",
    "Mul": "d(a*b)/da = b,  d(a*b)/db = a",
    "Div": "d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2",
    "Pow": "d(a^n)/da = n*a^(n-1),  d(a^n)/dn = a^n*ln a",
    "Neg": "d(-x)/dx = -1",
    "Exp": "d(exp x)/dx = exp x",
    "Log": "d(ln x)/dx = 1/x",
    "Sin": "d(sin x)/dx = cos x",
    "Cos": "d(cos x)/dx = -sin x",
    "Tan": "d(tan x)/dx = 1 + tan^2 x",
    "Sqrt": "d(sqrt x)/dx = 1/(2 sqrt x)",
    "Tanh": "d(tanh x)/dx = 1 - tanh^2 x",
    "Sigmoid": "d(s(x))/dx = s(x)*(1 - s(x))",
    "Relu": "d(relu x)/dx = 1 if x > 0 else 0",
    "Abs": "d|x|/dx = sign x",
    "Reciprocal": "d(1/x)/dx = -1/x^2",
    "Sum": "d(sum x)/dx_i = 1: the gradient is copied to every element",
    "Mean": "d(mean x)/dx_i = 1/n",
    "Mm": "d(A@B)/dA = g @ B^T,  d(A@B)/dB = A^T @ g",
    "Matmul": "d(A@B)/dA = g @ B^T,  d(A@B)/dB = A^T @ g",
    "Mv": "d(A@v)/dA = g v^T,  d(A@v)/dv = A^T g",
    "Dot": "d(a.b)/da = b,  d(a.b)/db = a",
    "Bmm": "d(A@B)/dA = g @ B^T,  d(A@B)/dB = A^T @ g (per batch)",
    "T": "the gradient of a transpose is the transposed gradient",
    "Transpose": "the gradient of a transpose is the transposed gradient",
    "Permute": "the gradient is permuted back",
    "View": "the gradient is reshaped back to the input's shape",
    "Reshape": "the gradient is reshaped back to the input's shape",
    "UnsafeView": "the gradient is reshaped back to the input's shape",
    "Expand": "the gradient is summed over the expanded dimensions",
    "Squeeze": "the gradient gets the squeezed dimension back",
    "Unsqueeze": "the gradient loses the added dimension",
    "Select": "the gradient goes to the selected element, zeros elsewhere",
    "Slice": "the gradient goes to the slice, zeros elsewhere",
    "Index": "the gradient goes to the indexed elements, zeros elsewhere",
    "Cat": "the gradient is split back into the pieces",
    "Stack": "the gradient is split back into the pieces",
    "Clamp": "d(clamp x)/dx = 1 inside the bounds, 0 outside",
    "Where": "the gradient goes to the branch that was chosen",
    "Clone": "d(x)/dx = 1",
    "ToCopy": "d(x)/dx = 1 (cast back to the input's dtype)",
}
GENERIC_RULE = "local derivative of this op (no plain-math rule on file): grad_in = J^T grad_out"


def rule_for(node_name: str) -> str:
    """The plain-math rule for a node class (``MulBackward0`` -> ``d(a*b)/da = b ...``)."""
    base = node_name.split("Backward")[0]
    return RULES.get(base, GENERIC_RULE)


def _fmt(g: Any) -> str:
    if g is None:
        return "None"
    shape = tuple(g.shape)
    if g.numel() <= 6:
        return format_array(g)
    return f"<tensor of shape {shape}>"


def explain(root: Tensor, gradient: Tensor | None = None, params: dict | None = None,
            names: dict | None = None, file: Any = None) -> str:
    """Run ``root.backward(gradient)`` and print the chain rule as it happens; return the text."""
    if names is None:
        names = frame_names(1, root)
    pnames = {id(t): n for n, t in (params or {}).items()}
    nodes = collect_nodes(root.grad_fn)
    if root.grad_fn is None:
        raise RuntimeError("explain() needs a tensor produced by an op that requires grad "
                           "(it has no grad_fn); there is no chain rule to show.")
    events: list[tuple[Any, tuple, tuple]] = []
    incoming: dict[Any, tuple] = {}
    handles = []

    def pre(node):
        def hook(grad_outputs):
            incoming[node] = grad_outputs
        return hook

    def post(node):
        def hook(grad_inputs, grad_outputs):
            events.append((node, grad_outputs, grad_inputs))
        return hook

    for n in nodes:
        handles.append(n.register_prehook(pre(n)))
        if type(n) is not AccumulateGrad:
            handles.append(n.register_hook(post(n)))
    try:
        root.backward(gradient)
    finally:
        for h in handles:
            h.remove()

    def leaf_name(node) -> str:
        v = node.variable
        return pnames.get(id(v)) or names.get(id(v)) or "leaf"

    def label(node) -> str:
        if type(node) is AccumulateGrad:
            return f"leaf {leaf_name(node)}"
        return type(node).__name__

    root_name = names.get(id(root), "output")
    lines = [f"Backward pass from {root_name} = {format_array(root) if root.numel() <= 6 else ''}"
             .rstrip(), f"  start: d{root_name}/d{root_name} = "
             f"{_fmt(gradient) if gradient is not None else '1'}", ""]
    for step, (node, gout, gin) in enumerate(events, 1):
        lines.append(f"{step}. {type(node).__name__}")
        lines.append(f"   incoming gradient: {', '.join(_fmt(g) for g in gout)}")
        rule = getattr(node, "explain_rule", None) or rule_for(type(node).__name__)
        lines.append(f"   local rule:        {rule}")
        for (nxt, _), g in zip(node.next_functions, gin, strict=False):
            if nxt is None:
                continue
            lines.append(f"   sends {_fmt(g)} -> {label(nxt)}")
        lines.append("")
    lines.append("Accumulated gradients (.grad) of the leaves:")
    for n in nodes:
        if type(n) is AccumulateGrad:
            lines.append(f"   {leaf_name(n)}.grad = {_fmt(n.variable.grad)}")
    text = "\n".join(lines)
    print(text, file=file)
    return text
