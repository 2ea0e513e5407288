"""Line charts rasterised into a pixel array (NumPy only), e.g. a training loss curve.

``line_chart`` draws axes, tick marks with numeric labels (a built-in 3x5 pixel font) and
the curve; ``save_line_chart`` writes it as a PNG with ``viz.png``. Where a value lands:
``ChartFrame.to_pixel`` maps (step, value) to (column, row), which is what tests check.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .png import write_png

__all__ = ["ChartFrame", "line_chart", "save_line_chart"]

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GRID = (225, 225, 225)
CURVE = (31, 119, 180)

# 3x5 glyphs, one string of 15 bits per character, rows top to bottom
_FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111111100111", "+": "000010111010000", " ": "000000000000000",
}
_SCALE = 2                                   # font pixels are 2x2 screen pixels
_GLYPH_W, _GLYPH_H = 4 * _SCALE, 5 * _SCALE  # advance includes one column of spacing


class ChartFrame(NamedTuple):
    """The plot area in pixels (left..right, top..bottom, inclusive) and the data ranges."""

    left: int
    top: int
    right: int
    bottom: int
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def to_pixel(self, x: float, y: float) -> tuple[int, int]:
        """(column, row) of the data point (x, y)."""
        col = self.left + (x - self.x_lo) / (self.x_hi - self.x_lo) * (self.right - self.left)
        row = self.bottom - (y - self.y_lo) / (self.y_hi - self.y_lo) * (self.bottom - self.top)
        return int(round(col)), int(round(row))


def _span(lo: float, hi: float) -> tuple[float, float]:
    if hi > lo:
        return lo, hi
    return lo - 0.5, hi + 0.5                # a flat series still gets a visible range


def frame_for(xs: np.ndarray, ys: np.ndarray, width: int, height: int) -> ChartFrame:
    """Where ``line_chart`` puts the plot area for these data and this image size."""
    x_lo, x_hi = _span(float(xs.min()), float(xs.max()))
    y_lo, y_hi = _span(float(ys.min()), float(ys.max()))
    return ChartFrame(left=16 + 6 * _GLYPH_W, top=12, right=width - 16, bottom=height - 32,
                      x_lo=x_lo, x_hi=x_hi, y_lo=y_lo, y_hi=y_hi)


def _line(img: np.ndarray, p: tuple[int, int], q: tuple[int, int], colour: tuple,
          thickness: int = 1) -> None:
    """Straight segment p -> q (columns, rows), one sample per pixel along the long axis."""
    steps = max(abs(q[0] - p[0]), abs(q[1] - p[1])) + 1
    cols = np.rint(np.linspace(p[0], q[0], steps)).astype(int)
    rows = np.rint(np.linspace(p[1], q[1], steps)).astype(int)
    h, w = img.shape[:2]
    for dr in range(thickness):
        for dc in range(thickness):
            r, c = rows + dr - thickness // 2, cols + dc - thickness // 2
            ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            img[r[ok], c[ok]] = colour


def _text(img: np.ndarray, text: str, col: int, row: int, colour: tuple = BLACK) -> None:
    """Draw ``text`` with its top-left corner at (col, row); unknown characters are blank."""
    for i, ch in enumerate(text):
        bits = np.array([b == "1" for b in _FONT.get(ch, _FONT[" "])]).reshape(5, 3)
        glyph = np.kron(bits, np.ones((_SCALE, _SCALE), dtype=bool))
        r0, c0 = row, col + i * _GLYPH_W
        region = img[r0:r0 + glyph.shape[0], c0:c0 + glyph.shape[1]]
        region[glyph[:region.shape[0], :region.shape[1]]] = colour


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten) within [lo, hi]."""
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= 0.7 * raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:.3g}".replace("e-0", "e-").replace("e+0", "e+")


def line_chart(ys: Sequence[float] | np.ndarray, xs: Sequence[float] | np.ndarray | None = None,
               width: int = 640, height: int = 400, colour: tuple = CURVE) -> np.ndarray:
    """An (height, width, 3) uint8 image of the curve through (xs[i], ys[i]) (xs defaults to
    0, 1, 2, ...), with axes, grid lines, tick marks and tick labels."""
    y = np.asarray(ys, dtype=np.float64).reshape(-1)
    x = np.arange(len(y), dtype=np.float64) if xs is None else np.asarray(xs, np.float64)
    if len(y) == 0 or len(x) != len(y) or not np.isfinite(y).all():
        raise ValueError("line_chart: need at least one finite value, and as many xs as ys")
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[...] = WHITE
    f = frame_for(x, y, width, height)
    for value in _ticks(f.y_lo, f.y_hi):
        _, row = f.to_pixel(f.x_lo, value)
        _line(img, (f.left, row), (f.right, row), GRID)
        _line(img, (f.left - 5, row), (f.left, row), BLACK)
        text = _label(value)
        _text(img, text, f.left - 8 - len(text) * _GLYPH_W, row - _GLYPH_H // 2)
    for value in _ticks(f.x_lo, f.x_hi, 8):
        col, _ = f.to_pixel(value, f.y_lo)
        _line(img, (col, f.bottom), (col, f.bottom + 5), BLACK)
        text = _label(value)
        _text(img, text, col - len(text) * _GLYPH_W // 2, f.bottom + 10)
    _line(img, (f.left, f.top), (f.left, f.bottom), BLACK)
    _line(img, (f.left, f.bottom), (f.right, f.bottom), BLACK)
    points = [f.to_pixel(a, b) for a, b in zip(x, y)]
    for p, q in zip(points, points[1:] or points):
        _line(img, p, q, colour, thickness=2)
    return img


def save_line_chart(path: str | os.PathLike, ys: Sequence[float] | np.ndarray,
                    xs: Sequence[float] | np.ndarray | None = None, width: int = 640,
                    height: int = 400) -> None:
    """Draw ``line_chart(ys, xs, width, height)`` and write it to ``path`` as a PNG."""
    write_png(path, line_chart(ys, xs, width, height))
