"""Differentiable ops nn's losses need beyond the core op set, each with its derivative:
the elementwise binary cross entropy (BinaryCrossEntropyBackward0)."""

from __future__ import annotations

import math

import numpy as np

from ..ops.activation import record_saving
from ..ops.define import Node, Tensor, needs_grad

_make = Tensor._make

__all__ = ["binary_cross_entropy"]


# -- binary cross entropy (elementwise, before reduction) -----------------------------------

_BCE_EPS = 1e-12


class BinaryCrossEntropyBackward0(Node):
    """torch's gradient: (x - t) / max(x (1 - x), 1e-12), finite even at x = 0 or 1."""

    __slots__ = ()
    saved_names = ("self", "target")

    def backward(self, ns, grads):
        g = grads[0]
        x, t = self.unpack(ns.graph)
        gx = gt = None
        if self._edges[0] is not None:
            denom = ns.mul(ns.rsub(x, 1.0), x)
            denom = ns.where(ns.unwrap(denom) > _BCE_EPS, denom, _BCE_EPS)
            gx = ns.div(ns.mul(g, ns.sub(x, t)), denom)
        if self._edges[2] is not None:
            gt = ns.mul(g, ns.sub(_clamped_log(ns, ns.rsub(x, 1.0)), _clamped_log(ns, x)))
        return (gx, gt)


def _clamped_log(ns, v):
    # log clamped at -100 as torch does; where v is 0 the log of 1 is masked out
    va = ns.unwrap(v)
    ok = va > math.exp(-100)
    return ns.where(ok, ns.log(ns.where(ok, v, 1.0)), -100.0)


def _clamped_log_array(v: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(v), -100.0)


def binary_cross_entropy(input: Tensor, target: Tensor) -> Tensor:
    """Elementwise -(t log x + (1 - t) log(1 - x)), logs clamped at -100."""
    x, t = input._data, target._data
    out = -(t * _clamped_log_array(x) + (1 - t) * _clamped_log_array(1 - x))
    if not needs_grad(input, target):
        return _make(out)
    return record_saving(BinaryCrossEntropyBackward0, (input, target), out, (input, target))
