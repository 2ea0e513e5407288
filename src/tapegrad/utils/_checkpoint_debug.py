"""checkpoint(..., debug=True): log the ops of the forward and of the recomputation, and
on a mismatch raise a CheckpointError that shows both logs with where each op ran.

torch logs every dispatched op through a logging tensor mode. tapegrad has no dispatcher:
it logs each op that records a graph node (``define.record_observers``), i.e. each op with
an input that requires grad, the ones whose saved tensors checkpoint manages. Lines read
``$3: f64[2, 4] = MmBackward0`` (output number, output dtype and shape, the op's node),
and each op's stack shows the user's frames (file:line:function, innermost first),
tapegrad's own dropped.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from ..autograd.graph import _PACKAGE_DIR
from ..ops import define

_TEMPLATE = """\
 An error happened while unpacking tensors; dumping logs of latest computation
because you passed `debug=True` to `torch.utils.checkpoint.checkpoint()`.
Scroll all the way down for guidance on how to navigate these logs.

+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        1. Stack traces of the operators that ran in the original forward     |
+------------------------------------------------------------------------------+

{forward_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        2. Stack traces of the operators that ran during recomputation        |
+------------------------------------------------------------------------------+

{recompute_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|       3. Log of operators in the original forward and recomputation          |
+------------------------------------------------------------------------------+
(Scroll up to correlate stack traces with each operation listed below. This
 helps identify their source in the code.)

IMPORTANT: Differences in "detach" calls between the original forward and the
           recomputation are expected. They are introduced by the checkpointing
           mechanism and can be ignored.

Operations executed during the original forward:

{forward_ops}

Operations executed during recomputation:

{recompute_ops}

+------------------------------------------------------------------------------+
 ERROR: Detected non-determinism while running activation checkpointing

 You are seeing this error because you passed `debug=True` to checkpoint and
 tensors to be saved during the original forward and differ between those saved
 during recomputation. This can happen if different operators were ran in the
 original forward and in the recomputation.

 To identify where the mismatch may be coming from, you can do the following:

 1) Compare the operators ran during original forward and recomputation to
    see where they differ. These operators are printed above in the order they
    were executed.

 2) Review the stack trace for each operator to locate its invocation source.
    Each operator's stack trace is printed in their execution order.

 Note that the logs can be quite long. Here's how they are structured:
 (Tip: you can Ctrl-f for these headers)

 1. Stack traces of the operators that ran in the original forward
 2. Stack traces of the operators that ran during recomputation
 3. Log of operators in the original forward and recomputation
 4. Error message                                             <--- You are here
--------------------------------------------------------------------------------
"""

# torch's short dtype names in its op logs
_SHORT_DTYPES = {"float64": "f64", "float32": "f32", "float16": "f16", "bfloat16": "bf16",
                 "complex64": "c64", "complex128": "c128", "int64": "i64", "int32": "i32",
                 "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "b8"}


class _OpLog:
    """The ops recorded while its context is active: a line and a user stack for each."""

    def __init__(self) -> None:
        self.lines: list[str] | None = None
        self.stacks: list[list[str]] = []

    def _see(self, node: Any, out: Any) -> None:
        dtype = str(out.dtype).removeprefix("torch.")
        self.lines.append(f"${len(self.lines) + 1}: {_SHORT_DTYPES.get(dtype, dtype)}"
                          f"{list(out.shape)} = {type(node).__name__}")
        self.stacks.append([f"{f.filename}:{f.lineno}:{f.name}"      # innermost first
                            for f in reversed(traceback.extract_stack())
                            if not f.filename.startswith(_PACKAGE_DIR)])

    def __enter__(self) -> _OpLog:      # entered again by each recomputation: the latest wins
        self.lines, self.stacks = [], []
        define.record_observers.append(self._see)
        return self

    def __exit__(self, *exc: Any) -> None:
        define.record_observers.remove(self._see)

    def traces(self, label: str) -> str:
        total = len(self.lines)
        return "".join(f"{line}   ({i + 1} of {total} in {label})\n\n" + "\n".join(stack)
                       + "\n\n\n" for i, (line, stack) in
                       enumerate(zip(self.lines, self.stacks, strict=True)))


def debug_context_and_error() -> tuple[Callable[[], tuple], Callable[[Exception], NoReturn]]:
    """(context_fn logging the forward and the recomputation, a function that re-raises a
    CheckpointError with both logs)."""
    from .checkpoint import CheckpointError
    forward, recompute = _OpLog(), _OpLog()

    def context_fn() -> tuple:
        return forward, recompute

    def raise_with_logs(error: Exception) -> NoReturn:
        raise CheckpointError(_TEMPLATE.format(
            forward_traces=forward.traces("original"),
            recompute_traces=recompute.traces("recompute"),
            forward_ops="\n".join(forward.lines or ()),
            recompute_ops="\n".join(recompute.lines or ()))) from error
    return context_fn, raise_with_logs
