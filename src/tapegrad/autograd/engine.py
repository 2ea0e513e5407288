"""The reverse-mode engine: walks the recorded graph back from its roots.

It knows no op's calculus. It finds the nodes reachable from the roots, counts
how many gradients each must wait for, and runs a node once all of them have
arrived and been summed. Among ready nodes the newest runs first, as in torch
(AccumulateGrad sinks first of all). No recursion anywhere, so graphs of any
depth work.

Formulas run on raw arrays (``ARRAY_NS``) for a plain backward, or on Tensors
(``TENSOR_NS``) under ``create_graph``, which records the backward pass itself.
The ops package installs both namespaces at import.
"""

from __future__ import annotations

import gc
import heapq
import sys
import threading
import warnings
from typing import Any

import numpy as np

from .anomaly import anomaly_state
from .grad_mode import state as grad_state
from .graph import AccumulateGrad, Node

ARRAY_NS: Any = None
ARRAY_NS_OWNED: Any = None      # ARRAY_NS for a node whose incoming gradient only we hold
TENSOR_NS: Any = None

_tensor_cls: Any = None


def _Tensor():
    global _tensor_cls
    if _tensor_cls is None:
        from ..tensor import Tensor
        _tensor_cls = Tensor
    return _tensor_cls


def execute(root_edges: list, root_grads: list, *, keep_graph: bool, create_graph: bool,
            capture: list | None = None, accumulate: bool = True) -> list | None:
    """Run backward from ``root_edges`` [(node, output_nr)] seeded with ``root_grads``.

    ``capture``: edges whose incoming gradient is returned (autograd.grad, or
    backward(inputs=...)); when given, only nodes leading to them run. With
    ``accumulate`` False nothing is written to ``.grad``.
    """
    prev_mode = grad_state.grad_enabled
    prev_capturing = engine_state.capturing
    # Inference mode records nothing, create_graph or not (as torch): so a recorded
    # output is never an inference tensor, which Tensor._make relies on.
    grad_state.grad_enabled = create_graph and not grad_state.inference
    engine_state.capturing = capture is not None
    # A backward pass frees its graph by reference counting and makes no cyclic garbage,
    # but its many small allocations trigger cyclic collections that walk the whole live
    # graph (most of a backward over many scalar ops); they wait until it is done.
    gc_paused = gc.isenabled()
    if gc_paused:
        gc.disable()
    try:
        return _execute(root_edges, root_grads, keep_graph, create_graph, capture, accumulate)
    finally:
        if gc_paused:
            gc.enable()
        grad_state.grad_enabled = prev_mode
        engine_state.capturing = prev_capturing


class _EngineState(threading.local):
    # True while the innermost running backward only captures some gradients
    # (autograd.grad, backward(inputs=...)): reentrant checkpoint cannot work then.
    capturing = False


engine_state = _EngineState()


def is_checkpoint_valid() -> bool:
    """torch.autograd._is_checkpoint_valid(): False inside autograd.grad / backward(inputs=)."""
    return not engine_state.capturing


def _walk_start(root_nodes: list) -> tuple[dict, list]:
    """A graph walk's dependency counts and stack, holding the roots (each once)."""
    deps: dict[Node, int] = dict.fromkeys(root_nodes, 0)
    return deps, list(deps)


def _discover(root_nodes: list, parents: dict | None = None) -> dict:
    """Count, for every reachable node, how many edges point at it; with ``parents``,
    also list there, for every node, the nodes whose edges point at it (one per edge)."""
    deps, stack = _walk_start(root_nodes)
    while stack:
        node = stack.pop()
        for nxt in node._edges:          # nodes and output numbers, alternating
            if nxt is None or nxt.__class__ is int:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                stack.append(nxt)
            if parents is not None:
                ps = parents.get(nxt)
                if ps is None:
                    parents[nxt] = [node]
                else:
                    ps.append(node)
    return deps


