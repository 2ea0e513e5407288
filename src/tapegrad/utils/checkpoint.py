"""Activation checkpointing: trade compute for memory (torch.utils.checkpoint).

``checkpoint(fn, *args, use_reentrant=False)`` runs ``fn`` normally but, through
saved-tensor hooks, keeps none of the tensors its ops save for backward: each is
replaced by an empty holder. The first time backward needs one of them, ``fn`` is run
again (with the RNG state of the original forward, so dropout draws the same mask)
under hooks that fill the holders, and stops as soon as all of them are filled.
Gradients flow through the graph recorded in the original forward, so
``autograd.grad``, ``create_graph`` and higher order work unchanged. Its options are
torch's: ``context_fn`` (a context around the forward and one around each recomputation),
``determinism_check``, ``debug`` (op logs of both runs on a mismatch, in
``_checkpoint_debug``) and ``early_stop``, with the process-wide overrides
``set_checkpoint_early_stop`` and ``set_checkpoint_debug_enabled``.

``use_reentrant=True`` is torch's older variant: ``fn`` runs under ``no_grad``, its
output gets a ``CheckpointFunctionBackward`` node, and that node's backward reruns
``fn`` on detached inputs and calls ``backward`` inside backward. As in torch it
cannot be used with ``autograd.grad`` or ``backward(inputs=...)``, and it is the default
(with torch's warning) when ``use_reentrant`` is not passed.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..autograd.engine import is_checkpoint_valid
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.grad_mode import state as grad_state
from ..autograd.graph import modified_error
from ..autograd.saved_hooks import saved_tensors_hooks
from ..creation import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn",
           "set_checkpoint_early_stop", "set_checkpoint_debug_enabled"]

_USE_REENTRANT_WARNING = (
    "{name}: the use_reentrant parameter should be passed explicitly. {when} "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants.")
_DEBUG_TIP = ("\nTip: To see a more detailed error message, either pass `debug=True` to\n"
              "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block\n"
              "with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to\n"
              "enable checkpoint\u2011debug mode globally.\n")
_SUPPRESSED = ("torch.utils.checkpoint: the forward context provided by context_fn suppressed "
               "an exception raised during the checkpointed forward. This is not supported "
               "because checkpoint cannot return a value for a failed forward.")

# Set by set_checkpoint_early_stop / set_checkpoint_debug_enabled; None defers to the
# argument of each checkpoint call.
_early_stop_override: bool | None = None
_debug_override: bool | None = None


class CheckpointError(RuntimeError):
    """torch.utils.checkpoint.CheckpointError: recomputation did not match the forward."""


def _common_options(use_reentrant: bool | None, kwargs: dict, name: str, when: str
                    ) -> tuple[bool, bool]:
    """(use_reentrant, preserve_rng_state), taking the latter out of ``kwargs``; warns as
    torch does when use_reentrant was not given, and then uses the reentrant variant."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING.format(name=name, when=when), UserWarning,
                      stacklevel=3)
        use_reentrant = True
    return use_reentrant, kwargs.pop("preserve_rng_state", True)


def _no_kwargs(kwargs: dict) -> None:
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """torch.utils.checkpoint.check_backward_validity(inputs): warn if none requires grad."""
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


