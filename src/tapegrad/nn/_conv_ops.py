"""Convolution: im2col windows (a strided view) and ONE matrix product.

``im2col`` / ``col2im`` are a differentiable adjoint pair (Im2ColBackward0 /
Col2ImBackward0): each one's derivative is the other, so they compose to any
order. ``convolution`` computes its forward directly in NumPy and records a
ConvolutionBackward0 whose backward is written with ``ns.im2col``,
``ns.col2im``, ``ns.matmul``, ``ns.reshape`` and ``ns.permute``: double
backward through a convolution works like any other op.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ops.define import Node, Tensor, edge, formula, needs_grad, record
from ..ops.define import save_values as _save

_make = Tensor._make

__all__ = ["WindowSpec", "im2col", "col2im", "convolution"]


class WindowSpec(NamedTuple):
    """Where the windows of an (N, C, *spatial) input lie."""

    in_shape: tuple        # (N, C, *spatial) of the unpadded input
    kernel: tuple
    stride: tuple
    padding: tuple         # ((before, after), ...) per spatial dim
    dilation: tuple

    @property
    def out_spatial(self) -> tuple:
        return tuple(
            (size + p[0] + p[1] - d * (k - 1) - 1) // s + 1
            for size, k, s, p, d in zip(self.in_shape[2:], self.kernel, self.stride,
                                        self.padding, self.dilation))


def _im2col_array(x: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """(N, C, *spatial) -> (N, C, *out, *kernel): every window, as one strided view."""
    nd = len(spec.kernel)
    if any(p != (0, 0) for p in spec.padding):
        x = np.pad(x, ((0, 0), (0, 0), *spec.padding))
    span = tuple(d * (k - 1) + 1 for k, d in zip(spec.kernel, spec.dilation))
    view = sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    index = (slice(None), slice(None), *(slice(None, None, s) for s in spec.stride),
             *(slice(None, None, d) for d in spec.dilation))
    return view[index]


def _col2im_array(cols: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """The adjoint of im2col: add every window back where it came from."""
    n, c = spec.in_shape[:2]
    padded = tuple(s + p[0] + p[1] for s, p in zip(spec.in_shape[2:], spec.padding))
    out = np.zeros((n, c, *padded), dtype=cols.dtype)
    nd = len(spec.kernel)
    out_sp = cols.shape[2:2 + nd]
    for offsets in itertools.product(*(range(k) for k in spec.kernel)):
        target = (slice(None), slice(None), *(
            slice(o * d, o * d + s * (m - 1) + 1, s)
            for o, d, s, m in zip(offsets, spec.dilation, spec.stride, out_sp)))
        out[target] += cols[(Ellipsis, *offsets)]
    crop = (slice(None), slice(None), *(slice(p[0], p[0] + s)
                                        for p, s in zip(spec.padding, spec.in_shape[2:])))
    return out[crop]


class _WindowNode(Node):
    """A linear window op (im2col, col2im and their unfold/fold layouts): its gradient is
    its adjoint, the formula named ``adjoint``, applied with the same spec."""

    __slots__ = ("spec",)
    adjoint = ""

    def backward(self, ns, grads):
        return (getattr(ns, self.adjoint)(grads[0], self.spec),)


def window_node(name: str, adjoint: str) -> type:
    """A node type named as torch's whose backward applies the formula ``adjoint``."""
    return type(name, (_WindowNode,), {"__slots__": (), "adjoint": adjoint})


Im2ColBackward0 = window_node("Im2ColBackward0", "col2im")
Col2ImBackward0 = window_node("Col2ImBackward0", "im2col")


def linear_window_op(array_fn, node_cls, copy: bool):
    def op(input: Tensor, spec: WindowSpec) -> Tensor:
        out = array_fn(input._data, spec)
        if copy:
            out = np.ascontiguousarray(out)
        if not needs_grad(input):
            return _make(out)
        node = node_cls((edge(input),))
        node.spec = spec
        return record(node, out)
    return op


im2col = linear_window_op(_im2col_array, Im2ColBackward0, copy=True)
col2im = linear_window_op(_col2im_array, Col2ImBackward0, copy=False)
formula("im2col", _im2col_array, im2col)
formula("col2im", _col2im_array, col2im)


