"""Adagrad with learning-rate decay and weight decay: torch's update rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_non_negative
from .optimizer import Optimizer, _step_counter, _zeros_state


class Adagrad(Optimizer):
    """torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, *, maximize=False)"""

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Any = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        # torch creates Adagrad's state eagerly, so state_dict() shows it before any step.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group: dict, p: Tensor, state: dict) -> None:
        state["step"] = _step_counter()
        state["sum"] = _zeros_state(p, group["initial_accumulator_value"])

    def _update(self, group: dict, p: Tensor, grad: np.ndarray, state: dict) -> None:
        wd = group["weight_decay"]
        state["step"]._data += 1
        step = float(state["step"]._data)
        if wd != 0:
            grad = grad + wd * p._data
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]._data
        state_sum += grad * grad
        p._data -= clr * grad / (np.sqrt(state_sum) + group["eps"])
