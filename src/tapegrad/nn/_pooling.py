"""Pooling as torch does it: max, average, adaptive, and max-unpooling, in 1-d and 2-d.

Every 2-d pool first computes, in NumPy, which input elements each output reads; the
differentiable part is then a core op whose derivative is already defined:
- max pools gather the chosen elements (``gather_flat``, torch's node name), so the
  gradient goes to each window's (first) maximum, as in torch;
- average pools sum im2col's windows and divide by each window's divisor;
- max-unpooling scatters into zeros (``scatter_flat``).
1-d pools are the 2-d ones on ``input.unsqueeze(-2)``, squeezed after, as torch builds
them (hence torch's ``SqueezeBackward1`` on their outputs). Argument checks follow
torch's order and messages, so the first error reported is the one torch reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..dtypes import from_numpy_dtype
from ..ops.define import Tensor
from ..ops.indexing import gather_flat, positions, scatter_flat
from ..ops.join import stack
from ..ops.reduction import mean, sum
from ._conv_ops import WindowSpec, im2col
from ._named import fused

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "max_unpool1d", "max_unpool2d"]

_make = Tensor._make


# -- arguments and output sizes --------------------------------------------------------------


def _pair(value: Any, op: str, what: str, allow_empty: bool = False) -> tuple[int, int] | None:
    """An int or a 1- or 2-sequence -> (h, w); torch's error for other lengths."""
    if isinstance(value, (tuple, list)):
        if allow_empty and len(value) == 0:
            return None
        if len(value) not in (1, 2):
            raise RuntimeError(_LENGTH_MESSAGES[what].format(op=op))
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


_LENGTH_MESSAGES = {
    "kernel_size": "{op}: kernel_size must either be a single int, or a tuple of two ints",
    "stride": "{op}: stride must either be omitted, a single int, or a tuple of two ints",
    "padding": "{op}: padding must either be a single int, or a tuple of two ints",
    "dilation": "{op}: dilation must be either a single int, or a tuple of two ints",
}


def _half_up(n: int) -> int:
    """C++ integer n / 2 (truncates toward zero)."""
    return int(n / 2)


