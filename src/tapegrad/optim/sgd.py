"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch's update rule)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_non_negative
from .optimizer import Optimizer


class SGD(Optimizer):
    """torch.optim.SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
    nesterov=False, *, maximize=False)"""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: Any = None,
                 differentiable: bool = False, fused: Any = None) -> None:
        check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, group: dict, p: Tensor, grad: np.ndarray, state: dict) -> None:
        mom, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            grad = grad + wd * p._data
        if mom != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._make(grad.copy())
            else:
                b = buf._data
                b *= mom
                b += (1 - group["dampening"]) * grad
            grad = grad + mom * buf._data if group["nesterov"] else buf._data
        np.subtract(p._data, np.multiply(grad, group["lr"], dtype=p._data.dtype), out=p._data)
