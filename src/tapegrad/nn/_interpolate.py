"""F.interpolate for 'nearest' (3-D/4-D), 'linear' (3-D) and 'bilinear' (4-D) inputs.

Each of these resamplings is linear and separable: along every spatial dim the output is a
fixed (out x in) matrix times the input. The forward applies those matrices; the backward
applies their transposes (through ``ns.matmul``, so higher orders come for free).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.define import Node, Tensor, edge, needs_grad, ns_array, record

__all__ = ["interpolate"]

_make = Tensor._make

_LINEAR_MODES = ("linear", "bilinear", "bicubic", "trilinear")
_ALL_MODES = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
              "nearest-exact")
# mode -> (input ndim it needs, node name); nearest takes either rank.
_NODES = {("nearest", 3): "UpsampleNearest1DBackward0",
          ("nearest", 4): "UpsampleNearest2DBackward0",
          ("linear", 3): "UpsampleLinear1DBackward0",
          ("bilinear", 4): "UpsampleBilinear2DBackward0"}


def _nearest_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
    src = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), src] = 1.0
    return m


def _linear_matrix(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def _resample(ns: Any, x: Any, mats: tuple, transpose: bool) -> Any:
    """Apply one matrix per trailing spatial dim (their transposes for the backward)."""
    dtype = ns.np_dtype(x)
    if len(mats) == 2:
        rows, cols = (m.T if transpose else m for m in mats)
        x = ns.matmul(ns.constant(rows.astype(dtype)), x)
    else:
        cols = mats[0].T if transpose else mats[0]
    return ns.matmul(x, ns.constant(np.ascontiguousarray(cols.T).astype(dtype)))


class _UpsampleNode(Node):
    __slots__ = ("mats",)

    def backward(self, ns, grads):
        return (_resample(ns, grads[0], self.mats, True),)


_NODE_CLASSES = {key: type(name, (_UpsampleNode,), {"__slots__": ()})
                 for key, name in _NODES.items()}


def _as_list(value: Any, n: int) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value] * n


def _check_spatial(what: str, given: Any, spatial: list, n: int) -> None:
    if isinstance(given, (tuple, list)) and len(given) != n:
        if what == "size":
            subject, named, shown, fmt = "output", "output size", f"of {given}", "(o1, o2, ...,oK)"
        else:
            subject = named = "scale_factor"
            shown, fmt = f"of shape {given}", "(s1, s2, ...,sK)"
        raise ValueError(
            f"Input and {subject} must have the same number of spatial dimensions, but got "
            f"input with spatial dimensions of {spatial} and {named} {shown}. Please provide "
            f"input tensor in (N, C, d1, d2, ...,dK) format and {named} in {fmt} format.")


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """torch.nn.functional.interpolate(input, size=None, scale_factor=None, mode='nearest',
    align_corners=None, recompute_scale_factor=None, antialias=False)"""
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    x = input._data
    nd = x.ndim
    spatial = list(x.shape[2:])
    n = nd - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if n > 0:
        _check_spatial("size" if size is not None else "scale_factor",
                       size if size is not None else scale_factor, spatial, n)
    if nd not in (3, 4, 5) or mode not in ("nearest", "linear", "bilinear", "bicubic",
                                           "trilinear", "area", "nearest-exact", "lanczos"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {nd}D) for the modes: {_ALL_MODES} (got {mode})")
    needed = {"linear": 3, "bilinear": 4, "trilinear": 5}.get(mode)
    if needed is not None and needed != nd:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {needed}D input")
    if (mode, nd) not in _NODES or antialias:
        raise NotImplementedError(f"tapegrad: interpolate supports mode 'nearest' (3-D or 4-D "
                                  f"input), 'linear' (3-D) and 'bilinear' (4-D), without "
                                  f"antialias; got mode {mode!r} with {nd}-D input")
    if size is not None:
        out = [int(s) for s in _as_list(size, n)]
        scales = [i / o if o > 0 else 0.0 for i, o in zip(spatial, out)]
    else:
        factors = [float(f) for f in _as_list(scale_factor, n)]
        out = [math.floor(i * f) for i, f in zip(spatial, factors)]
        scales = ([i / o if o > 0 else 0.0 for i, o in zip(spatial, out)]
                  if recompute_scale_factor else [1.0 / f for f in factors])
    if min(out) <= 0 or min(spatial) <= 0:
        labels = ("H", "W")[-n:]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{k}: {v}" for k, v in zip(labels, spatial))
            + (") and output (" if n == 1 else ") output (")
            + ", ".join(f"{k}: {v}" for k, v in zip(labels, out)) + ")")
    if mode == "nearest":
        mats = tuple(_nearest_matrix(i, o, s) for i, o, s in zip(spatial, out, scales))
    else:
        mats = tuple(_linear_matrix(i, o, s, bool(align_corners))
                     for i, o, s in zip(spatial, out, scales))
    result = np.asarray(_resample(ns_array, x, mats, False))
    if not needs_grad(input):
        return _make(result)
    node = _NODE_CLASSES[(mode, nd)]((edge(input),))
    node.mats = mats
    return record(node, result)
