"""F.interpolate in every mode torch has: nearest, nearest-exact, (bi/tri)linear, bicubic,
area (adaptive average pooling) and the antialiased bilinear, bicubic and lanczos.

Each of these resamplings is linear and separable: along every spatial dim the output is a
fixed (out x in) matrix of weights times the input. The modes differ only in how that
matrix is built (``_WEIGHTS``); the forward applies the matrices, the backward applies their
transposes (through ``ns.matmul``, so higher orders come for free).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.define import Node, Tensor, edge, needs_grad, ns_array, record
from ..ops.reduction import mean

__all__ = ["interpolate"]

_make = Tensor._make

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area",
          "nearest-exact")
_ALL_MODES = " | ".join(_MODES)
# The input rank each interpolating mode needs (the others take 3-D, 4-D and 5-D input).
_MODE_NDIM = {"linear": 3, "bilinear": 4, "trilinear": 5}
_DIM_LABELS = ("D", "H", "W")


# -- one matrix of weights per spatial dim --------------------------------------------------


def _source_coordinates(n_in: int, n_out: int, scale: float, align_corners: bool
                        ) -> np.ndarray:
    """Where each output sample sits on the input axis (torch's pixel-centre convention,
    or the corner-aligned one)."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    return (dst + 0.5) * scale - 0.5


def _taps_matrix(n_in: int, first: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(out x in) matrix from ``weights[:, k]`` at input index ``first + k``, indices
    clamped to the border (torch's replicate access for linear and cubic taps)."""
    n_out, taps = weights.shape
    idx = np.clip(first[:, None] + np.arange(taps), 0, n_in - 1)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), taps), idx.ravel()), weights.ravel())
    return m


def _nearest(n_in: int, n_out: int, scale: float, align_corners: bool,
             offset: float = 0.0) -> np.ndarray:
    src = np.floor((np.arange(n_out) + offset) * scale).astype(np.int64)
    return _taps_matrix(n_in, np.minimum(src, n_in - 1), np.ones((n_out, 1)))