def _output_size(size: int, k: int, pad: int, stride: int, dilation: int, ceil: bool) -> int:
    """torch's pooling_output_shape, with its argument checks."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > _half_up((k - 1) * dilation + 1):
        raise RuntimeError("pad should be at most half of effective kernel size, but got "
                           f"pad={pad}, kernel_size={k} and dilation={dilation}")
    out = (size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1                      # the last window must start inside the input or pad
    return out


def _pool2d_output(shape: tuple, kernel: tuple, stride: tuple, pad: tuple, dilation: tuple,
                   ceil: bool) -> tuple[int, int]:
    """(out_h, out_w) of a 2-d pool on an input of ``shape`` (C, H, W) or (N, C, H, W)."""
    out = tuple(_output_size(shape[d], kernel[i], pad[i], stride[i], dilation[i], ceil)
                for i, d in enumerate((-2, -1)))
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = kernel, stride, dilation, pad
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationH: "
                           f"{dh} dilationW: {dw}")
    if 0 in shape[-3:] or len(shape) not in (3, 4):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(shape)}")
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    if out[0] < 1 or out[1] < 1:
        c, h, w = shape[-3:]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{out[0]}x{out[1]}). Output size is too small")
    return out


def _padding_after(size: int, out: int, k: int, pad: int, stride: int, dilation: int) -> int:
    """Padding on the far side so that exactly ``out`` windows fit (ceil_mode needs more
    than ``pad``; floor mode may need less, but never less than none)."""
    return max((out - 1) * stride + dilation * (k - 1) + 1 - size - pad, 0)


def _windows(a: np.ndarray, out: tuple, kernel: tuple, stride: tuple, pad: tuple,
             dilation: tuple, fill: Any) -> np.ndarray:
    """(..., H, W) -> (..., out_h, out_w, kh * kw): each output's window, padded by ``fill``."""
    h, w = a.shape[-2:]
    after = [_padding_after(s, o, k, p, st, d)
             for s, o, k, p, st, d in zip((h, w), out, kernel, pad, stride, dilation)]
    padded = np.full((*a.shape[:-2], pad[0] + h + after[0], pad[1] + w + after[1]), fill,
                     dtype=a.dtype)
    padded[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = a
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(padded, span, axis=(-2, -1))
    view = view[..., ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    view = view[..., :out[0], :out[1], :, :]
    return view.reshape(*view.shape[:-2], kernel[0] * kernel[1])


def _global_positions(shape: tuple, local: np.ndarray) -> np.ndarray:
    """Flat positions in the whole input of per-plane positions ``local`` (..., *out)."""
    plane = shape[-2] * shape[-1]
    lead = np.arange(int(np.prod(shape[:-2], dtype=np.int64)), dtype=np.int64)
    lead = lead.reshape(*shape[:-2], *([1] * (local.ndim - len(shape) + 2)))
    return lead * plane + local


def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


def _argmax_positions(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Per window (last axis) the plane position of its first maximum; NaN wins, as in
    torch; padding (position -1) is chosen only if nothing in the window beats it."""
    where = np.broadcast_to(where, values.shape)
    best = values.argmax(axis=-1)[..., None]
    chosen = np.take_along_axis(where, best, axis=-1)[..., 0]
    padded = chosen < 0
    if padded.any():              # a window of -inf values: torch keeps its first real one
        first_real = (where >= 0).argmax(axis=-1)[..., None]
        chosen = np.where(padded, np.take_along_axis(where, first_real, axis=-1)[..., 0],
                          chosen)
    return chosen


# -- max pooling ------------------------------------------------------------------------------


def _max_pool2d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                ceil_mode: bool) -> tuple[Tensor, Tensor]:
    op = "max_pool2d"
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = _pair(stride, op, "stride", allow_empty=True) if stride is not None else None
    stride = stride or kernel
    pad, dil = _pair(padding, op, "padding"), _pair(dilation, op, "dilation")
    shape = tuple(input.shape)
    if len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    out = _pool2d_output(shape, kernel, stride, pad, dil, ceil_mode)
    a = input._data
    where = _windows(positions(shape[-2:]), out, kernel, stride, pad, dil, -1)
    local = _argmax_positions(_windows(a, out, kernel, stride, pad, dil, _lowest(a.dtype)),
                              where)
    result = gather_flat(input, _global_positions(shape, local),
                         "MaxPool2DWithIndicesBackward0")
    return result, _make(local)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """torch.nn.functional.max_pool2d(input, kernel_size, stride=None, padding=0,
    dilation=1, ceil_mode=False, return_indices=False)"""
    out, indices = _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def _one(value: Any, op: str, what: str, allow_empty: bool = False) -> int | None:
    """max_pool1d's own check: an int or a sequence of one int."""
    if isinstance(value, (tuple, list)):
        if allow_empty and len(value) == 0:
            return None
        if len(value) != 1:
            raise RuntimeError(f"{op}() {what} must be an int, list of ints or tuple of ints "
                               f"of size 1 but got size {len(value)}")
        return int(value[0])
    return int(value)


def _check_1d_input(input: Tensor, op: str) -> None:
    if input.dim() < 2:
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {op})")


def _check_max_pool1d(input: Tensor, kernel_size: Any, stride: Any, padding: Any,
                      dilation: Any, ceil_mode: bool) -> None:
    """torch.max_pool1d's checks (the path without indices), in its order."""
    op = "max_pool1d"
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(input.shape)}")
    k = _one(kernel_size, op, "kernel_size")
    s = _one(stride, op, "stride", allow_empty=True) if stride is not None else None
    s = k if s is None else s
    p, d = _one(padding, op, "padding"), _one(dilation, op, "dilation")
    if k <= 0:
        raise RuntimeError(f"{op}() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"{op}() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"{op}() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"{op}() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"{op}() dilation must be greater than zero, but got {d}")
    out = _output_size(input.shape[-1], k, p, s, d, ceil_mode)
    if out < 1:
        raise RuntimeError(f"{op}() Invalid computed output size: {out}")
    if input._data.dtype.kind not in "fc":
        name = from_numpy_dtype(input._data.dtype).scalar_name
        raise NotImplementedError(f'"{op}_impl" not implemented for \'{name}\'')


def _as_2d(value: Any, fill: int) -> Any:
    """A 1-d pool argument as the 2-d one torch passes on: (fill, value)."""
    if isinstance(value, (tuple, list)):
        return [fill, *value] if len(value) else value
    return (fill, value)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """torch.nn.functional.max_pool1d(input, kernel_size, stride=None, padding=0,
    dilation=1, ceil_mode=False, return_indices=False)"""
    if return_indices:
        _check_1d_input(input, "max_pool1d")
    else:
        _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)
    stride2 = None if stride is None else _as_2d(stride, 1)
    out, indices = _max_pool2d(input.unsqueeze(-2), _as_2d(kernel_size, 1), stride2,
                               _as_2d(padding, 0), _as_2d(dilation, 1), ceil_mode)
    out = out.squeeze(-2)
    return (out, indices.squeeze(-2)) if return_indices else out


