"""Activation ops: softmax/log_softmax (also ``torch.softmax`` and the Tensor methods)
and the parameterised pointwise activations nn uses (leaky_relu, elu, gelu, silu, mish,
softplus, hardtanh), each with its derivative under torch's node name.

Formulas use ``ns`` only, so higher-order gradients work; masks that do not depend
differentiably on the input are constants.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import SavedResult
from .backward_ops import backward_op, keep_array, pointwise_backward_op
from .define import Node, Tensor, camel, edge, needs_grad, ns_array, record, tensor_method, wrap_dim
from .define import save_values as _save
from .unary_math import _erf_forward

_make = Tensor._make

__all__ = ["softmax", "log_softmax", "activation_op", "record_saving"]


def record_saving(node_cls: type, inputs: tuple, out: np.ndarray, saved: tuple,
                  **attrs: Any) -> Tensor:
    """Record ``out`` as the output of a new ``node_cls`` over ``inputs``, saving ``saved``."""
    node = node_cls(tuple(edge(t) for t in inputs))
    for k, v in attrs.items():
        setattr(node, k, v)
    _save(node, saved)
    return record(node, out)


# -- softmax / log_softmax ----------------------------------------------------------------


def _softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def _softmax_backward_data(ns, g, y, dim):
    """y (g - sum(g y)) along the softmax dim."""
    gy = ns.mul(g, y)
    return ns.sub(gy, ns.mul(y, ns.sum(gy, dim, True)))


def _softmax_backward_second(ns, gg, g, y, dim):
    # d/dy <gg, y (g - sum(g y))> = gg (g - sum(g y)) - g sum(gg y)
    return ns.sub(ns.mul(gg, ns.sub(g, ns.sum(ns.mul(g, y), dim, True))),
                  ns.mul(g, ns.sum(ns.mul(gg, y), dim, True)))


def _log_softmax_backward_data(ns, g, y, dim):
    """g - exp(y) sum(g) along the softmax dim."""
    return ns.sub(g, ns.mul(ns.exp(y), ns.sum(g, dim, True)))


def _log_softmax_backward_transposed(ns, gg, y, dim):
    # The op is g -> g - exp(y) sum(g), not symmetric: its transpose is gg - sum(gg exp(y)).
    return ns.sub(gg, ns.sum(ns.mul(gg, ns.exp(y)), dim, True))


def _log_softmax_backward_second(ns, gg, g, y, dim):
    # d/dy <gg, g - exp(y) sum(g)> = -gg exp(y) sum(g)
    return ns.neg(ns.mul(ns.mul(gg, ns.exp(y)), ns.sum(g, dim, True)))


backward_op("softmax_backward_data", "SoftmaxBackwardDataBackward0",
            functools.partial(_softmax_backward_data, ns_array), _softmax_backward_second,
            saved_name="output")
backward_op("log_softmax_backward_data", "LogSoftmaxBackwardDataBackward0",
            functools.partial(_log_softmax_backward_data, ns_array),
            _log_softmax_backward_second, saved_name="output",
            transposed=_log_softmax_backward_transposed)


class _NormalisedNode(Node):
    """softmax / log_softmax: ``ns.<backward_data>(g, result, dim)``."""

    __slots__ = ("dim",)
    saved_names = ("result",)
    backward_data: str

    def backward(self, ns, grads):
        (y,) = self.unpack(ns.graph)
        return (getattr(ns, self.backward_data)(grads[0], y, self.dim),)


SoftmaxBackward0 = type("SoftmaxBackward0", (_NormalisedNode,),
                        {"__slots__": (), "backward_data": "softmax_backward_data"})
LogSoftmaxBackward0 = type("LogSoftmaxBackward0", (_NormalisedNode,),
                           {"__slots__": (), "backward_data": "log_softmax_backward_data"})


def _normalised(name: str, array_fn: Callable, node_cls: type) -> Callable:
    def op(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
        if dtype is not None:
            input = input.to(dtype)
        x = input._data
        if x.dtype.kind in "biu":
            raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                      f"'{_dt.from_numpy_dtype(x.dtype).scalar_name}'")
        d = wrap_dim(dim, x.ndim)
        out = array_fn(x, d) if x.ndim else np.asarray(array_fn(x.reshape(1), 0)[0])
        if not needs_grad(input):
            return _make(out)
        node = node_cls((edge(input),))
        node.dim = (d,) if x.ndim else ()
        res = record(node, out)
        _save(node, (SavedResult(out, res._counter),))
        return res

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}(input, dim, dtype=None) -> Tensor"
    op.node_class = node_cls
    tensor_method(name)(op)
    return op


softmax = _normalised("softmax", _softmax_array, SoftmaxBackward0)
log_softmax = _normalised("log_softmax", _log_softmax_array, LogSoftmaxBackward0)


# -- parameterised pointwise activations ---------------------------------------------------


class _ActivationNode(Node):
    """One input, saved; ``derivative(ns, g, x, x_array, *params)`` gives its gradient."""

    __slots__ = ("params",)
    saved_names = ("self",)
    derivative: Callable

    def backward(self, ns, grads):
        (x,) = self.unpack(ns.graph)
        return (self.derivative(ns, grads[0], x, ns.unwrap(x), *self.params),)


def activation_op(node_name: str, forward: Callable, derivative: Callable) -> Callable:
    """An elementwise op with extra scalar parameters and torch's node name."""
    node_cls = type(node_name, (_ActivationNode,),
                    {"__slots__": (), "derivative": staticmethod(derivative)})

    def op(input: Tensor, *params: Any) -> Tensor:
        out = np.asarray(forward(input._data, *params), dtype=input._data.dtype)
        if not needs_grad(input):
            return _make(out)
        return record_saving(node_cls, (input,), out, (input,), params=params)
    op.node_class = node_cls
    return op


def fused_activation_op(name: str, forward: Callable, slope: Callable,
                        slope_derivative: Callable | None = None, **kw: Any) -> Callable:
    """An activation whose derivative is the fused op ``ns.<name>_backward(g, x, *params)``
    = ``g * slope(x)``, recorded under create_graph as torch's
    ``<Name>BackwardBackward0``; ``slope_derivative`` None means piecewise constant."""
    backward_name = name + "_backward"
    pointwise_backward_op(backward_name, camel(name) + "BackwardBackward0", slope,
                          slope_derivative, **kw)
    return activation_op(camel(name) + "Backward0", forward,
                         lambda ns, g, x, xa, *params: getattr(ns, backward_name)(g, x, *params))


def _const_like(ns, x_array: np.ndarray, values: np.ndarray) -> Any:
    return ns.constant(np.asarray(values, dtype=x_array.dtype))


def _mask_slope(values: Callable) -> Callable:
    """A piecewise-constant slope ``values(x_array, *params)``, as a constant."""
    return lambda ns, x, *params: _const_like(ns, ns.unwrap(x), values(ns.unwrap(x), *params))


threshold = activation_op(
    "ThresholdBackward0", lambda x, threshold, value: np.where(x > threshold, x, value),
    lambda ns, g, x, xa, threshold, value: ns.threshold_backward(g, x, threshold))

leaky_relu = fused_activation_op(
    "leaky_relu", lambda x, s: np.where(x > 0, x, x * s),
    _mask_slope(lambda xa, s: np.where(xa > 0, 1.0, s)))


def _elu_curve(ns, x, alpha):
    """alpha exp(x) below 0, 0 above: the slope's smooth part, and also its derivative."""
    xa = ns.unwrap(x)
    neg = _const_like(ns, xa, xa <= 0)
    # exp(x * neg) is exp(0) = 1 where x > 0: no overflow, and masked out.
    return ns.mul(ns.mul(ns.exp(ns.mul(x, neg)), neg), alpha)


elu = fused_activation_op(
    "elu", lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    lambda ns, x, alpha: ns.add(_const_like(ns, ns.unwrap(x), ns.unwrap(x) > 0),
                                _elu_curve(ns, x, alpha)),
    _elu_curve)

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_TANH = math.sqrt(2 / math.pi)
_C_TANH = 0.044715


def _gelu_forward(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K_TANH * (x + _C_TANH * x ** 3)))
    return 0.5 * x * (1 + _erf_forward(x * _SQRT1_2))