def _discover_leading(root_nodes: list, targets: dict) -> dict | None:
    """_discover's counts if every reachable node leads to a target, else None (found
    at the first sink, a node without edges, that is not a target; every node reaches
    some sink, so when all sinks are targets no node needs leaving out)."""
    deps, stack = _walk_start(root_nodes)
    while stack:
        node = stack.pop()
        sink = True
        for nxt in node._edges:          # nodes and output numbers, alternating
            if nxt is None or nxt.__class__ is int:
                continue
            sink = False
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                stack.append(nxt)
        if sink and node not in targets:
            return None
    return deps


def _restrict(parents: dict, deps: dict, target_nodes: Any) -> set:
    """The nodes from which a target is reachable. Their counts in ``deps`` stay right:
    every node with an edge into one of them leads to a target too, so is kept."""
    needed = {n for n in target_nodes if n in deps}
    queue = list(needed)
    while queue:
        n = queue.pop()
        for p in parents.get(n, ()):
            if p not in needed:
                needed.add(p)
                queue.append(p)
    return needed


def _execute(root_edges, root_grads, keep_graph, create_graph, capture, accumulate):
    ns = TENSOR_NS if create_graph else ARRAY_NS
    owned_ns = None if create_graph else ARRAY_NS_OWNED
    root_nodes = [node for node, _ in root_edges]
    # ``needed``: with a capture, the nodes that lead to a target (None: all of them).
    needed = None
    captured = None
    targets: dict[Node, list] = {}
    if capture is None:
        deps = _discover(root_nodes)
    else:
        for i, (node, nr) in enumerate(capture):
            if node is not None:
                targets.setdefault(node, []).append((nr, i))
        deps = _discover_leading(root_nodes, targets)
        if deps is None:
            # Some node leads to no target: walk again noting each node's parents, and
            # keep those from which a target is reachable.
            parents: dict = {}
            deps = _discover(root_nodes, parents)
            needed = _restrict(parents, deps, targets)
        captured = [None] * len(capture)

    buffers: dict[Node, list] = {}
    heap: list = []
    tick = 0
    # The node to run next when it is known without the heap: along a chain, a node whose
    # last incoming gradient was just produced and that is newer than every node waiting
    # (so the heap would give it next anyway); ``grads`` then is its gradient list.
    node = None
    grads = None
    if len(root_edges) == 1 and len(root_grads) == 1:
        # One root runs first (nothing points at it, nothing else is ready): no heap.
        (root, nr), = root_edges
        if needed is None or root in needed:
            node = root
            grads = [None] * _n_outputs(root)
            grads[nr] = root_grads[0]
    else:
        for (node, nr), g in zip(root_edges, root_grads, strict=True):
            if needed is not None and node not in needed:
                continue
            _add_to_buffer(buffers, node, nr, g)
        for node in dict.fromkeys(root_nodes):
            if deps.get(node, 1) == 0 and node in buffers:
                heapq.heappush(heap, (-node._seq, tick, node))
                tick += 1
        node = None

    check_nan = anomaly_state.enabled and anomaly_state.check_nan
    anomaly = anomaly_state.enabled
    heappush, heappop = heapq.heappush, heapq.heappop
    single_output = _SINGLE_OUTPUT
    while True:
        if node is None:
            if not heap:
                break
            node = heappop(heap)[2]
            grads = buffers.pop(node, None)
        node_type = type(node)
        # Hooks, retained outputs and captures are rare: one test skips them all.
        extras = node._extras
        if grads is not None and (extras is not None or targets
                                  or node_type is AccumulateGrad):
            if (extras is not None and extras.tensor_pre_hooks) or (
                    node_type is AccumulateGrad and node.variable._hooks):
                grads = _run_tensor_hooks(node, grads, create_graph)
                extras = node._extras        # a hook may have added some
            if extras is not None and extras.retain:
                _retain_grads(node, grads, create_graph)
            if targets and node in targets:
                for nr, i in targets[node]:
                    captured[i] = grads[nr]
                runs = accumulate if node_type is AccumulateGrad else any(
                    nxt is not None and (needed is None or nxt in needed)
                    for nxt in node._edges[::2])
                if not runs:
                    grads = None
            if grads is not None and extras is not None and extras.pre_hooks:
                grads = _run_pre_hooks(node, grads, create_graph)
        if grads is None:
            outs = None
        else:
            if node_type is AccumulateGrad:
                if node._extras is not None and node._post_hooks:
                    if accumulate:
                        _accumulate(node.variable, grads[0], create_graph)
                    _run_post_hooks(node, (), grads, create_graph)
                elif accumulate:
                    g = grads[0]
                    # Drop the engine's other references so that an unshared gradient
                    # array can be adopted as .grad instead of copied (see _OWNED_REFCOUNT).
                    grads = None
                    _accumulate(node.variable, g, create_graph)
                    g = None
                node = grads = None
                continue
            if anomaly:
                outs = _call_node(node, ns, grads, create_graph, check_nan)
            # (the usual small gradient fails the first two tests)
            elif (grads[0].__class__ is ndarray and grads[0].size >= _OWNED_MIN_SIZE
                  and owned_ns is not None and node_type.consumes_grad and len(grads) == 1
                  and (node._extras is None or not node._post_hooks) and _sole_reference(grads[0])):
                outs = node.backward(owned_ns, grads)
            else:
                outs = node.backward(ns, grads)
            if not keep_graph and node._saved:
                node.release()
            if node._extras is not None and node._post_hooks:
                outs = _run_post_hooks(node, outs, grads, create_graph)
            grads = None                   # free the incoming gradients before the next node
        edges = node._edges                # (node0, output_nr0, node1, ...)
        if outs is None:
            outs = (None,) * (len(edges) >> 1)
        elif len(outs) != len(edges) >> 1:
            outs = _pad_outputs(outs, node.next_functions, needed)
        # The last node this one made ready; pushed when the next one is found, so that
        # ready nodes keep the heap order (ticks) they had when pushed at once.
        ready = ready_grads = None
        k = 0                              # edges[k]: the node of the current edge
        for g in outs:
            nxt = edges[k]
            k += 2
            if nxt is None or (needed is not None and nxt not in needed):
                continue
            d = deps[nxt] - 1
            deps[nxt] = d
            fresh = None                   # nxt's gradient list when only this edge fed it
            if g is not None:
                buf = buffers.get(nxt)
                if buf is None:
                    n_out = 1 if type(nxt) in single_output else _n_outputs(nxt)
                    if n_out == 1:
                        if d == 0:
                            fresh = [g]
                        else:
                            buffers[nxt] = [g]
                    else:
                        buf = buffers[nxt] = [None] * n_out
                        buf[edges[k - 1]] = g
                else:
                    nr = edges[k - 1]
                    cur = buf[nr]
                    # Never add in place into an incoming gradient: it may be shared
                    # (a user's tensor, or the same array sent along two edges).
                    buf[nr] = g if cur is None else cur + g
            if d == 0:
                if ready is not None:
                    if ready_grads is not None:
                        buffers[ready] = ready_grads
                    heappush(heap, (-ready._seq, tick, ready))
                    tick += 1
                ready, ready_grads = nxt, fresh
        # No references to gradients may stay behind here: a leaf adopts its gradient
        # array only when nothing but the engine holds it.
        outs = g = fresh = None
        if ready is None:
            node = None
        elif not heap or ready._seq > -heap[0][0]:
            node = ready
            grads = ready_grads if ready_grads is not None else buffers.pop(ready, None)
            ready_grads = None
        else:
            if ready_grads is not None:
                buffers[ready] = ready_grads
            heappush(heap, (-ready._seq, tick, ready))
            tick += 1
            node = ready_grads = None
    return captured


