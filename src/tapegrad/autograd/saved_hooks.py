"""Saved-tensor hooks: ``saved_tensors_hooks``, ``save_on_cpu``, ``disable_saved_tensors_hooks``.

While a ``saved_tensors_hooks(pack, unpack)`` context is active, every tensor an op saves
for backward (an input, its own output, a custom Function's ``ctx.save_for_backward``)
is handed to ``pack``; what ``pack`` returns is stored instead of the tensor, and
``unpack`` turns it back into a tensor each time backward (or ``grad_fn._saved_x``)
needs it. This is what ``tapegrad.utils.checkpoint`` is built on.

Cost when no hooks are active: the save sites test ``saved_hooks_active`` (a module
list, empty unless some thread is inside a hooks context: cheaper to test than a
thread-local) and do nothing else. Hooks themselves are thread-local, like grad mode.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "PackedSaved", "SavedTensor", "pack_saved_values", "saved_hooks_state",
           "saved_hooks_active"]

PACK_INPLACE_MESSAGE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
    "pack hook cannot be modified by in-place operations as this can lead to unexpected "
    "side-effects. Please open an issue if you need to perform in-place operations on the "
    "input to a pack hook.")


class _HooksState(threading.local):
    # (pack, unpack) pairs, innermost last; a tuple so the hot-path test is one truth test.
    stack: tuple = ()
    # The message to raise when hooks are registered, while disable_saved_tensors_hooks is on.
    disabled_message: str | None = None


saved_hooks_state = _HooksState()
# One entry per hooks context open in any thread; only ever mutated in place, so that
# modules may import it by name and test it as a plain global.
saved_hooks_active: list = []


def _Tensor() -> type:
    from ..tensor import Tensor
    return Tensor


class PackedSaved:
    """A saved tensor after its pack hook ran: what pack returned, plus what is needed to
    rebuild a tensor attached to the same place in the graph when it is unpacked."""

    __slots__ = ("packed", "unpack_hook", "grad_fn", "output_nr", "requires_grad", "grad_acc",
                 "is_output")

    def __init__(self, packed: Any, unpack_hook: Callable, tensor: Any, is_output: bool
                 ) -> None:
        self.packed = packed
        self.unpack_hook = unpack_hook
        self.is_output = is_output
        # A saved output points back at its own node; holding it here would be a cycle.
        self.grad_fn = None if is_output else tensor._grad_fn
        self.output_nr = tensor._output_nr
        self.requires_grad = tensor._requires_grad
        self.grad_acc = tensor._grad_acc

    def unpack(self, node: Any, as_tensor: bool) -> Any:
        """Run the unpack hook; a Tensor (on the original's graph edge) or its array."""
        Tensor = _Tensor()
        t = self.unpack_hook(self.packed)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        if not as_tensor:
            return t._data
        grad_fn = node if self.is_output else self.grad_fn
        if grad_fn is None and not self.requires_grad:
            return t.detach() if t._requires_grad else t
        # As torch does: a fresh tensor with the unpacked data, on the saved tensor's edge.
        out = Tensor._make(t._data, True, grad_fn, self.output_nr)
        out._counter = t._counter
        if grad_fn is None:
            out._grad_acc = self.grad_acc
        return out


def pack_saved_values(node: Any, output: Any = None) -> None:
    """Hand each tensor ``node`` just saved to the innermost pack hook (saved_tensors_hooks).

    ``output`` is the op's output Tensor when the caller has it, so that pack sees the very
    tensor the user gets back (as in torch) for a saved result.
    """
    stack = saved_hooks_state.stack
    if not stack:                           # the hooks are another thread's
        return
    pack, unpack = stack[-1]
    saved = list(node._saved)
    for i, item in enumerate(saved):
        if node._versions[i] is not None:   # not None and not a plain value
            saved[i] = _pack_one(node, item, pack, unpack, output)
    node._saved = tuple(saved)


def _pack_one(node: Any, item: Any, pack: Callable, unpack: Callable, output: Any = None
              ) -> Any:
    """``item`` (a saved input Tensor or SavedResult) run through ``pack``."""
    from .graph import SavedResult
    if type(item) is SavedResult:
        if output is not None and output._counter is item.counter:
            tensor = output
        else:
            tensor = node._result_tensor(item)
        is_output = True
    elif isinstance(item, _Tensor()):
        tensor = item
        is_output = False
    else:
        return item
    before = tensor._counter.value
    packed = pack(tensor)
    if tensor._counter.value != before:
        raise RuntimeError(PACK_INPLACE_MESSAGE)
    return PackedSaved(packed, unpack, tensor, is_output)


class SavedTensor:
    """``grad_fn._raw_saved_<name>``: one saved value of a node, whose hooks can be set."""

    __slots__ = ("node", "index")

    def __init__(self, node: Any, index: int) -> None:
        self.node = node
        self.index = index

    def unpack(self) -> Any:
        """The saved value, as ``grad_fn._saved_<name>`` gives it."""
        values = self.node.unpack(True, self.index)
        return values[0] if values else None

    def register_hooks(self, pack_hook: Callable[[Any], Any],
                       unpack_hook: Callable[[Any], Any]) -> None:
        """Pack this saved value now with ``pack_hook``; ``unpack_hook`` gives it back."""
        from .graph import FREED_MESSAGE
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("register_hooks(): pack_hook and unpack_hook must be callables")
        node = self.node
        saved = node._saved
        if saved is None:
            raise RuntimeError("Calling register_hooks on a saved tensor after it has been "
                               "freed. " + FREED_MESSAGE.split(". ", 1)[1]
                               .replace("saved tensors after", "saved variables after"))
        item = saved[self.index] if self.index < len(saved) else None
        if item is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is "
                               "forbidden")
        if type(item) is PackedSaved:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set. Hint: only one pair of hooks is allowed at "
                               "a time.")
        if node._versions[self.index] is None:  # a Python number: hooks never apply
            return
        node._saved = (*saved[:self.index], _pack_one(node, item, pack_hook, unpack_hook),
                       *saved[self.index + 1:])


class saved_tensors_hooks:
    """torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook): context manager."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]
                 ) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        message = saved_hooks_state.disabled_message
        if message is not None:
            raise RuntimeError(message)
        saved_hooks_state.stack = (*saved_hooks_state.stack, (self.pack_hook,
                                                              self.unpack_hook))
        saved_hooks_active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        saved_hooks_state.stack = saved_hooks_state.stack[:-1]
        saved_hooks_active.remove(self)


class save_on_cpu(saved_tensors_hooks):
    """torch.autograd.graph.save_on_cpu(pin_memory=False, device_type='cuda').

    tapegrad tensors always live on the CPU, so, as torch does for CPU tensors, pack
    keeps ``(device, tensor.cpu())`` (the same tensor) and unpack returns it.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor: Any) -> tuple:
            return (tensor.device, tensor.cpu())

        def unpack_from_cpu(packed: tuple) -> Any:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """torch.autograd.graph.disable_saved_tensors_hooks(error_message): registering
    saved-tensor hooks inside raises RuntimeError(error_message)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if saved_hooks_state.stack:
            raise RuntimeError(self.error_message)
        self.previous = saved_hooks_state.disabled_message
        saved_hooks_state.disabled_message = self.error_message

    def __exit__(self, *exc: Any) -> None:
        saved_hooks_state.disabled_message = self.previous

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper
