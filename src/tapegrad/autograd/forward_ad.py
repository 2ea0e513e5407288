"""Forward-mode AD (``torch.autograd.forward_ad``): dual levels, dual tensors, tangents.

A dual tensor is a tensor with a tangent attached for the current level. Tangents
live in a table beside the tensors (keyed by the tensor's identity, dropped when the
tensor dies or the level is exited), so a Tensor carries no extra state and ops pay
nothing while no level is open: they test one flag, ``state.active``.

While a level is open, an op with a dual input is recorded like a reverse-mode op
(its node holds the formulas), and its outputs' tangents are derived from that node
by ``tapegrad.ops.jvp`` (see docs/design.md, "Forward mode"). The derivation is lazy:
it runs when a tangent is first read (by the next op, ``unpack_dual``, printing) or
before any in-place write, so ops that finish their node after recording it work.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import graph as _graph
from .grad_mode import _DecoratorContextManager
from .graph import Node

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]


class _Entry:
    """One dual tensor's tangent, or the pending derivation that will produce it."""

    __slots__ = ("ref", "tangent", "pending", "index", "source")

    def __init__(self, ref: weakref.ref, tangent: Any, pending: Any = None,
                 index: int = 0, source: _Entry | None = None) -> None:
        self.ref = ref
        self.tangent = tangent
        self.pending = pending
        self.index = index
        # For a view made before its base became dual: the base's entry its tangent was
        # derived from (stale once the base's entry is replaced).
        self.source = source


class _ForwardState:
    """The open level (-1: none) and the tangents attached at it."""

    __slots__ = ("level", "active", "tangents", "by_node", "on_record", "resolve",
                 "write_inplace", "primal_of", "ns_tensor")

    def __init__(self) -> None:
        self.level = -1
        # True while a level is open and tangents propagate (False while a tangent is
        # being derived, or inside a custom Function's forward).
        self.active = False
        self.tangents: dict[int, _Entry] = {}
        # id(node) -> (weakref to a recorded node, its outputs' entries): a saved output
        # rebuilt by the node's backward finds its tangent here (``adopt``).
        self.by_node: dict[int, tuple] = {}
        # Installed by tapegrad.ops.jvp (which knows the node types):
        self.on_record: Callable = _unset
        self.resolve: Callable = _unset
        self.write_inplace: Callable = _unset
        self.primal_of: Callable = _unset
        self.ns_tensor: Any = None         # the formula namespace on Tensors (view replays)


def _unset(*args: Any) -> None:
    raise RuntimeError("tapegrad.ops is not imported")


state = _ForwardState()


class TangentEdge(Node):
    """Stands in an op's edge for a dual input while the op is recorded: it tells the
    op's node that this input's derivative is wanted and carries the input's tangent.
    Replaced by the real edge (``real``) before the op returns; never reaches the engine."""

    __slots__ = ("tangent", "real")

    def __init__(self, tangent: Any, real: tuple) -> None:
        Node.__init__(self, ())
        self.tangent = tangent
        self.real = real


# -- the tangent table ----------------------------------------------------------------------


def _forget(key: int) -> Callable:
    def drop(ref: weakref.ref) -> None:
        entry = state.tangents.get(key)
        if entry is not None and entry.ref is ref:
            del state.tangents[key]
    return drop


def set_tangent(t: Any, tangent: Any, pending: Any = None, index: int = 0,
                source: _Entry | None = None) -> _Entry:
    """Attach ``tangent`` (or a pending derivation's output ``index``) to ``t``."""
    key = id(t)
    entry = state.tangents[key] = _Entry(weakref.ref(t, _forget(key)), tangent, pending,
                                         index, source)
    return entry


def is_dual(t: Any) -> bool:
    """Whether ``t`` has a tangent at the open level: its own, or (a view made before its
    base became dual) the matching part of its base's. Only asked while a level is open."""
    table = state.tangents
    if id(t) in table:
        return True
    base = getattr(t, "_base", None)
    return base is not None and id(base) in table and _sees_base_tangent(t._view[0])


def _sees_base_tangent(replay: Any) -> bool:
    """Whether a view with this replay takes its base's tangent: not a primal from
    ``unpack_dual`` (torch makes it a view without a tangent) nor a view of one."""
    return replay is not None and not getattr(replay, "primal_only", False)


def tangent_of(t: Any) -> Any:
    """``t``'s tangent at the open level, or None (derives a pending one now)."""
    table = state.tangents
    entry = table.get(id(t))
    if entry is None or (entry.source is not None
                         and table.get(id(t._base)) is not entry.source):
        return _view_of_base_tangent(t)
    if entry.pending is not None:
        state.resolve(entry.pending)
    return entry.tangent


def _view_of_base_tangent(t: Any) -> Any:
    """The tangent of a view made before its base became dual: the view's replay run on
    the base's tangent (shares its memory, as in torch), kept until the base's changes."""
    base = getattr(t, "_base", None)
    if base is None or not _sees_base_tangent(t._view[0]):
        return None
    base_entry = state.tangents.get(id(base))
    if base_entry is None:
        return None
    base_tangent = tangent_of(base)
    if base_tangent is None or tuple(base_tangent.shape) != tuple(base.shape):
        return None
    with suspended():
        tangent = t._view[0](state.ns_tensor, base_tangent)
    set_tangent(t, tangent, source=base_entry)
    return tangent


