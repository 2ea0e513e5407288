"""Gradient clipping, in place on each parameter's .grad (torch.nn.utils.clip_grad)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p._grad for p in parameters if p._grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type=2.0,
    error_if_nonfinite=False): returns the total norm before clipping."""
    grads = _grads(parameters)
    if not grads:
        return Tensor._make(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    dt = grads[0]._data.dtype
    if norm_type == math.inf:
        norms = [np.abs(g._data).max() for g in grads]
        total = np.max(norms)
    else:
        norms = [np.sum(np.abs(g._data) ** norm_type) ** (1.0 / norm_type) for g in grads]
        total = np.sum(np.asarray(norms) ** norm_type) ** (1.0 / norm_type)
    total = np.asarray(total, dtype=dt)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    for g in grads:
        g._data *= np.asarray(coef, dtype=g._data.dtype)
        g._counter.bump("mul_")
    return Tensor._make(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """torch.nn.utils.clip_grad_value_(parameters, clip_value)"""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._counter.bump("clamp_")