def _as_matrices(ns, cols, groups: int):
    """(N, C, *out, *k) windows -> (G, N*L, Cg*K) rows, one per output position."""
    shape = tuple(cols.shape)
    nd = (len(shape) - 2) // 2
    n, c = shape[:2]
    out_sp, k = shape[2:2 + nd], shape[2 + nd:]
    L = int(np.prod(out_sp))
    K = int(np.prod(k))
    x = ns.reshape(cols, (n, groups, c // groups, L, K))
    x = ns.permute(x, (1, 0, 3, 2, 4))                      # (G, N, L, Cg, K)
    return ns.reshape(x, (groups, n * L, (c // groups) * K))


def _from_matrices(ns, rows, groups: int, n: int, c: int, out_sp: tuple, k: tuple):
    """Inverse of ``_as_matrices``."""
    L = int(np.prod(out_sp))
    K = int(np.prod(k))
    x = ns.reshape(rows, (groups, n, L, c // groups, K))
    x = ns.permute(x, (1, 0, 3, 2, 4))                      # (N, G, Cg, L, K)
    return ns.reshape(x, (n, c, *out_sp, *k))


def _out_from_rows(ns, y, n: int, out_sp: tuple):
    """(G, N*L, Og) -> (N, G*Og, *out)."""
    g, _, og = tuple(y.shape)
    y = ns.reshape(y, (g, n, int(np.prod(out_sp)), og))
    y = ns.permute(y, (1, 0, 3, 2))                         # (N, G, Og, L)
    return ns.reshape(y, (n, g * og, *out_sp))


def _rows_from_out(ns, gy, groups: int):
    """(N, O, *out) -> (G, N*L, Og)."""
    shape = tuple(gy.shape)
    n, o = shape[:2]
    L = int(np.prod(shape[2:]))
    y = ns.reshape(gy, (n, groups, o // groups, L))
    y = ns.permute(y, (1, 0, 3, 2))                         # (G, N, L, Og)
    return ns.reshape(y, (groups, n * L, o // groups))


class ConvolutionBackward0(Node):
    __slots__ = ("spec", "groups", "has_bias")
    saved_names = ("input", "weight")

    def backward(self, ns, grads):
        g = grads[0]
        x, w = self.unpack(ns.graph)
        spec, groups = self.spec, self.groups
        n, c = spec.in_shape[:2]
        w_shape = tuple(w.shape)
        o = w_shape[0]
        gy = _rows_from_out(ns, g, groups)                   # (G, N*L, Og)
        w2 = ns.reshape(w, (groups, o // groups, -1))        # (G, Og, Cg*K)
        gx = gw = gb = None
        if self._edges[0] is not None:
            rows = ns.matmul(gy, w2)                         # (G, N*L, Cg*K)
            cols = _from_matrices(ns, rows, groups, n, c, spec.out_spatial, spec.kernel)
            gx = ns.col2im(cols, spec)
        if self._edges[2] is not None:
            x2 = _as_matrices(ns, ns.im2col(x, spec), groups)
            gw = ns.reshape(ns.matmul(ns.mT(gy), x2), w_shape)
        if self.has_bias and self._edges[4] is not None:
            gb = ns.sum(g, (0, *range(2, len(tuple(g.shape)))), False)
        return (gx, gw, gb)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, spec: WindowSpec,
                groups: int) -> Tensor:
    """N-d convolution (cross-correlation) of (N, C, *spatial) by (O, C/groups, *kernel)."""
    x, w = input._data, weight._data
    cols = _im2col_array(x, spec)
    n, c = x.shape[:2]
    o = w.shape[0]
    nd = len(spec.kernel)
    out_sp = cols.shape[2:2 + nd]
    # one matrix product per group, batched: (G, N, Cg, *out, *k) x (G, Og, Cg, *k)
    letters = "abcdefgh"[:nd]
    kl = "ijklmnop"[:nd]
    xg = cols.reshape(n, groups, c // groups, *out_sp, *spec.kernel)
    wg = w.reshape(groups, o // groups, c // groups, *spec.kernel)
    out = np.einsum(f"nGc{letters}{kl},Goc{kl}->nGo{letters}", xg, wg, optimize=True)
    out = out.reshape(n, o, *out_sp)
    if bias is not None:
        out = out + bias._data.reshape(1, o, *([1] * nd))
    out = np.ascontiguousarray(out, dtype=np.result_type(x, w))
    if not needs_grad(input, weight, bias):
        return _make(out)
    node = ConvolutionBackward0((edge(input), edge(weight), edge(bias)))
    node.spec = spec
    node.groups = groups
    node.has_bias = bias is not None
    _save(node, (input, weight))
    return record(node, out)