def has_tangent(inputs: tuple) -> bool:
    """Whether any of ``inputs`` is a dual tensor (only asked while a level is open)."""
    for t in inputs:
        if is_dual(t):
            return True
    return False


def remember_outputs(node: Node, entries: list) -> None:
    """Keep a recorded node's output entries for ``adopt`` (while the node lives)."""
    key = id(node)

    def drop(ref: weakref.ref) -> None:
        rec = state.by_node.get(key)
        if rec is not None and rec[0] is ref:
            del state.by_node[key]

    state.by_node[key] = (weakref.ref(node, drop), entries)


def adopt(t: Any, node: Node, output_nr: int) -> None:
    """``t`` (a node's saved output, rebuilt) takes the tangent that output had."""
    if not state.active:
        return
    rec = state.by_node.get(id(node))
    if rec is None or rec[0]() is not node or rec[1][output_nr] is None:
        return
    entry = rec[1][output_nr]
    if entry.pending is not None:
        state.resolve(entry.pending)
    set_tangent(t, entry.tangent)


_graph.adopt_tangent = adopt


def flush() -> None:
    """Derive every pending tangent now: an in-place write is about to change values
    that their derivations read."""
    for entry in list(state.tangents.values()):
        if entry.pending is not None:
            state.resolve(entry.pending)


class suspended:
    """Ops inside do not propagate tangents (while deriving one, or in a Function's
    forward, which sees primals only, as in torch)."""

    __slots__ = ("prev",)

    def __enter__(self) -> None:
        self.prev = state.active
        state.active = False

    def __exit__(self, *exc: Any) -> None:
        state.active = self.prev


# -- the public API ----------------------------------------------------------------------------


def enter_dual_level() -> int:
    """torch.autograd.forward_ad.enter_dual_level()"""
    if state.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.level = 0
    state.active = True
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """torch.autograd.forward_ad.exit_dual_level(*, level=None)"""
    if level is None:
        level = state.level
    if level != state.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    state.tangents.clear()
    state.by_node.clear()
    state.level = -1
    state.active = False


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by ``unpack_dual``: the primal and the tangent (or None)."""

    primal: Any
    tangent: Any


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """torch.autograd.forward_ad.make_dual(tensor, tangent, *, level=None): a new tensor
    sharing ``tensor``'s memory, with ``tangent`` (kept as-is) attached."""
    if level is None:
        level = state.level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tensor.is_complex() or tangent.is_complex():
        raise NotImplementedError(
            "tapegrad does not support forward-mode AD of complex tensors yet (torch does); "
            "split the tensor into its real and imaginary parts to differentiate it.")
    if level != state.level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tangent_of(tensor) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    with suspended():
        dual = _alias(tensor)
    set_tangent(dual, tangent)
    return dual


def _alias(tensor: Any) -> Any:
    """A new tensor on ``tensor``'s memory and version counter; recorded as a view when
    ``tensor`` requires grad (``ViewBackward0``, as torch). It is its own base, so views
    of it replay from it and their tangents are views of its tangent."""
    dual = tensor.view(tensor.shape)
    dual._base = None
    dual._view = None
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """torch.autograd.forward_ad.unpack_dual(tensor, *, level=None) -> (primal, tangent)"""
    if level is None:
        level = state.level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not state.active:                  # a Function's forward sees primals only
        return UnpackedDualTensor(tensor, None)
    tangent = tangent_of(tensor)
    if tangent is not None and level != state.level:
        raise RuntimeError("Invalid level given to _fw_primal")
    # Always a view (as torch): one that never takes a tangent its base gets later.
    return UnpackedDualTensor(state.primal_of(tensor), tangent)


class dual_level(_DecoratorContextManager):
    """torch.autograd.forward_ad.dual_level(): enter a level for the block, exit after."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def tangent_repr(t: Any) -> str | None:
    """What printing shows after ``tangent=`` (None: not a dual tensor)."""
    if not state.tangents:
        return None
    tangent = tangent_of(t)
    return None if tangent is None else format(tangent)


# -- custom Functions --------------------------------------------------------------------------


def apply_with_jvp(cls: type, args: tuple, apply: Callable) -> Any:
    """``cls.apply(*args)`` with a dual input: forward sees primals; the outputs' tangents
    come from ``cls.jvp(ctx, *input_tangents)`` (zeros for inputs without one)."""
    ctxs: list = []
    with suspended():
        output = apply(ctxs)
        ctx = ctxs[0]
        tangents = []
        for a in args:
            if hasattr(a, "_data"):
                t = tangent_of(a)
                tangents.append(t if t is not None else type(a)._make(np.zeros_like(a._data)))
            else:
                tangents.append(None)
        for_forward = getattr(ctx, "saved_for_forward", None)
        saved, versions = ctx._saved, ctx._versions
        if for_forward is not None:
            ctx._saved = tuple(for_forward)
            ctx._versions = tuple(v._counter.value if hasattr(v, "_data") else None
                                  for v in for_forward)
        try:
            result = cls.jvp(ctx, *tangents)
        finally:
            ctx._saved, ctx._versions = saved, versions
    outs = output if isinstance(output, tuple) else (output,)
    results = result if isinstance(result, tuple) else (result,)
    for o, t in zip(outs, results, strict=False):
        if hasattr(o, "_data") and t is not None and o._data.dtype.kind in "fc":
            set_tangent(o, t)
    return output
