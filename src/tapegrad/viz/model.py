"""The autograd graph read into a drawable model: boxes (ops, leaves, output) and edges.

Read from the real graph only: ``root.grad_fn``, each node's ``next_functions`` and
``AccumulateGrad.variable``. Edges point the way values flow (inputs -> output), so a
top-to-bottom drawing reads like the forward pass. Walks are iterative (no recursion).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.graph import AccumulateGrad, Node
from ..tensor import Tensor

__all__ = ["Box", "GraphModel", "build_model", "collect_nodes", "format_array", "caller_names"]

SMALL = 6   # tensors with at most this many elements show their values


def format_array(a: Any) -> str:
    """Values of a small array on one line, 4 significant digits."""
    arr = np.asarray(a._data if isinstance(a, Tensor) else a)
    if arr.ndim == 0:
        return f"{arr.item():.4g}"
    return np.array2string(arr, precision=4, separator=", ", suppress_small=True,
                           max_line_width=10_000).replace("\n", "")


def describe(t: Tensor) -> str:
    """``(2, 3) float32`` for a tensor's shape and dtype."""
    shape = "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"
    return f"{shape} {str(t.dtype).replace('torch.', '')}"


@dataclass
class Box:
    """One box of the drawing: ``kind`` is op, leaf, param, output or saved."""

    id: str
    kind: str
    lines: list[str]
    count: int = 1                               # ops collapsed into this box
    members: list[Node] = field(default_factory=list)


@dataclass
class GraphModel:
    boxes: dict[str, Box]
    edges: list[tuple[str, str]]                 # (from, to), from feeds to
    dashed: set[tuple[str, str]] = field(default_factory=set)


def collect_nodes(root_fn: Node | None) -> list[Node]:
    """Every node reachable from ``root_fn``, root first, without recursion."""
    if root_fn is None:
        return []
    seen = {root_fn}
    order = [root_fn]
    stack = [root_fn]
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                stack.append(nxt)
    return order


def caller_names(frame: Any, wanted: list[Tensor]) -> dict[int, str]:
    """Names the caller gave to these tensors (id -> name), from the frame's locals."""
    ids = {id(t) for t in wanted}
    names: dict[int, str] = {}
    while frame is not None:
        for name, value in frame.f_locals.items():
            if id(value) in ids and not name.startswith("_") and id(value) not in names:
                names[id(value)] = name
        if names:
            break
        frame = frame.f_back
    return names


def _tensor_lines(t: Tensor, name: str | None, show_values: bool, show_grads: bool) -> list[str]:
    lines = [name] if name else []
    lines.append(describe(t))
    if show_values and t.numel() <= SMALL:
        lines.append("= " + format_array(t))
    if show_grads and t.is_leaf and t.requires_grad and t.grad is not None \
            and t.numel() <= SMALL:
        lines.append("grad " + format_array(t.grad))
    return lines


def _collapse_chains(ops: list[Node], inputs: dict[Node, list[Node]],
                     users: dict[Node, list[Node]], min_run: int) -> dict[Node, Node]:
    """Map each op inside a long chain of same-class ops to the chain's first op."""
    rep: dict[Node, Node] = {}
    for node in ops:
        if node in rep:
            continue
        chain = [node]
        # Walk towards the inputs while the op has one op input, of the same class,
        # used only here.
        cur = node
        while True:
            ins = inputs.get(cur, [])
            if len(ins) != 1:
                break
            prev = ins[0]
            if type(prev) is not type(node) or len(users.get(prev, [])) != 1 or prev in rep:
                break
            chain.append(prev)
            cur = prev
        if len(chain) >= min_run:
            for member in chain:
                rep[member] = node
    return rep


def build_model(root: Tensor, params: dict[str, Tensor] | None, names: dict[int, str],
                show_values: bool, show_grads: bool, show_saved: bool,
                collapse: int = 4, traced: Any = None) -> GraphModel:
    """The drawable model of ``root``'s graph (``collapse``: shortest chain folded, 0 = never)."""
    param_names = {id(t): n for n, t in (params or {}).items()}
    nodes = collect_nodes(root.grad_fn)
    ops = [n for n in nodes if type(n) is not AccumulateGrad]
    inputs: dict[Node, list[Node]] = {}
    users: dict[Node, list[Node]] = {}
    for n in ops:
        for nxt, _ in n.next_functions:
            if nxt is not None and type(nxt) is not AccumulateGrad:
                inputs.setdefault(n, []).append(nxt)
                users.setdefault(nxt, []).append(n)
    rep = _collapse_chains(ops, inputs, users, collapse) if collapse else {}

    boxes: dict[str, Box] = {}
    box_of: dict[Node, str] = {}
    for n in nodes:
        r = rep.get(n, n)
        bid = f"n{id(r)}"
        box_of[n] = bid
        if bid in boxes:
            boxes[bid].members.append(n)
            continue
        if type(n) is AccumulateGrad:
            v = n.variable
            pname = param_names.get(id(v))
            kind = "param" if pname else "leaf"
            lines = _tensor_lines(v, pname or names.get(id(v)), show_values, show_grads)
        else:
            kind, lines = "op", [type(n).__name__]
            seen = traced.outputs.get(r) if traced is not None else None
            if seen is not None:
                lines.append(seen[0])
                if show_values and seen[1] is not None:
                    lines.append("= " + format_array(seen[1]))
        boxes[bid] = Box(bid, kind, lines, members=[n])
    for box in boxes.values():
        box.count = len(box.members)
        if box.count > 1:
            box.lines[0] = f"{box.lines[0]} \u00d7{box.count}"

    edges: list[tuple[str, str]] = []
    seen_edges = set()
    for n in nodes:
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            e = (box_of[nxt], box_of[n])
            if e[0] != e[1] and e not in seen_edges:
                seen_edges.add(e)
                edges.append(e)
    model = GraphModel(boxes, edges)

    out_id = f"t{id(root)}"
    out_name = names.get(id(root), "output")
    model.boxes[out_id] = Box(out_id, "output", _tensor_lines(root, out_name, show_values, False))
    if root.grad_fn is not None:
        model.edges.append((box_of[root.grad_fn], out_id))
    if show_saved:
        _add_saved(model, ops, box_of)
    return model


def _add_saved(model: GraphModel, ops: list[Node], box_of: dict[Node, str]) -> None:
    """A small box per saved value of each op (dashed edge into the op)."""
    for n in ops:
        saved = n._saved
        if not saved:
            continue
        labels = type(n).saved_names or tuple(f"saved{i}" for i in range(len(saved)))
        for i, (label, item) in enumerate(zip(labels, saved, strict=False)):
            data = getattr(item, "_data", None)
            if data is None:
                data = getattr(item, "data", None)
            if not isinstance(data, np.ndarray):
                continue
            sid = f"s{id(n)}_{i}"
            lines = [f"saved {label}", f"{tuple(data.shape)} {data.dtype}"]
            if data.size <= SMALL:
                lines.append("= " + format_array(data))
            model.boxes[sid] = Box(sid, "saved", lines)
            model.edges.append((sid, box_of[n]))
            model.dashed.add((sid, box_of[n]))


def frame_names(depth: int, root: Tensor) -> dict[int, str]:
    """Names for the graph's leaves and root from the caller ``depth`` frames up."""
    leaves = [n.variable for n in collect_nodes(root.grad_fn) if type(n) is AccumulateGrad]
    frame = inspect.currentframe()
    for _ in range(depth + 1):
        frame = frame.f_back if frame is not None else None
    try:
        return caller_names(frame, leaves + [root])
    finally:
        del frame