def _gelu_tanh_parts(ns, x):
    """t = tanh(k (x + c x^3)) and its inner derivative k (1 + 3 c x^2)."""
    x2 = ns.mul(x, x)
    t = ns.tanh(ns.mul(ns.add(x, ns.mul(ns.mul(x2, x), _C_TANH)), _K_TANH))
    return t, x2, ns.mul(ns.add(ns.mul(x2, 3 * _C_TANH), 1.0), _K_TANH)


def _normal_pdf(ns, x):
    return ns.mul(ns.exp(ns.mul(ns.mul(x, x), -0.5)), _INV_SQRT_2PI)


def _gelu_slope(ns, x, approximate):
    if approximate == "tanh":
        t, _, inner = _gelu_tanh_parts(ns, x)
        return ns.add(ns.mul(ns.add(t, 1.0), 0.5),
                      ns.mul(ns.mul(ns.mul(x, ns.rsub(ns.mul(t, t), 1.0)), inner), 0.5))
    cdf = ns.mul(ns.add(ns.erf(ns.mul(x, _SQRT1_2)), 1.0), 0.5)
    return ns.add(cdf, ns.mul(x, _normal_pdf(ns, x)))


def _gelu_slope_derivative(ns, x, approximate):
    if approximate == "tanh":
        # (1 - t^2) (inner - x t inner^2 + 3 k c x^2)
        t, x2, inner = _gelu_tanh_parts(ns, x)
        bracket = ns.add(ns.sub(inner, ns.mul(ns.mul(x, t), ns.mul(inner, inner))),
                         ns.mul(x2, 3 * _K_TANH * _C_TANH))
        return ns.mul(ns.rsub(ns.mul(t, t), 1.0), bracket)
    return ns.mul(_normal_pdf(ns, x), ns.rsub(ns.mul(x, x), 2.0))     # pdf (2 - x^2)


gelu = fused_activation_op("gelu", _gelu_forward, _gelu_slope, _gelu_slope_derivative)


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


def _silu_grad(ns, g, x, xa):
    s = ns.sigmoid(x)
    # (g s) (1 + x (1 - s)): torch's grouping, so the graph under create_graph is its too.
    return ns.mul(ns.mul(g, s), ns.add(ns.mul(x, ns.rsub(s, 1.0)), 1.0))


silu = activation_op("SiluBackward0", lambda x: x * _sigmoid_array(x), _silu_grad)


def _softplus_array(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)


def _mish_grad(ns, g, x, xa):
    tsp = ns.tanh(_softplus_tensor(ns, x))
    return ns.mul(g, ns.add(tsp, ns.mul(ns.mul(x, ns.sigmoid(x)), ns.rsub(ns.mul(tsp, tsp), 1.0))))


def _softplus_tensor(ns, x):
    # log(1 + exp(x)) = relu(x) + log(1 + exp(-|x|)): stable in both currencies.
    return ns.add(ns.relu(x), ns.log(ns.add(ns.exp(ns.neg(ns.abs(x))), 1.0)))


mish = activation_op("MishBackward0",
                     lambda x: x * np.tanh(np.logaddexp(0, x)), _mish_grad)


def _softplus_parts(ns, x, beta, threshold):
    """sigmoid(beta x) where softplus is curved (0 elsewhere), and the linear mask."""
    xa = ns.unwrap(x)
    linear = xa * beta > threshold
    return ns.mul(ns.sigmoid(ns.mul(x, beta)), _const_like(ns, xa, ~linear)), linear


def _softplus_slope(ns, x, beta, threshold):
    s, linear = _softplus_parts(ns, x, beta, threshold)
    return ns.add(s, _const_like(ns, ns.unwrap(x), linear))


def _softplus_slope_derivative(ns, x, beta, threshold):
    s, _ = _softplus_parts(ns, x, beta, threshold)
    return ns.mul(ns.mul(s, ns.rsub(s, 1.0)), beta)      # beta s (1 - s), 0 where linear


softplus = fused_activation_op("softplus", _softplus_array, _softplus_slope,
                               _softplus_slope_derivative)

def _hardtanh_inside(xa: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (xa > lo) & (xa < hi)


hardtanh = fused_activation_op(
    "hardtanh", lambda x, lo, hi: np.clip(x, lo, hi), _mask_slope(_hardtanh_inside),
    # torch's hardtanh_backward selects: +0.0 outside, not g * 0
    array_fn=lambda g, x, lo, hi: keep_array(g, _hardtanh_inside(x, lo, hi)))
