"""``trace()``: remember the outputs of ops recorded during a forward pass, for drawing.

A Node does not keep its output, so without a trace only leaves, the root and saved
values have values to show. Inside ``with viz.trace() as tr:`` every recorded op reports
its output; the trace keeps, per node (weakly: the graph's lifetime is unchanged), the
output's shape and dtype and a copy of it when it is small.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..autograd.graph import Node
from ..ops import define
from ..tensor import Tensor
from .model import SMALL, describe

__all__ = ["Trace", "trace"]


class Trace:
    """Outputs seen while active: ``outputs[node] = (shape and dtype, small copy or None)``."""

    def __init__(self) -> None:
        self.outputs: weakref.WeakKeyDictionary[Node, tuple[str, Any]] = \
            weakref.WeakKeyDictionary()

    def _see(self, node: Node, out: Tensor) -> None:
        data = out._data
        self.outputs[node] = (describe(out), data.copy() if data.size <= SMALL else None)

    def __enter__(self) -> Trace:
        define.record_observers.append(self._see)
        return self

    def __exit__(self, *exc: Any) -> None:
        define.record_observers.remove(self._see)


def trace() -> Trace:
    """with tapegrad.viz.trace() as tr: ...  then draw(root, trace=tr) shows op outputs."""
    return Trace()
