"""Seeing the chain rule: the autograd graph as a picture (``draw``) and as text (``explain``).

``draw`` lays the graph out itself (a layered DAG layout, no Graphviz needed) and returns a
``Graph`` that Jupyter shows as SVG; ``explain`` narrates a real backward pass node by node.
The command line (``python -m tapegrad.viz "y = x**2 * sin(x)" --at x=3``) does both.
"""

from __future__ import annotations

from ..tensor import Tensor
from .explain import RULES, explain, rule_for
from .model import build_model, frame_names
from .plot import line_chart, save_line_chart
from .png import encode_png, write_png
from .render import Graph
from .trace import Trace, trace

__all__ = ["draw", "explain", "trace", "Trace", "Graph", "RULES", "rule_for",
           "line_chart", "save_line_chart", "encode_png", "write_png"]


def draw(root: Tensor, params: dict[str, Tensor] | None = None, show_values: bool = True,
         show_grads: bool = True, show_saved: bool = False, collapse: int = 4,
         names: dict[str, Tensor] | None = None, trace: Trace | None = None) -> Graph:
    """draw(root, params=None, show_values=True, show_grads=True, show_saved=False) -> Graph.

    Leaves are named from ``params`` (e.g. ``dict(model.named_parameters())``), then from
    ``names``, then from the caller's variables. Chains of ``collapse`` or more identical
    ops become one box with a count (0 turns that off). With ``trace`` (from
    ``with viz.trace() as tr:`` around the forward pass) op boxes show their outputs.
    """
    found = frame_names(1, root)
    if names:
        found.update({id(t): n for n, t in names.items()})
    return Graph(build_model(root, params, found, show_values, show_grads, show_saved,
                             collapse, trace))