# Below this many elements writing with out= costs more than a fresh allocation.
_OWNED_MIN_SIZE = 4096
ndarray = np.ndarray
# References to a gradient held only by the engine's ``grads`` list, as counted below:
# the list's, the parameter's and getrefcount's argument.
_SOLE_REFCOUNT = 3


def _sole_reference(g) -> bool:
    """Whether ``g`` is an array of its own that nothing but the engine refers to (not a
    user's, a hook's, a saved value, a view, or sent along another edge too)."""
    return (type(g) is np.ndarray and g.base is None and g.flags.writeable
            and sys.getrefcount(g) <= _SOLE_REFCOUNT)


def _call_node(node: Node, ns, grads: list, create_graph: bool, check_nan: bool) -> tuple:
    if not anomaly_state.enabled:
        return node.backward(ns, grads)
    try:
        outs = node.backward(ns, grads)
    except Exception:
        trace = node._metadata.get("traceback_") if node._metadata else None
        if trace:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that "
                          f"caused the error:\n{''.join(trace)}", UserWarning, stacklevel=2)
        else:
            warnings.warn(f"Error detected in {node.name()}. No forward pass information "
                          "available. Enable detect anomaly during forward pass for more "
                          "information.", UserWarning, stacklevel=2)
        raise
    if check_nan:
        for i, g in enumerate(outs):
            if g is None:
                continue
            arr = g._data if create_graph else g
            if np.isnan(arr).any():
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                                   f"{i}th output.")
    return outs


