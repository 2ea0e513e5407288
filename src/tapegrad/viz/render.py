"""The drawn graph: ``Graph`` (SVG for Jupyter; ``save`` to .svg, .dot, .png, .pdf)."""

from __future__ import annotations

import os
import shutil
import subprocess
from xml.sax.saxutils import escape

from .layout import Layout, layout
from .model import GraphModel

__all__ = ["Graph", "COLOURS"]

CHAR_W = 7.2        # width of one character at the font size used (monospace 12px)
LINE_H = 16.0
PAD_X, PAD_Y = 10.0, 6.0

# kind -> (fill, stroke); leaves, parameters and the output told apart by colour.
COLOURS = {
    "op": ("#e8eef7", "#4a6fa5"),
    "leaf": ("#d9f2d9", "#3c8d3c"),
    "param": ("#fff2cc", "#b8860b"),
    "output": ("#f8d7da", "#b03a48"),
    "saved": ("#eeeeee", "#888888"),
}


def box_size(lines: list[str]) -> tuple[float, float]:
    return (max(len(s) for s in lines) * CHAR_W + 2 * PAD_X, len(lines) * LINE_H + 2 * PAD_Y)


class Graph:
    """A drawn autograd graph. Jupyter shows it (``_repr_svg_``); ``save`` writes it to a file."""

    def __init__(self, model: GraphModel) -> None:
        self.model = model
        self.layout: Layout = layout({b.id: box_size(b.lines) for b in model.boxes.values()},
                                     model.edges)

    def _repr_svg_(self) -> str:
        return self.svg()

    def svg(self) -> str:
        """The picture as an SVG document (laid out by tapegrad; no Graphviz needed)."""
        lay, model = self.layout, self.model
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
               f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" '
               'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">',
               '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
               'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
               '<rect width="100%" height="100%" fill="white"/>']
        for (a, b), pts in lay.edges.items():
            d = _smooth_path(pts)
            dash = ' stroke-dasharray="4 3"' if (a, b) in model.dashed else ""
            out.append(f'<path class="edge" data-from="{a}" data-to="{b}" d="{d}" fill="none" '
                       f'stroke="#555" stroke-width="1.2"{dash} marker-end="url(#arrow)"/>')
        for box in model.boxes.values():
            x, y, w, h = lay.boxes[box.id]
            fill, stroke = COLOURS[box.kind]
            rx = 8 if box.kind == "op" else 2
            out.append(f'<g class="node {box.kind}" id="{box.id}">')
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                       f'rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
            for i, line in enumerate(box.lines):
                weight = ' font-weight="bold"' if i == 0 else ""
                ty = y + PAD_Y + (i + 0.75) * LINE_H
                out.append(f'<text x="{x + w / 2:.1f}" y="{ty:.1f}" text-anchor="middle"'
                           f'{weight}>{escape(line)}</text>')
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def dot(self) -> str:
        """The graph in Graphviz's DOT language (inputs at the top, output at the bottom)."""
        out = ["digraph tapegrad {", '  graph [rankdir=TB];',
               '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11];']
        for box in self.model.boxes.values():
            fill, stroke = COLOURS[box.kind]
            label = "\\n".join(_dot_escape(s) for s in box.lines)
            out.append(f'  {box.id} [label="{label}", fillcolor="{fill}", color="{stroke}"];')
        for a, b in self.model.edges:
            style = " [style=dashed]" if (a, b) in self.model.dashed else ""
            out.append(f"  {a} -> {b}{style};")
        out.append("}")
        return "\n".join(out) + "\n"

    def save(self, path: str | os.PathLike) -> str:
        """Write ``.svg`` or ``.dot`` (always), ``.png``/``.pdf`` (with Graphviz's ``dot``)."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext == ".svg":
            text = self.svg()
        elif ext in (".dot", ".gv"):
            text = self.dot()
        elif ext in (".png", ".pdf"):
            exe = shutil.which("dot")
            if exe is None:
                raise RuntimeError(
                    f"Saving as {ext} needs Graphviz's `dot` program, which is not on PATH. "
                    "Install Graphviz (apt-get install graphviz, brew install graphviz or "
                    "conda install graphviz), or save as .svg, which needs nothing.")
            subprocess.run([exe, f"-T{ext[1:]}", "-o", path], input=self.dot().encode(),
                           check=True)
            return path
        else:
            raise ValueError(f"cannot save a graph as '{ext or path}': use .svg, .dot, .png "
                             "or .pdf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _smooth_path(pts: list[tuple[float, float]]) -> str:
    """Vertical cubic curves through the polyline's points (edges leave and enter vertically)."""
    (x0, y0) = pts[0]
    d = [f"M {x0:.1f} {y0:.1f}"]
    for (xa, ya), (xb, yb) in zip(pts, pts[1:], strict=False):
        if xa == xb:
            d.append(f"L {xb:.1f} {yb:.1f}")
        else:
            my = (ya + yb) / 2
            d.append(f"C {xa:.1f} {my:.1f} {xb:.1f} {my:.1f} {xb:.1f} {yb:.1f}")
    return " ".join(d)