# -- average pooling --------------------------------------------------------------------------


def _window_counts(size: int, out: int, k: int, pad: int, stride: int) -> tuple:
    """Per output index: elements of its window inside input + padding, and inside input."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + k, size + pad)
    with_pad = end - start
    inside = np.minimum(end, size) - np.maximum(start, 0)
    return with_pad, np.maximum(inside, 0)


def _avg_pool2d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
                count_include_pad: bool, divisor_override: Any) -> Tensor:
    op = "avg_pool2d"
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = _pair(stride, op, "stride", allow_empty=True) if stride is not None else None
    stride = stride or kernel
    pad = _pair(padding, op, "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-len(shape)}, {len(shape) - 1}], but got -3)")
    out = _pool2d_output(shape, kernel, stride, pad, (1, 1), ceil_mode)
    unbatched = len(shape) == 3
    after = tuple(_padding_after(s, o, k, p, st, 1)
                  for s, o, k, p, st in zip(shape[-2:], out, kernel, pad, stride))
    if divisor_override is not None:
        divisor = np.full(out, float(divisor_override))
    else:
        (h_pad, h_in), (w_pad, w_in) = (
            _window_counts(s, o, k, p, st) for s, o, k, p, st in zip(shape[-2:], out, kernel,
                                                                     pad, stride))
        divisor = (np.outer(h_pad, w_pad) if count_include_pad else np.outer(h_in, w_in))
        divisor = np.where(divisor > 0, divisor, 1)          # empty windows give 0, not nan
    scale = _make((1.0 / divisor).astype(input._data.dtype))

    def pool(input: Tensor) -> Tensor:
        x = input.unsqueeze(0) if unbatched else input
        spec = WindowSpec(tuple(x.shape), kernel, stride, tuple(zip(pad, after)), (1, 1))
        cols = im2col(x, spec)[:, :, :out[0], :out[1]]      # (N, C, oh, ow, kh, kw)
        result = sum(cols, (-2, -1)) * scale
        return result.squeeze(0) if unbatched else result
    return fused("AvgPool2DBackward0", pool, input)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """torch.nn.functional.avg_pool2d(input, kernel_size, stride=None, padding=0,
    ceil_mode=False, count_include_pad=True, divisor_override=None)"""
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def _one_int(value: Any, op: str, what: str) -> Any:
    if isinstance(value, (tuple, list)) and len(value) != 1:
        raise RuntimeError(f"{op}() argument '{what}' should contain one int (got "
                           f"{len(value)})")
    return value


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """torch.nn.functional.avg_pool1d(input, kernel_size, stride=None, padding=0,
    ceil_mode=False, count_include_pad=True)"""
    op = "avg_pool1d"
    _one_int(kernel_size, op, "kernel_size")
    if stride is not None and not (isinstance(stride, (tuple, list)) and len(stride) == 0):
        _one_int(stride, op, "stride")
    _one_int(padding, op, "padding")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {op})")
    stride2 = None if stride is None else _as_2d(stride, 1)
    out = _avg_pool2d(input.unsqueeze(-2), _as_2d(kernel_size, 1), stride2,
                      _as_2d(padding, 0), ceil_mode, count_include_pad, None)
    return out.squeeze(-2)


# -- adaptive pooling -------------------------------------------------------------------------


def _adaptive_bounds(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _adaptive_sizes(input: Tensor, output_size: Any, op: str, message: str) -> tuple:
    sizes = (tuple(output_size) if isinstance(output_size, (tuple, list))
             else (output_size, output_size))
    if len(sizes) != 2:
        raise RuntimeError(message)
    if input.dim() not in (3, 4):
        sep = ": " if op == "adaptive_max_pool2d" else " "
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got{sep}{list(input.shape)}")
    return tuple(input.shape[-2 + i] if s is None else int(s) for i, s in enumerate(sizes))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """torch.nn.functional.adaptive_avg_pool2d(input, output_size)"""
    out_h, out_w = _adaptive_sizes(input, output_size, "adaptive_avg_pool2d",
                                   "adaptive_avg_pool2d: output_size must be 2")
    h, w = input.shape[-2:]
    if (out_h, out_w) == (1, 1):                     # torch takes a plain mean here
        return mean(input, (-1, -2), True)

    def pool(input: Tensor) -> Tensor:
        if out_h == 0 or out_w == 0:                 # torch allows an empty output
            return input.sum((-2, -1), keepdim=True).expand(*input.shape[:-2], out_h, out_w)
        if h % out_h == 0 and w % out_w == 0:        # equal windows: one strided pooling
            lead = tuple(input.shape[:-2])
            pooled = _avg_pool2d(input.reshape(-1, 1, h, w), (h // out_h, w // out_w), None,
                                 0, False, True, None)
            return pooled.reshape(*lead, out_h, out_w)
        rows = [stack([mean(input[..., h0:h1, w0:w1], (-2, -1))
                       for w0, w1 in _adaptive_bounds(w, out_w)], -1)
                for h0, h1 in _adaptive_bounds(h, out_h)]
        return stack(rows, -2)
    return fused("AdaptiveAvgPool2DBackward0", pool, input)


def _adaptive_max_pool2d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    out_h, out_w = _adaptive_sizes(
        input, output_size, "adaptive_max_pool2d",
        "adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    shape = tuple(input.shape)
    h, w = shape[-2:]
    a = input._data
    local = np.empty((*shape[:-2], out_h, out_w), dtype=np.int64)
    plane = positions((h, w))
    for i, (h0, h1) in enumerate(_adaptive_bounds(h, out_h)):
        for j, (w0, w1) in enumerate(_adaptive_bounds(w, out_w)):
            cell = a[..., h0:h1, w0:w1].reshape(*shape[:-2], -1)
            local[..., i, j] = plane[h0:h1, w0:w1].reshape(-1)[cell.argmax(axis=-1)]
    result = gather_flat(input, _global_positions(shape, local), "AdaptiveMaxPool2DBackward0")
    return result, _make(local)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """torch.nn.functional.adaptive_max_pool2d(input, output_size, return_indices=False)"""
    out, indices = _adaptive_max_pool2d(input, output_size)
    return (out, indices) if return_indices else out


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """torch.nn.functional.adaptive_avg_pool1d(input, output_size)"""
    _check_1d_input(input, "adaptive_avg_pool1d")
    size = _one_int(output_size, "adaptive_avg_pool1d", "output_size")
    return adaptive_avg_pool2d(input.unsqueeze(-2), _as_2d(size, 1)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """torch.nn.functional.adaptive_max_pool1d(input, output_size, return_indices=False)"""
    _check_1d_input(input, "adaptive_max_pool1d")
    size = _one_int(output_size, "adaptive_max_pool1d", "output_size")
    out, indices = _adaptive_max_pool2d(input.unsqueeze(-2), _as_2d(size, 1))
    out = out.squeeze(-2)
    return (out, indices.squeeze(-2)) if return_indices else out


# -- max unpooling ----------------------------------------------------------------------------


def _unpool_size(input: Tensor, kernel: tuple, stride: tuple, pad: tuple,
                 output_size: Any) -> tuple:
    """torch's default (in - 1) * stride - 2 * pad + kernel, or a checked ``output_size``."""
    nd = len(kernel)
    spatial = tuple(input.shape[-nd:])
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(spatial, stride, pad, kernel))
    if output_size is None:
        return default
    size = tuple(output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < size[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f"between {lo} and {hi})")
    return size


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """torch.nn.functional.max_unpool2d(input, indices, kernel_size, stride=None, padding=0,
    output_size=None)"""
    kernel = _pair(kernel_size, "max_unpool2d", "kernel_size")
    stride = kernel if stride is None else _pair(stride, "max_unpool2d", "stride")
    pad = _pair(padding, "max_unpool2d", "padding")
    out_h, out_w = _unpool_size(input, kernel, stride, pad, output_size)
    idx = indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{from_numpy_dtype(idx.dtype).scalar_name}")
    if idx.size and (idx.min() < 0 or idx.max() >= out_h * out_w):
        bad = int(idx[(idx < 0) | (idx >= out_h * out_w)][0])
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{out_h}x{out_w})")
    lead = tuple(input.shape[:-2])
    zeros = _make(np.zeros((*lead, out_h, out_w), dtype=input._data.dtype))
    dst = _global_positions((*lead, out_h, out_w), idx)
    return scatter_flat(zeros, dst.reshape(-1), input, positions(idx.shape).reshape(-1),
                        False, "MaxUnpool2DBackward0")


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """torch.nn.functional.max_unpool1d(input, indices, kernel_size, stride=None, padding=0,
    output_size=None)"""
    kernel = (1, _one(kernel_size, "max_unpool1d", "kernel_size"))
    stride = kernel if stride is None else (1, _one(stride, "max_unpool1d", "stride"))
    pad = (0, _one(padding, "max_unpool1d", "padding"))
    size = None
    if output_size is not None:
        size = (1, _unpool_size(input, kernel[1:], stride[1:], pad[1:], output_size)[0])
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), kernel, stride, pad,
                        size).squeeze(-2)