def _nearest_exact(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    return _nearest(n_in, n_out, scale, align_corners, 0.5)


def _linear(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    src = np.maximum(_source_coordinates(n_in, n_out, scale, align_corners), 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    frac = src - lo
    return _taps_matrix(n_in, lo, np.stack([1.0 - frac, frac], 1))


def _cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a``, zero beyond |x| = 2."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _bicubic(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    # no clamp of the source coordinate, unlike linear: the border taps are replicated
    src = _source_coordinates(n_in, n_out, scale, align_corners)
    floor = np.floor(src)
    t = (src - floor)[:, None]
    weights = _cubic(np.concatenate([t + 1, t, 1 - t, 2 - t], 1), -0.75)
    return _taps_matrix(n_in, floor.astype(np.int64) - 1, weights)


def _area_weights(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    """Adaptive average pooling: output i averages [floor(i*in/out), ceil((i+1)*in/out))."""
    i = np.arange(n_out)
    start, stop = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    cols = np.arange(n_in)
    inside = (cols >= start[:, None]) & (cols < stop[:, None])
    return inside / (stop - start)[:, None]


# antialias filters: (support at scale 1, filter)
_AA_FILTERS = {
    "bilinear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
    "bicubic": (2.0, lambda x: _cubic(x, -0.5)),
    "lanczos": (3.0, lambda x: np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)),
}


def _antialiased(mode: str) -> Any:
    support0, filter_fn = _AA_FILTERS[mode]

    def weights(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
        # When shrinking, the filter is stretched by the scale so that every input sample
        # contributes (the antialiasing); the taps of each output are normalised to sum 1.
        if align_corners:
            scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        stretch = max(scale, 1.0)
        center = scale * (np.arange(n_out) + 0.5)
        lo = np.maximum((center - support0 * stretch + 0.5).astype(np.int64), 0)
        hi = np.minimum((center + support0 * stretch + 0.5).astype(np.int64), n_in)
        cols = np.arange(n_in)
        w = filter_fn((cols - center[:, None] + 0.5) / stretch)
        w = np.where((cols >= lo[:, None]) & (cols < hi[:, None]), w, 0.0)
        total = w.sum(1, keepdims=True)
        return np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    return weights


_WEIGHTS = {"nearest": _nearest, "nearest-exact": _nearest_exact, "linear": _linear,
            "bilinear": _linear, "trilinear": _linear, "bicubic": _bicubic, "area": _area_weights}
_AA_WEIGHTS = {mode: _antialiased(mode) for mode in _AA_FILTERS}


def _resample(ns: Any, x: Any, mats: tuple, transpose: bool) -> Any:
    """Apply one matrix per trailing spatial dim (their transposes for the backward)."""
    dtype = ns.np_dtype(x)
    n = len(mats)
    shape = tuple(x.shape)
    lead, sizes = shape[:-n], list(shape[-n:])
    for k, m in enumerate(mats):
        m = (m.T if transpose else m).astype(dtype)
        if k == n - 1:
            x = ns.matmul(x, ns.constant(np.ascontiguousarray(m.T)))
        else:
            rest = math.prod(sizes[k + 1:])
            if k < n - 2:        # fold the dims after k into one, so that m @ x applies
                x = ns.reshape(x, lead + tuple(sizes[:k]) + (sizes[k], rest))
            x = ns.matmul(ns.constant(m), x)
        sizes[k] = m.shape[0]
        if k < n - 2:
            x = ns.reshape(x, lead + tuple(sizes))
    return x


class _ResampleNode(Node):
    __slots__ = ("mats",)

    def backward(self, ns, grads):
        return (_resample(ns, grads[0], self.mats, True),)


def _node_name(mode: str, n: int, antialias: bool) -> str:
    if mode == "area":
        return f"AdaptiveAvgPool{n}DBackward0"
    kind = {"nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
            "trilinear": "Trilinear"}.get(mode, mode.capitalize())
    return f"Upsample{kind}{n}D{'Aa' if antialias else ''}Backward0"


_NODE_CLASSES: dict[str, type] = {}


def _integer_resampled(data: np.ndarray, mats: tuple) -> np.ndarray:
    """Integer images (uint8): one dim at a time from the last, as torch's separable
    kernel, rounding and saturating after each pass (torch weights in fixed point: its
    values can differ by 1)."""
    info = np.iinfo(data.dtype)
    x = data.astype(np.float64)
    n = len(mats)
    for k in reversed(range(n)):
        x = np.moveaxis(np.moveaxis(x, k - n, -1) @ mats[k].T, -1, k - n)
        x = np.clip(np.rint(x), info.min, info.max)
    return x.astype(data.dtype)


def _resampled(input: Tensor, mats: tuple, node_name: str) -> Tensor:
    data = input._data
    if data.dtype.kind in "iu":
        return _make(_integer_resampled(data, mats))
    result = np.asarray(_resample(ns_array, data, mats, False))
    if not needs_grad(input):
        return _make(result)
    cls = _NODE_CLASSES.get(node_name)
    if cls is None:
        cls = _NODE_CLASSES[node_name] = type(node_name, (_ResampleNode,), {"__slots__": ()})
    node = cls((edge(input),))
    node.mats = mats
    return record(node, result)


# -- arguments -------------------------------------------------------------------------------


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


def _check_arguments(input: Tensor, size: Any, scale_factor: Any, mode: str,
                     align_corners: bool | None, recompute_scale_factor: bool | None,
                     antialias: bool) -> None:
    """torch's checks, in torch's order."""
    if align_corners is not None and mode in ("nearest", "area", "nearest-exact"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    nd = input.dim()
    n = nd - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if n > 0:
        _check_spatial("size" if size is not None else "scale_factor",
                       size if size is not None else scale_factor, list(input.shape[2:]), n)
    if isinstance(size, (tuple, list)) and not all(isinstance(s, int) for s in size):
        raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                        "Tuple[int, int, int], but got size with types "
                        f"{[type(s) for s in size]}")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in _AA_FILTERS and nd == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode == "lanczos" and nd == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    # bicubic and lanczos exist for 4-D input only: torch reports them as unsupported
    if nd not in (3, 4, 5) or mode not in _MODES or (mode in ("bicubic", "lanczos")
                                                       and nd != 4):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {nd}D) for the modes: {_ALL_MODES} (got {mode})")
    needed = _MODE_NDIM.get(mode)
    if needed is not None and needed != nd:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {needed}D input")


def _check_sizes(spatial: list, out: list, mode: str) -> None:
    n = len(spatial)
    if mode == "area":
        if min(out) < 0:
            sizes = [1] * (2 - n) + out
            shown = (", ".join(map(str, sizes)) if n < 3
                     else ", ".join(map(str, sizes[:2])) + f",{sizes[2]}")
            raise RuntimeError(f"adaptive_avg_pool{max(n, 2)}d: elements of output_size must "
                               f"be greater than or equal to 0 but received {{{shown}}}")
        return
    if min(out) <= 0 or min(spatial) <= 0:
        labels = _DIM_LABELS[-n:]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{k}: {v}" for k, v in zip(labels, spatial))
            + (") and output (" if n == 1 else ") output (")
            + ", ".join(f"{k}: {v}" for k, v in zip(labels, out)) + ")")


def _area_pool(input: Tensor, mats: tuple, out: list) -> Tensor:
    """torch pools 1-d input as 2-d with a unit height, and takes a plain mean when every
    output size is 1: the same graph here."""
    if input.dim() == 3:
        return _area_pool(input.unsqueeze(-2), (np.ones((1, 1)),) + mats, [1] + out).squeeze(-2)
    n = len(out)
    if all(o == 1 for o in out):
        return mean(input, tuple(range(-n, 0)), True)
    return _resampled(input, mats, _node_name("area", n, False))


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """torch.nn.functional.interpolate(input, size=None, scale_factor=None, mode='nearest',
    align_corners=None, recompute_scale_factor=None, antialias=False)"""
    _check_arguments(input, size, scale_factor, mode, align_corners, recompute_scale_factor,
                     antialias)
    spatial = list(input.shape[2:])
    n = len(spatial)
    if size is not None:
        out = [int(s) for s in _as_list(size, n)]
        scales = [i / o if o > 0 else 0.0 for i, o in zip(spatial, out)]
    else:
        factors = [float(f) for f in _as_list(scale_factor, n)]
        out = [math.floor(i * f) for i, f in zip(spatial, factors)]
        scales = ([i / o if o > 0 else 0.0 for i, o in zip(spatial, out)]
                  if recompute_scale_factor else [1.0 / f for f in factors])
    _check_sizes(spatial, out, mode)
    weights = _AA_WEIGHTS[mode] if antialias else _WEIGHTS[mode]
    mats = tuple(weights(i, o, s, bool(align_corners)) for i, o, s in zip(spatial, out, scales))
    if mode == "area":
        return _area_pool(input, mats, out)
    return _resampled(input, mats, _node_name(mode, n, antialias))