def _add_to_buffer(buffers: dict, node: Node, nr: int, g) -> None:
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * _n_outputs(node)
    cur = buf[nr]
    # Never add in place into an incoming gradient: it may be shared (a user's tensor,
    # or the same array sent along two edges).
    buf[nr] = g if cur is None else cur + g


# Node types whose instances may carry ``n_outputs`` (a slot or an instance dict); all
# others have one output. Cached per type so that the common case costs no failed
# attribute lookup (a failed lookup raises and catches an AttributeError).
_MAY_HAVE_OUTPUTS: dict[type, bool] = {}


# Node types known to have one output: the engine's check before calling _n_outputs.
_SINGLE_OUTPUT: set[type] = set()


def _pad_outputs(outs, edges: tuple, needed: set | None) -> tuple:
    """A backward's gradients, one per edge (``edges``: next_functions' pairs): None for
    missing ones of edges that take none; an edge that would take one and has none is an
    error."""
    outs = tuple(outs)[:len(edges)]     # gradients beyond the edges go nowhere
    for nxt, _ in edges[len(outs):]:
        if nxt is not None and (needed is None or nxt in needed):
            raise IndexError("tuple index out of range")
    return outs + (None,) * (len(edges) - len(outs))


def _n_outputs(node: Node) -> int:
    cls = type(node)
    may = _MAY_HAVE_OUTPUTS.get(cls)
    if may is None:
        may = _MAY_HAVE_OUTPUTS[cls] = hasattr(cls, "n_outputs") or any(
            "__dict__" in vars(k) for k in cls.__mro__ if k is not object)
        if not may:
            _SINGLE_OUTPUT.add(cls)
    return getattr(node, "n_outputs", 1) if may else 1


def _wrap(g, create_graph: bool):
    return g if create_graph else _Tensor()._make(g)


def _unwrap(t, create_graph: bool):
    return t if create_graph else t._data


def _hook_name(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _check_hook_result(fn, value, old) -> None:
    """torch's checks on a tensor a hook returned in place of ``old``."""
    if not isinstance(value, _Tensor()):
        raise TypeError(f"expected Variable, but hook returned '{type(value).__name__}'")
    name = _hook_name(fn)
    if value._data.dtype != old._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                           f"{old.dtype.legacy} got {value.dtype.legacy})")
    if value.shape != old.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")


def _hook_result(fn, value, old):
    if value is None:
        return old
    _check_hook_result(fn, value, old)
    return value


def _node_hook_values(fn, values, old: tuple) -> tuple:
    """Check what a node pre/post hook returned in place of ``old`` (torch's checks)."""
    if not isinstance(values, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(values).__name__}'")
    if len(values) != len(old):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(values)}, but expected {len(old)})")
    for value, was in zip(values, old, strict=True):
        if value is None or was is None:
            continue
        _hook_result(fn, value, was)
        if value.dtype != was.dtype:
            raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the type of value (was "
                               f"{was.dtype.legacy} got {value.dtype.legacy})")
    return values


def _run_tensor_hooks(node: Node, grads: list, create_graph: bool) -> list:
    if type(node) is AccumulateGrad:
        hooks = node.variable._hooks
        items = [(0, fn) for fn in hooks.values()] if hooks else ()
    else:
        items = list(node._tensor_pre_hooks.values())
    if not items:
        return grads
    grads = list(grads)
    for nr, fn in items:
        g = grads[nr]
        if g is None:
            # torch calls the hook with None for an output that received no gradient.
            value = fn(None)
            if value is not None:
                grads[nr] = _unwrap(value, create_graph)
            continue
        t = _wrap(g, create_graph)
        grads[nr] = _unwrap(_hook_result(fn, fn(t), t), create_graph)
    return grads