def detach_variable(inputs: tuple) -> tuple:
    """torch.utils.checkpoint.detach_variable(inputs): detached copies keeping requires_grad."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for t in inputs:
        if isinstance(t, Tensor):
            d = t.detach()
            d.requires_grad = t.requires_grad
            t = d
        out.append(t)
    return tuple(out)


class _fork_rng:
    """Run a block with the RNG state of an earlier moment, then restore the current one."""

    def __init__(self, state: Tensor | None) -> None:
        self.state = state

    def __enter__(self) -> None:
        if self.state is not None:
            self.outer = get_rng_state()
            set_rng_state(self.state)

    def __exit__(self, *exc: Any) -> None:
        if self.state is not None:
            set_rng_state(self.outer)


# ---------------------------------------------------------------------------------------
# Non-reentrant checkpoint (saved-tensor hooks)
# ---------------------------------------------------------------------------------------


class _Holder:
    """Stands in the graph for one saved tensor; filled by recomputation, emptied on use."""

    __slots__ = ("value", "__weakref__")

    def __init__(self) -> None:
        self.value: Tensor | None = None


class _StopRecomputation(Exception):
    pass


class _Frame:
    """One checkpointed call: how to recompute it, and the holders its forward handed out."""

    def __init__(self, recompute: Callable[[], Any], early_stop: bool,
                 check_metadata: bool, on_error: Callable[[Exception], Any] | None) -> None:
        self.recompute = recompute
        self.early_stop = early_stop
        self.check_metadata = check_metadata
        self.on_error = on_error       # debug mode: re-raises with the logs of both runs
        self.holders: list[weakref.ref] = []
        self.metadata: list[tuple] = []

    def pack(self, t: Tensor) -> _Holder:
        holder = _Holder()
        self.holders.append(weakref.ref(holder))
        self.metadata.append((tuple(t.shape), t.dtype))
        return holder

    def unpack(self, holder: _Holder) -> Tensor:
        if holder.value is None:
            try:
                self._refill()
            except CheckpointError as e:
                if self.on_error is None:
                    raise
                self.on_error(e)
        value = holder.value
        holder.value = None          # each recomputed value is used once, then freed
        return value

    def _refill(self) -> None:
        """Rerun the function, putting each tensor it saves into the matching holder."""
        count = 0
        total = len(self.holders)

        def pack_recomputed(t: Tensor) -> Tensor:
            nonlocal count
            t = t.detach() if t.requires_grad else t
            if count >= total:
                raise CheckpointError("torch.utils.checkpoint: trying to save more tensors "
                                      "during recomputation than during the original forward "
                                      "pass.\n" + _DEBUG_TIP)
            holder = self.holders[count]()
            if holder is not None:
                holder.value = t
            count += 1
            if self.early_stop and count == total:
                raise _StopRecomputation
            return t

        try:
            with saved_tensors_hooks(pack_recomputed, lambda t: t), enable_grad():
                self.recompute()
        except _StopRecomputation:
            pass
        if count != total:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{total}\nNumber of tensors saved during recomputation: {count}.\n"
                + _DEBUG_TIP)
        if self.check_metadata:
            self._check_metadata()

    def _check_metadata(self) -> None:
        lines = ""
        for i, (ref, (shape, dtype)) in enumerate(zip(self.holders, self.metadata,
                                                      strict=True)):
            holder = ref()
            if holder is None or holder.value is None:
                continue
            got = (tuple(holder.value.shape), holder.value.dtype)
            if got != (shape, dtype):
                lines += (f"tensor at position {i}:\nsaved metadata: "
                          f"{_meta_str(shape, dtype)}\nrecomputed metadata: "
                          f"{_meta_str(*got)}\n")
        if lines:
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following "
                                  "tensors have different metadata than during the forward "
                                  f"pass.\n{lines}.\n" + _DEBUG_TIP)


def _meta_str(shape: tuple, dtype: Any) -> str:
    return (f"{{'shape': torch.Size({list(shape)}), 'dtype': {dtype}, "
            "'device': device(type='cpu')}")


def noop_context_fn() -> tuple[contextlib.nullcontext, contextlib.nullcontext]:
    """torch.utils.checkpoint.noop_context_fn(): the default context_fn, two null contexts."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _checkpoint_without_reentrant(function: Callable, preserve_rng_state: bool,
                                  context_fn: Callable[[], tuple], determinism_check: str,
                                  debug: bool, early_stop: bool, args: tuple,
                                  kwargs: dict) -> Any:
    on_error = None
    if debug if _debug_override is None else _debug_override:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        from ._checkpoint_debug import debug_context_and_error
        context_fn, on_error = debug_context_and_error()
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    if not grad_state.grad_enabled:
        return function(*args, **kwargs)
    rng_state = get_rng_state() if preserve_rng_state else None
    versions = [(t, t._counter.value) for t in args if isinstance(t, Tensor)]

    def recompute() -> None:
        for t, version in versions:      # the inputs are saved tensors: version-checked
            if t._counter.value != version:
                gf = t._grad_fn
                raise modified_error(t._data, type(gf).__name__ if gf else None,
                                     t._counter.value, version, t._counter)
        with _fork_rng(rng_state), recompute_context:
            function(*args, **kwargs)

    frame = _Frame(recompute, early_stop if _early_stop_override is None
                   else _early_stop_override, determinism_check == "default", on_error)
    suppressed = True                    # until the function returns inside the context
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        result = function(*args, **kwargs)
        suppressed = False
    if suppressed:
        raise RuntimeError(_SUPPRESSED)
    return result


# ---------------------------------------------------------------------------------------
# Reentrant checkpoint (a custom Function that calls backward inside backward)
# ---------------------------------------------------------------------------------------


class CheckpointFunction(Function):
    """The reentrant checkpoint: forward under no_grad; backward recomputes and backprops."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        from ..autograd.api import backward as run_backward
        if not is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors, strict=True):
            inputs[i] = t
        with _fork_rng(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads, strict=False)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        run_backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, *(t.grad if isinstance(t, Tensor) else None for t in detached))


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs: Any) -> Any:
    """torch.utils.checkpoint.checkpoint(function, *args, use_reentrant=None,
    context_fn=noop_context_fn, determinism_check='default', debug=False, early_stop=True,
    preserve_rng_state=True, **kwargs).

    ``debug=True`` logs the ops that record a graph node (tapegrad has no dispatcher to log
    every op through); see ``_checkpoint_debug``.
    """
    use_reentrant, preserve = _common_options(
        use_reentrant, kwargs, "torch.utils.checkpoint",
        "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
        "exception.")
    if use_reentrant:
        _no_kwargs(kwargs)
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, early_stop, args, kwargs)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """torch.utils.checkpoint.set_checkpoint_early_stop(enable): overrides ``early_stop`` of
    the checkpoints whose forward runs inside (their backward may run outside)."""
    global _early_stop_override
    previous, _early_stop_override = _early_stop_override, enable
    try:
        yield
    finally:
        _early_stop_override = previous


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """torch.utils.checkpoint.set_checkpoint_debug_enabled(enabled): overrides ``debug`` of
    the checkpoints called inside; None defers to each call's argument."""
    global _debug_override
    previous, _debug_override = _debug_override, enabled
    try:
        yield
    finally:
        _debug_override = previous


def checkpoint_sequential(functions: Any, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """torch.utils.checkpoint.checkpoint_sequential(functions, segments, input,
    use_reentrant=None, preserve_rng_state=True): checkpoint all segments but the last."""
    use_reentrant, preserve = _common_options(
        use_reentrant, kwargs, "torch.utils.checkpoint.checkpoint_sequential",
        "In version 2.9 we will raise an exception if use_reentrant is not passed.")
    _no_kwargs(kwargs)
    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start: int, stop: int) -> Callable:
        def forward(x: Any) -> Any:
            for fn in functions[start:stop]:
                x = fn(x)
            return x
        return forward

    size = len(functions) // segments
    start = 0
    for _ in range(segments - 1):
        input = checkpoint(run(start, start + size), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
        start += size
    return run(start, len(functions))(input)
