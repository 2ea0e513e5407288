"""The graph: Node (one recorded op), AccumulateGrad (a leaf's sink), saved values, hooks.

A Node knows nothing of any particular op's calculus. An op's node class (in
``tapegrad.ops``) supplies ``backward(ns, grads)``; this module supplies what
every node shares: its edges (``next_functions``), its creation order, the
values it saved with their versions, freeing them, and hooks.
"""

from __future__ import annotations

import itertools
import os
import sys
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .saved_hooks import (
    PackedSaved,
    SavedTensor,
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)

__all__ = ["Node", "AccumulateGrad", "InvalidViewNode", "RemovableHandle", "VersionCounter",
           "SavedResult",
           "FREED_MESSAGE", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")

# torch's ``_saved_<name>`` attributes of a node class (by class name), where the node's
# ``saved_names`` do not say it: {name: getter(node)} (filled by ops.saved_attributes).
SAVED_ATTRIBUTES: dict[str, dict[str, Callable[[Node], Any]]] = {}

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_sequence = itertools.count()
ACCUMULATE_GRAD_SEQUENCE_NR = 2**64 - 1


def user_frame_site() -> str | None:
    """``file:line`` of the innermost frame outside tapegrad (where the user's code is)."""
    return _format_site(_user_frame(sys._getframe(1)))


def _user_frame(f: Any) -> tuple | None:
    """(code, line) of the innermost frame from ``f`` outward that is outside tapegrad."""
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return None if f is None else (f.f_code, f.f_lineno)


def _format_site(site: tuple | None) -> str | None:
    return None if site is None else f"{os.path.basename(site[0].co_filename)}:{site[1]}"


class VersionCounter:
    """Shared by a tensor, its views and its detached aliases; bumped by every in-place op.

    Beyond torch it remembers which op last bumped it and where in the user's code,
    so the error for a modified saved value can say who modified it.
    """

    __slots__ = ("value", "last_op", "site", "last_node_name", "views")

    def __init__(self) -> None:
        self.value = 0
        self.last_op: str | None = None
        # (code, line) of the last in-place write; made into ``file:line`` only when an
        # error message asks (an optimizer step bumps a counter per parameter).
        self.site: tuple | None = None
        self.last_node_name: str | None = None
        # Views with history that share this memory (LiveViews, made on the first one):
        # an in-place write regenerates their grad_fn, as torch does.
        self.views: Any = None

    def bump(self, op_name: str | None = None) -> None:
        self.value += 1
        self.last_op = op_name
        self.site = _user_frame(sys._getframe(1)) if op_name else None

    @property
    def last_site(self) -> str | None:
        """``file:line`` in the user's code of the last in-place write."""
        return _format_site(self.site)


class _DetachedInPlace:
    """Marks, in a tensor's ``_grad_acc`` slot, a non-leaf that ``detach_()`` cut from its
    history, so a node that saved it refuses to use it (as torch). Called like the weak
    reference that slot usually holds, it gives no AccumulateGrad node."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


DETACHED_IN_PLACE = _DetachedInPlace()
DETACHED_MESSAGE = ("Trying to use a saved tensor that has been detached in-place, i.e. with "
                    ".detach_().This is not supported, please use out-of-place `.detach()` "
                    "instead")


class LiveViews:
    """Weak references to the views with history that share one memory, keyed by id.

    Cheaper than a WeakSet on the hot path: adding is a dict store and nothing runs when
    a view dies. Dead entries are dropped when met, and all at once whenever the table
    has doubled since the last sweep, so it stays as small as the live views.
    """

    __slots__ = ("refs", "limit")

    def __init__(self) -> None:
        self.refs: dict[int, Any] = {}
        self.limit = 8

    def add(self, view: Any) -> None:
        refs = self.refs
        refs[id(view)] = weakref.ref(view)
        if len(refs) > self.limit:
            self.alive()
            self.limit = 2 * len(refs) + 8

    def alive(self) -> list:
        """The views still alive (and forget the dead)."""
        views = []
        dead = []
        for key, ref in self.refs.items():
            view = ref()
            if view is None:
                dead.append(key)
            else:
                views.append(view)
        for key in dead:
            del self.refs[key]
        return views

    def __bool__(self) -> bool:
        return bool(self.refs)


class SavedResult:
    """An op's output saved by its own node. Holding the array (not the Tensor) avoids a
    tensor -> node -> tensor cycle; the Tensor is rebuilt on demand for double backward."""

    __slots__ = ("data", "counter", "output_nr", "requires_grad")

    def __init__(self, data: np.ndarray, counter: VersionCounter, output_nr: int = 0) -> None:
        self.data = data
        self.counter = counter
        self.output_nr = output_nr


class RemovableHandle:
    """Returned by every ``register_*hook``; ``remove()`` unregisters the hook."""

    _ids = itertools.count()
    __slots__ = ("hooks_dict", "id")

    def __init__(self, hooks_dict: dict) -> None:
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def legacy_type_and_shape(dtype_legacy: str, shape: tuple) -> str:
    return f"[{dtype_legacy} [{', '.join(str(s) for s in shape)}]]"


def short_node_name(name: str | None) -> str | None:
    """``AddBackward0`` -> ``Add``, as torch names the producer of a modified tensor."""
    if name is None:
        return None
    cut = name.find("Backward")
    return name[:cut] if cut > 0 else name


def modified_error(array: np.ndarray, producer: str | None, current: int, expected: int,
                   counter: VersionCounter) -> RuntimeError:
    from ..dtypes import from_numpy_dtype
    from .anomaly import is_anomaly_enabled
    desc = legacy_type_and_shape(from_numpy_dtype(array.dtype).legacy, array.shape)
    of = f", which is output 0 of {short_node_name(producer)}," if producer else ""
    if is_anomaly_enabled():
        hint = ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere later. "
                "Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute "
                "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    msg = (f"one of the variables needed for gradient computation has been modified by an "
           f"inplace operation: {desc}{of} is at version {current}; expected version "
           f"{expected} instead. {hint}")
    if counter.last_op:
        where = f" at {counter.last_site}" if counter.last_site else ""
        msg += f" It was last modified in place by {counter.last_op}(){where}."
    return RuntimeError(msg)


def _tensor_make() -> Callable:
    """Tensor._make (tensor.py imports this module, so it is looked up on first use; an
    import statement here would cost a module-lock round trip per saved result)."""
    global _make
    if _make is None:
        from ..tensor import Tensor
        _make = Tensor._make
    return _make


_make: Callable | None = None


# Set by autograd.forward_ad: gives an output rebuilt from a saved value (for a backward
# under create_graph inside a dual level) the tangent the original output had.
adopt_tangent: Callable | None = None


class _NodeExtras:
    """What few nodes have: hooks, retained outputs, metadata (one slot of Node for all,
    so that making a node and running it in backward test one slot instead of five)."""

    __slots__ = ("tensor_pre_hooks", "retain", "pre_hooks", "post_hooks", "metadata")

    def __init__(self) -> None:
        self.tensor_pre_hooks = self.retain = self.pre_hooks = self.post_hooks = None
        self.metadata = None


def _extra(name: str) -> property:
    """A Node attribute kept in its _NodeExtras (None until set)."""
    def get(node: Node) -> Any:
        extras = node._extras
        return None if extras is None else getattr(extras, name)

    def set(node: Node, value: Any) -> None:
        extras = node._extras
        if extras is None:
            if value is None:
                return
            extras = node._extras = _NodeExtras()
        setattr(extras, name, value)

    return property(get, set)


class Node:
    """One recorded op. Subclasses are named as torch names them (``MulBackward0``) and
    implement ``backward(ns, grads) -> tuple`` returning one gradient per input slot,
    computed with the formula namespace ``ns`` (arrays, or Tensors under create_graph).
    """

    # ``_edges`` holds torch's next_functions flat: (node0, output_nr0, node1, ...), one
    # tuple per node instead of one more per edge (fewer objects for the cyclic GC to walk
    # in every graph); ``next_functions`` gives the pairs.
    __slots__ = ("_edges", "_seq", "_saved", "_versions", "_extras", "__weakref__")

    _tensor_pre_hooks = _extra("tensor_pre_hooks")   # {id: (output_nr, fn)}
    _retain = _extra("retain")                       # {output_nr: weakref to the tensor}
    _pre_hooks = _extra("pre_hooks")                 # {id: fn}
    _post_hooks = _extra("post_hooks")               # {id: fn}
    _metadata = _extra("metadata")                   # torch's node.metadata dict

    @property
    def next_functions(self) -> tuple:
        """((node or None, output_nr), ...) for each input, as torch's."""
        it = iter(self._edges)
        return tuple(zip(it, it))

    @next_functions.setter
    def next_functions(self, pairs: tuple) -> None:
        self._edges = flat_edges(pairs)

    # Names of the saved values, in order, for ``_saved_<name>`` (torch's attribute names).
    saved_names: tuple[str, ...] = ()
    # Nodes with several outputs get None for outputs that received no gradient unless
    # they ask for zeros.
    materialize_grads = True
    # Whether backward may be given the namespace that lets ``ns.mul_grad`` write into an
    # incoming gradient the engine alone holds (nodes whose formulas follow its contract).
    consumes_grad = False

    def __init__(self, next_functions: tuple) -> None:
        self._edges = flat_edges(next_functions)
        self._seq = next(_sequence)
        self._saved = ()
        self._versions = ()
        self._extras = None

    # -- what subclasses implement -------------------------------------------------
    def backward(self, ns: Any, grads: list) -> tuple:
        raise NotImplementedError(f"the derivative for '{self.name()}' is not implemented.")

    # -- saved values --------------------------------------------------------------
    def save(self, values: tuple, versions: tuple) -> None:
        self._saved = values
        self._versions = versions

    def unpack(self, create_graph: bool, index: int | None = None,
               for_backward: bool = True) -> list:
        """The saved values (only the one at ``index`` if given), version-checked: arrays,
        or Tensors when building a graph. ``for_backward`` False (``grad_fn._saved_self``)
        lets a saved tensor that was detached in place be read, as torch does."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        versions = self._versions
        if index is not None:
            saved = saved[index:index + 1]
            versions = versions[index:index + 1]
        out = []
        for item, version in zip(saved, versions):
            if version is None:                 # a plain value (Python scalar, shape, ...)
                out.append(item)
            elif type(item) is SavedResult:
                counter = item.counter
                if counter.value != version:
                    raise modified_error(item.data, self.name(), counter.value,
                                         version, counter)
                out.append(self._result_tensor(item) if create_graph else item.data)
            elif type(item) is PackedSaved:      # saved under saved_tensors_hooks
                out.append(item.unpack(self, create_graph))
            else:                               # a saved input Tensor
                if (item._grad_fn is None and item._grad_acc is DETACHED_IN_PLACE
                        and for_backward):
                    raise RuntimeError(DETACHED_MESSAGE)
                counter = item._vc              # None: never written, still at version 0
                if counter is not None and counter.value != version:
                    gf = item._grad_fn
                    raise modified_error(item._data, gf.name() if gf else None,
                                         counter.value, version, counter)
                out.append(item if create_graph else item._data)
        return out

    def _result_tensor(self, item: SavedResult):
        t = _tensor_make()(item.data, True, self, item.output_nr)
        t._counter = item.counter
        if adopt_tangent is not None:
            adopt_tangent(t, self, item.output_nr)
        return t

    def release(self) -> None:
        """Free the saved values (after a backward without retain_graph)."""
        if self._saved:
            self._saved = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_saved_attributes(cls.saved_names)

    def _lookup_saved(self, name: str) -> Any:
        """torch's ``grad_fn._saved_<key>`` / ``_raw_saved_<key>`` for this node's type;
        AttributeError where its type has no such attribute."""
        if name.startswith("_raw_saved_"):
            index = self._index_of_saved(name[11:])
            if index is not None:
                return SavedTensor(self, index)
        elif name.startswith("_saved_"):
            key = name[7:]
            table = SAVED_ATTRIBUTES.get(type(self).__name__)
            if table is not None:
                if key in table:
                    return table[key](self)
            elif key in (names := type(self).saved_names):
                if self._saved is None:
                    raise RuntimeError(FREED_MESSAGE)
                if len(self._saved) != len(names):
                    return None
                return self.unpack(True, names.index(key), for_backward=False)[0]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _index_of_saved(self, key: str) -> int | None:
        """Where torch's saved tensor ``key`` sits in this node's saved values (or None)."""
        table = SAVED_ATTRIBUTES.get(type(self).__name__)
        if table is not None:
            return getattr(table.get(key), "saved_index", None)
        names = type(self).saved_names
        return names.index(key) if key in names else None

    def __dir__(self) -> list:
        table = SAVED_ATTRIBUTES.get(type(self).__name__)
        names = table if table is not None else type(self).saved_names
        raw = [n for n in names if self._index_of_saved(n) is not None]
        # The class-wide _saved_<key> readers are listed only where this type has <key>.
        own = (n for n in super().__dir__() if type(Node.__dict__.get(n)) is not _SavedAttribute)
        return sorted({*own, *("_saved_" + n for n in names),
                       *("_raw_saved_" + n for n in raw)})

    # -- introspection ---------------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    def _sequence_nr(self) -> int:
        return self._seq

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    @property
    def requires_grad(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- hooks -------------------------------------------------------------------------
    def register_hook(self, fn: Callable) -> RemovableHandle:
        """fn(grad_inputs, grad_outputs) runs after this node; may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = {}
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """fn(grad_outputs) runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = fn
        return handle

    def add_tensor_pre_hook(self, output_nr: int, fn: Callable) -> RemovableHandle:
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        handle = RemovableHandle(self._tensor_pre_hooks)
        self._tensor_pre_hooks[handle.id] = (output_nr, fn)
        return handle


def flat_edges(pairs: tuple) -> tuple:
    """next_functions' pairs as a node stores them: (node0, output_nr0, node1, ...)."""
    if len(pairs) == 1:
        return tuple(pairs[0])
    return tuple(x for pair in pairs for x in pair)


def new_node(cls: type, edges: tuple) -> Node:
    """A node of a type that keeps Node's ``__init__``, from its flat ``edges``
    (node0, output_nr0, ...), without the type call's detour through ``__init__`` (the
    hot path of every elementwise op)."""
    node = _new_object(cls)
    node._edges = edges
    node._seq = next(_sequence)
    node._saved = ()
    node._versions = ()
    node._extras = None
    return node


_new_object = object.__new__


class _SavedAttribute:
    """``_saved_<key>`` / ``_raw_saved_<key>`` on every node, resolved for the node's type
    when read. These replace a ``Node.__getattr__``, whose mere presence makes every
    attribute read of every node several times slower (no specialised lookups)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        return node._lookup_saved(self.name)


def install_saved_attributes(keys: Any) -> None:
    """Make ``_saved_<key>`` and ``_raw_saved_<key>`` readable on nodes (each node type
    still decides whether it has them); called for every node class's ``saved_names``
    and for the keys of SAVED_ATTRIBUTES."""
    for key in keys:
        for name in ("_saved_" + key, "_raw_saved_" + key):
            if name not in Node.__dict__:
                setattr(Node, name, _SavedAttribute(name))


class InvalidViewNode(Node):
    """The grad_fn of a view that can no longer be differentiated through: one of several
    views one op returned (unbind, split), whose memory was then written in place. Reading
    the view's grad_fn or running backward through it raises ``message``, as torch does."""

    __slots__ = ("message",)

    def backward(self, ns: Any, grads: list) -> tuple:
        raise RuntimeError(self.message)


class AccumulateGrad(Node):
    """The sink of a leaf that requires grad: sums incoming gradients into ``.grad``.

    The engine handles it specially (tensor hooks live on the leaf, and accumulation
    depends on create_graph), so it has no ``backward`` formula of its own.
    """

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        super().__init__(())
        self._seq = ACCUMULATE_GRAD_SEQUENCE_NR
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"
