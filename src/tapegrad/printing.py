"""printing: how a tensor turns into text, character for character as torch prints it.

What lives here:

* the print options (``set_printoptions``, ``get_printoptions``, ``printoptions``),
  with torch's defaults and its "default", "short" and "full" profiles;
* ``_ElementFormatter``, which looks at every value that will be shown and
  decides, once per tensor, how each number is written: integer style
  (``3.``), fixed point (``3.1416``) or scientific (``3.1416e+00``), and the
  column width every element is right-aligned to;
* the layout: 0-d scalars, rows that wrap at the line width with torch's
  continuation indent, nested brackets with one blank line per extra
  dimension between blocks, and summarization (``...``) once a tensor holds
  more elements than the threshold;
* the trailing ``size=``, ``dtype=``, ``grad_fn=``/``requires_grad=`` and
  ``tangent=`` notes, each moved onto a new line when it would overflow.

``format_tensor`` works on a bare NumPy array plus the autograd flags;
``tensor_repr`` pulls those out of a tapegrad tensor. The only part of
tapegrad used here is ``tapegrad.dtypes``, for dtype names and the default dtype.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from tapegrad import dtypes as _dtypes

__all__ = ["format_tensor", "tensor_repr", "set_printoptions", "get_printoptions",
           "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

# Values a profile resets; anything passed explicitly alongside still wins.
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """torch.set_printoptions: change how tensors print from now on.

    A profile ("default", "short", "full") first resets precision, threshold,
    edgeitems and linewidth; the other arguments then override it. As in torch,
    ``sci_mode`` is always assigned, so leaving it out returns it to automatic.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """torch.get_printoptions: the current options, usable as set_printoptions(**options)."""
    return dataclasses.asdict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[None]:
    """torch.printoptions: set print options for the duration of a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _ElementFormatter:
    """Writes the elements of one real-valued array (or one half of a complex one).

    The style is decided from the values that will be displayed: a floating
    array whose nonzero finite values are all whole numbers prints them as
    ``3.``; scientific notation is chosen when those values span more than
    three decades or leave [1e-4, 1e8]; the column width is the widest of
    those values. Zeros, nan and inf never influence the style or the width.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.is_floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        precision = _OPTIONS.precision

        if not self.is_floating:
            for value in values.reshape(-1).tolist():
                self.width = max(self.width, len(str(value)))
            return

        flat = values.reshape(-1)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        # Work in float64: float16 would overflow computing the ratio below,
        # and every narrower float converts to it exactly.
        shown = shown.astype(np.float64)
        magnitudes = np.abs(shown)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())

        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if _OPTIONS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = bool(_OPTIONS.sci_mode)

        if self.sci_mode:
            spec, extra = f".{precision}e", 0
        elif self.int_mode:
            # The trailing "." that marks a whole float takes one more column.
            spec, extra = ".0f", 1
        else:
            spec, extra = f".{precision}f", 0
        for value in shown.tolist():
            self.width = max(self.width, len(format(value, spec)) + extra)

    def format(self, value: float | int | bool) -> str:
        """One element, right-aligned to the common width."""
        if not self.is_floating:
            text = str(value)
        elif self.sci_mode:
            text = format(value, f"{self.width}.{_OPTIONS.precision}e")
        elif self.int_mode:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{_OPTIONS.precision}f")
        return text.rjust(self.width)


class _ComplexFormatter:
    """Complex elements: the real and imaginary parts each get their own formatter."""

    def __init__(self, values: np.ndarray) -> None:
        self.real = _ElementFormatter(values.real)
        self.imag = _ElementFormatter(values.imag)
        # real part + imaginary part + its "j"
        self.width = self.real.width + self.imag.width + 1

    def format(self, value: complex) -> str:
        real_text = self.real.format(value.real)
        # The imaginary column's padding is dropped; its own sign (including
        # the one of -0.0) joins the parts, else a "+" is inserted.
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        if imag_text[0] in "+-":
            return real_text + imag_text
        return real_text + "+" + imag_text


_Formatter = _ElementFormatter | _ComplexFormatter


def _displayed_part(data: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: along every axis longer than
    2 * edgeitems, only the first and last edgeitems entries."""
    edge = _OPTIONS.edgeitems
    if data.ndim == 0:
        return data
    if data.ndim >= 2 and not edge:
        # torch's formatter then sees no values at all; nothing but "..." prints.
        return data[tuple(slice(0, 0) for _ in range(data.ndim))]
    kept_per_axis = []
    for length in data.shape:
        if length > 2 * edge:
            kept_per_axis.append(np.r_[0:edge, length - edge:length])
        else:
            kept_per_axis.append(np.arange(length))
    return data[np.ix_(*kept_per_axis)]


def _make_formatter(data: np.ndarray) -> _Formatter:
    if data.dtype.kind == "c":
        return _ComplexFormatter(data)
    return _ElementFormatter(data)


def _python_values(data: np.ndarray) -> list:
    """Elements as Python numbers, the way torch's tolist() hands them to format():
    floats of every width become Python floats (float64), exactly."""
    if data.dtype.kind == "f":
        data = data.astype(np.float64)
    elif data.dtype.kind == "c":
        data = data.astype(np.complex128)
    return data.tolist()


def _format_row(row: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """A 1-d array as "[a, b, c]", wrapped so no line passes the line width;
    continuation lines start one column right of ``indent``."""
    edge = _OPTIONS.edgeitems
    # Every element takes its width plus ", ".
    element_length = formatter.width + 2
    per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / element_length))

    if summarize and not edge:
        cells = ["..."]
    elif summarize and row.shape[0] > 2 * edge:
        cells = ([formatter.format(v) for v in _python_values(row[:edge])]
                 + [" ..."]
                 + [formatter.format(v) for v in _python_values(row[-edge:])])
    else:
        cells = [formatter.format(v) for v in _python_values(row)]

    lines = [", ".join(cells[start:start + per_line])
             for start in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _format_block(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """An array of any rank; blocks of rank r are separated by r - 1 blank lines."""
    if data.ndim == 0:
        return formatter.format(_python_values(data))
    if data.ndim == 1:
        return _format_row(data, indent, summarize, formatter)

    edge = _OPTIONS.edgeitems
    count = data.shape[0]
    if summarize and count > 2 * edge:
        parts = ([_format_block(data[i], indent + 1, summarize, formatter) for i in range(edge)]
                 + ["..."]
                 + [_format_block(data[i], indent + 1, summarize, formatter)
                    for i in range(count - edge, count)])
    else:
        parts = [_format_block(data[i], indent + 1, summarize, formatter) for i in range(count)]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _format_values(data: np.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, as they follow the prefix."""
    summarize = data.size > _OPTIONS.threshold
    formatter = _make_formatter(_displayed_part(data) if summarize else data)
    return _format_block(data, indent, summarize, formatter)


def _append_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Add ", key=value" notes and the closing parenthesis; a note that would
    push the line past the line width starts a new line at ``indent``."""
    pieces = [text]
    # torch measures the last line with two extra columns (and, without any
    # newline, counts the prefix's position as -1); kept so wrapping agrees.
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTIONS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def format_tensor(data: np.ndarray, *, grad_fn_name: str | None = None,
                  requires_grad: bool = False, tangent: str | None = None,
                  prefix: str = "tensor(") -> str:
    """The text ``repr(tensor)`` shows in torch for a CPU tensor holding ``data``.

    ``grad_fn_name`` (e.g. "MulBackward0") adds ``grad_fn=<...>``; otherwise
    ``requires_grad`` adds ``requires_grad=True``. ``tangent`` is the text torch
    puts after ``tangent=``: ``format(tangent)``, which is the tangent tensor's
    repr, or for a 0-d tangent its bare Python number. ``prefix`` replaces
    "tensor(" (its length sets the indent of continuation lines).
    """
    data = np.asarray(data)
    dtype = _dtypes.from_numpy_dtype(data.dtype)
    default_float = _dtypes.get_default_dtype()
    default_complex = _dtypes.complex128 if default_float is _dtypes.float64 \
        else _dtypes.complex64
    indent = len(prefix)
    suffixes: list[str] = []

    if data.size == 0:
        # A shape of (0,) is implied by "[]"; any other empty shape is spelled out.
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        # With no values to go by, only the default float dtype goes unsaid.
        if dtype is not default_float:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not _OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        # These dtypes are what torch.tensor() infers from Python numbers.
        if dtype not in (default_float, default_complex, _dtypes.int64, _dtypes.bool):
            suffixes.append(f"dtype={dtype!r}")
        body = _format_values(data, indent)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")

    return _append_suffixes(prefix + body, suffixes, indent)


def tensor_repr(t: Any) -> str:
    """repr() of a tapegrad tensor: its ``_data``, ``_grad_fn``, ``_requires_grad``
    and, when present, its forward-mode ``_tangent_repr``."""
    grad_fn = t._grad_fn
    return format_tensor(
        t._data,
        grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        requires_grad=bool(t._requires_grad),
        tangent=getattr(t, "_tangent_repr", None),
    )
