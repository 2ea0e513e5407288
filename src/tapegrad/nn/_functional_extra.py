"""More of nn.functional: logsigmoid, softsign, glu, and unfold/fold (im2col/col2im over
(C, *spatial) blocks), each with torch's node and errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.define import (
    Node,
    Tensor,
    edge,
    formula,
    needs_grad,
    record,
    save_values,
    unary,
    wrap_dim,
)
from ..ops.pointwise import abs, kernel_missing, refusing
from ._conv_ops import (
    WindowSpec,
    _col2im_array,
    _im2col_array,
    linear_window_op,
    window_node,
)

__all__ = ["logsigmoid", "softsign", "glu", "unfold", "fold"]

_make = Tensor._make


@unary(refusing("log_sigmoid_cpu", "biu", lambda x: -np.logaddexp(0, -x)), name="logsigmoid",
       node="LogSigmoidBackward0", to_float=False, method=False, inplace_variant=False)
def logsigmoid(ns, g, self):
    return ns.mul(g, ns.sigmoid(ns.neg(self)))


logsigmoid.__doc__ = "torch.nn.functional.logsigmoid(input) -> Tensor"


def softsign(input: Tensor) -> Tensor:
    """torch.nn.functional.softsign(input) -> Tensor"""
    return input / (abs(input) + 1)


# -- glu ---------------------------------------------------------------------------------

def _halves(ns: Any, x: Any, dim: int) -> tuple:
    n = x.shape[dim] // 2
    lead = (slice(None),) * dim
    return ns.getitem(x, lead + (slice(0, n),)), ns.getitem(x, lead + (slice(n, None),))


class GluBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, ns, grads):
        g = grads[0]
        (x,) = self.unpack(ns.graph)
        a, b = _halves(ns, x, self.dim)
        gate = ns.sigmoid(b)
        ga = ns.mul(g, gate)
        gb = ns.mul(ns.mul(ga, a), ns.sub(1.0, gate))
        return (ns.cat([ga, gb], self.dim),)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """torch.nn.functional.glu(input, dim=-1) -> Tensor"""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    if x.dtype.kind in "biu":
        raise kernel_missing("glu_cpu", x.dtype)
    a, b = (np.asarray(h) for h in _halves(_ArrayGetitem, x, d))
    out = a / (1 + np.exp(-b))
    if not needs_grad(input):
        return _make(out)
    node = GluBackward0((edge(input),))
    node.dim = d
    save_values(node, (input,))
    return record(node, out)


class _ArrayGetitem:
    """Just enough of a formula namespace for ``_halves`` on a forward's array."""

    @staticmethod
    def getitem(x: np.ndarray, index: tuple) -> np.ndarray:
        return x[index]


# -- unfold / fold -----------------------------------------------------------------------

def _pair(value: Any, name: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
        return tuple(int(v) for v in value)
    return (int(value), int(value))


def _check_positive(name: str, pair: tuple, what: str = "greater than zero") -> None:
    if pair[0] <= 0 or pair[1] <= 0:
        label = {"kernel": "kernel size", "stride": "stride", "dilation": "dilation"}[name]
        raise RuntimeError(f"{label} should be {what}, but got {name}_height: {pair[0]} "
                           f"{name}_width: {pair[1]}")


def _window_args(kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    k = _pair(kernel_size, "kernel_size")
    dl = _pair(dilation, "dilation")
    p = _pair(padding, "padding")
    s = _pair(stride, "stride")
    _check_positive("kernel", k)
    _check_positive("stride", s)
    _check_positive("dilation", dl)
    return k, dl, p, s


def _unfold_array(x: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """(N, C, H, W) -> (N, C * kh * kw, L), torch's im2col layout; unbatched alike."""
    if x.ndim == 3:
        return _unfold_array(x[None], spec)[0]
    cols = _im2col_array(x, spec)                     # (N, C, oh, ow, kh, kw)
    n, c = x.shape[:2]
    k = math.prod(spec.kernel)
    return np.ascontiguousarray(cols.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * k, -1)


def _fold_array(cols: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """The adjoint of ``_unfold_array``: (N, C * kh * kw, L) -> (N, C, H, W)."""
    if cols.ndim == 2:
        return _fold_array(cols[None], spec)[0]
    n, c = spec.in_shape[:2]
    oh, ow = spec.out_spatial
    blocks = cols.reshape(n, c, *spec.kernel, oh, ow).transpose(0, 1, 4, 5, 2, 3)
    return _col2im_array(blocks, spec)


# torch names unfold's and fold's nodes after im2col/col2im, whose layout they differ in.
_unfold_blocks = linear_window_op(_unfold_array, window_node("Im2ColBackward0", "fold_blocks"),
                                  copy=False)
_fold_blocks = linear_window_op(_fold_array, window_node("Col2ImBackward0", "unfold_blocks"),
                                copy=False)
formula("unfold_blocks", _unfold_array, _unfold_blocks)
formula("fold_blocks", _fold_array, _fold_blocks)


def _batched_shape(shape: tuple, ndim: int) -> tuple:
    """The shape with a batch dim of 1 where an unbatched input lacks one."""
    return (1, *shape) if len(shape) == ndim - 1 else shape


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """torch.nn.functional.unfold(input, kernel_size, dilation=1, padding=0, stride=1)"""
    shape = tuple(input.shape)
    if len(shape) not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {list(shape)}")
    k, dl, p, s = _window_args(kernel_size, dilation, padding, stride)
    spec = WindowSpec(_batched_shape(shape, 4), k, s, ((p[0], p[0]), (p[1], p[1])), dl)
    blocks = spec.out_spatial
    if min(blocks) < 1:
        raise RuntimeError(
            f"Given input with spatial size {tuple(shape[-2:])}, kernel_size={k}, "
            f"dilation={dl}, padding={p}, calculated shape of the array of sliding blocks as "
            f"{tuple(blocks)}, but its components must be at least one.")
    return _unfold_blocks(input, spec)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """torch.nn.functional.fold(input, output_size, kernel_size, dilation=1, padding=0,
    stride=1)"""
    shape = tuple(input.shape)
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    size = _pair(output_size, "output_size")
    k, dl, p, s = _window_args(kernel_size, dilation, padding, stride)
    n, ck, length = _batched_shape(shape, 3)
    kk = k[0] * k[1]
    if ck % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and kernel_size={k}.")
    spec = WindowSpec((n, ck // kk, *size), k, s, ((p[0], p[0]), (p[1], p[1])), dl)
    bh, bw = spec.out_spatial
    if bh * bw != length:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={k}, dilation={dl}, padding={p}, "
            f"stride={s}, expected size of input's dimension 2 to match the calculated number "
            f"of sliding blocks {bh} * {bw} = {bh * bw}, but got input.size(2)={length}.")
    return _fold_blocks(input, spec)
