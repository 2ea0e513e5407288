"""Log-domain two-input math: logaddexp, logaddexp2 and xlogy (x * log(y), 0 where x == 0).

xlogy takes a number on either side, as torch's three overloads do, each with torch's node
(``XlogyBackward0`` both Tensors, ``XlogyBackward1`` number self, ``XlogyBackward2`` number
other).
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .define import Tensor, binary, formula, inplace, tensor_method
from .pointwise import refusing

__all__ = ["logaddexp", "logaddexp2", "xlogy"]

_LN2 = math.log(2.0)


def _logaddexp_grad(ns, g, self, other):
    # d/dself log(e^self + e^other) = 1 / (1 + e^(other - self)), computed without overflow.
    return ns.mul(g, ns.sigmoid(ns.sub(self, other)))


def _logaddexp2_grad(ns, g, self, other):
    return ns.mul(g, ns.sigmoid(ns.mul(ns.sub(self, other), _LN2)))


logaddexp = binary("logaddexp", refusing("logaddexp_cpu", "biu", np.logaddexp),
                   self=_logaddexp_grad,
                   other=lambda ns, g, self, other: _logaddexp_grad(ns, g, other, self),
                   inplace_variant=False, tensors_only=True)
logaddexp2 = binary("logaddexp2", refusing("logaddexp2_cpu", "biu", np.logaddexp2),
                    self=_logaddexp2_grad,
                    other=lambda ns, g, self, other: _logaddexp2_grad(ns, g, other, self),
                    inplace_variant=False, tensors_only=True)


def _xlogy_array(x: Any, y: Any) -> np.ndarray:
    """x * log(y), 0 where x == 0 unless y is NaN."""
    # torch's promotion (a number takes the tensor's precision; bool/int -> default float),
    # in the array currency too, so both currencies round alike.
    dtype = _dt.result_np_dtype(tuple(v for v in (x, y) if isinstance(v, np.ndarray)),
                                tuple(v for v in (x, y) if not isinstance(v, np.ndarray)))
    if dtype.kind in "biu":
        dtype = _dt.get_default_dtype().np
    x, y = np.asarray(x, dtype), np.asarray(y, dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), dtype.type(0), x * np.log(y))


def _xlogy_grad_x(ns, g, self, other):
    # The mask in self's dtype: with a number ``other`` torch keeps self's precision here.
    return ns.mul(g, ns.xlogy(ns.cast(ns.ne(self, 0), ns.np_dtype(self)), other))


def _xlogy_grad_y(ns, g, self, other):
    return ns.div(ns.mul(g, self), other)


_xlogy_tensors = binary("xlogy", _xlogy_array, self=_xlogy_grad_x, other=_xlogy_grad_y,
                        to_float=True, method=False, inplace_variant=False, register=False)
_xlogy_number_other = binary("xlogy", _xlogy_array, self=_xlogy_grad_x,
                             node="XlogyBackward2", to_float=True, method=False,
                             inplace_variant=False, register=False, number_other=True)
# ``xlogy(number, y)``: y is the node's one input, so the forward sees (y, x).
_xlogy_number_self = binary("xlogy", lambda y, x: _xlogy_array(x, y),
                            self=lambda ns, g, self, other: _xlogy_grad_y(ns, g, other, self),
                            node="XlogyBackward1", to_float=True, method=False,
                            inplace_variant=False, register=False, number_other=True)


def xlogy(input: Any, other: Any) -> Tensor:
    """torch.xlogy(input, other) -> Tensor"""
    if isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return _xlogy_tensors(input, other)
        return _xlogy_number_other(input, other)
    if isinstance(other, Tensor) and isinstance(input, (builtins.int, builtins.float,
                                                        np.number)):
        return _xlogy_number_self(other, input)
    return _xlogy_tensors(input, other)          # raises torch's argument error


formula("xlogy", _xlogy_array, xlogy)
tensor_method("xlogy")(xlogy)


@tensor_method()
def xlogy_(self: Tensor, other: Any) -> Tensor:
    """Tensor.xlogy_(other) -> Tensor"""
    return inplace(self, xlogy, "xlogy_", other)