def _retain_grads(node: Node, grads: list, create_graph: bool) -> None:
    for nr, ref in list(node._retain.items()):
        t = ref()
        if t is not None and grads[nr] is not None:
            _retain_like(t, grads[nr], create_graph)


def _retain_like(t, g, create_graph: bool) -> None:
    """Sum ``g`` into a non-leaf's .grad (retain_grad, or backward(inputs=[non-leaf]))."""
    if create_graph:
        # torch clones the first gradient (CloneBackward0 when it has history).
        t._grad = g.clone() if t._grad is None else t._grad + g
    else:
        t._grad = (_Tensor()._make(g.copy()) if t._grad is None
                   else _Tensor()._make(t._grad._data + g))


def _run_pre_hooks(node: Node, grads: list, create_graph: bool) -> list:
    for fn in list(node._pre_hooks.values()):
        wrapped = tuple(None if g is None else _wrap(g, create_graph) for g in grads)
        res = fn(wrapped)
        if res is not None:
            res = _node_hook_values(fn, res, wrapped)
            grads = [None if g is None else _unwrap(g, create_graph) for g in res]
    # All gradients replaced by None: the node has nothing to do, as in torch.
    return None if all(g is None for g in grads) else grads


def _run_post_hooks(node: Node, outs, grads: list, create_graph: bool):
    for fn in list(node._post_hooks.values()):
        gi = tuple(None if g is None else _wrap(g, create_graph) for g in outs)
        go = tuple(None if g is None else _wrap(g, create_graph) for g in grads)
        res = fn(gi, go)
        if res is not None:
            res = _node_hook_values(fn, res, gi)
            outs = tuple(None if g is None else _unwrap(g, create_graph) for g in res)
    return outs


# References to an incoming gradient array held by the engine while accumulating it;
# any more mean someone else holds it too, and it must be copied, not adopted.
_OWNED_REFCOUNT = 3


def _whole_unshared_view(g: np.ndarray) -> bool:
    """A C-contiguous view of all of an array that nothing else refers to (the transpose
    of a fresh matmul result, say): as private as a fresh array, so it can be adopted."""
    base = g.base
    return (type(base) is np.ndarray and base.base is None and g.flags.c_contiguous
            and g.nbytes == base.nbytes and sys.getrefcount(base) <= _BASE_REFCOUNT)


# References to a view's base while checking it: the view's own and the two above.
_BASE_REFCOUNT = 3


def _accumulate(variable, g, create_graph: bool) -> None:
    """Sum ``g`` into ``variable.grad``: in place normally, out of place under create_graph."""
    Tensor = _Tensor()
    if create_graph:
        if g._data.dtype != variable._data.dtype:
            g = g.to(variable.dtype)
        old = variable._grad
        if old is None:
            # torch copies into a fresh tensor; with history that copy is CopyBackwards.
            fresh = Tensor._make(np.empty_like(g._data))
            variable._grad = fresh.copy_(g) if g._requires_grad else fresh.copy_(g.detach())
        else:
            variable._grad = old + g
    else:
        dt = variable._data.dtype
        if g.dtype != dt:
            g = g.astype(dt)
        old = variable._grad
        if old is None:
            # Adopt the array when nothing else can see it; otherwise copy it.
            if (sys.getrefcount(g) > _OWNED_REFCOUNT or not g.flags.writeable
                    or (g.base is not None and not _whole_unshared_view(g))):
                g = g.copy()
            variable._grad = Tensor._make(g)
        elif old._requires_grad or old._data.shape != g.shape:
            variable._grad = Tensor._make(old._data + g)
        else:
            np.add(old._data, g, out=old._data)
    hooks = variable._post_acc_hooks
    if hooks:
        for fn in list(hooks.values()):
            value = fn(variable)
            if value is not None and value is not variable:
                _check_hook_result(fn, value, variable)
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
