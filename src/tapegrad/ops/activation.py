"""Activation ops: softmax/log_softmax (also ``torch.softmax`` and the Tensor methods)
and the parameterised pointwise activations nn uses (leaky_relu, elu, gelu, silu, mish,
softplus, hardtanh), each with its derivative under torch's node name.

Formulas use ``ns`` only, so higher-order gradients work; masks that do not depend
differentiably on the input are constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import SavedResult
from .define import Node, Tensor, edge, needs_grad, record, tensor_method, wrap_dim
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


class SoftmaxBackward0(Node):
    """y (g - sum(g y)) along the softmax dim."""

    __slots__ = ("dim",)
    saved_names = ("result",)

    def backward(self, ns, grads):
        g = grads[0]
        (y,) = self.unpack(ns.graph)
        gy = ns.mul(g, y)
        return (ns.sub(gy, ns.mul(y, ns.sum(gy, self.dim, True))),)


class LogSoftmaxBackward0(Node):
    """g - exp(y) sum(g) along the softmax dim."""

    __slots__ = ("dim",)
    saved_names = ("result",)

    def backward(self, ns, grads):
        g = grads[0]
        (y,) = self.unpack(ns.graph)
        return (ns.sub(g, ns.mul(ns.exp(y), ns.sum(g, self.dim, True))),)


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


def _const_like(ns, x_array: np.ndarray, values: np.ndarray) -> Any:
    return ns.constant(np.asarray(values, dtype=x_array.dtype))


leaky_relu = activation_op(
    "LeakyReluBackward0",
    lambda x, s: np.where(x > 0, x, x * s),
    lambda ns, g, x, xa, s: ns.mul(g, _const_like(ns, xa, np.where(xa > 0, 1.0, s))))


def _elu_grad(ns, g, x, xa, alpha):
    neg = _const_like(ns, xa, xa <= 0)
    # exp(x * neg) is exp(0) = 1 where x > 0: no overflow, and masked out below.
    slope = ns.add(_const_like(ns, xa, xa > 0), ns.mul(ns.mul(ns.exp(ns.mul(x, neg)), neg), alpha))
    return ns.mul(g, slope)


elu = activation_op(
    "EluBackward0",
    lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    _elu_grad)

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_TANH = math.sqrt(2 / math.pi)
_C_TANH = 0.044715


def _gelu_forward(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K_TANH * (x + _C_TANH * x ** 3)))
    return 0.5 * x * (1 + _erf_forward(x * _SQRT1_2))


def _gelu_grad(ns, g, x, xa, approximate):
    if approximate == "tanh":
        x2 = ns.mul(x, x)
        t = ns.tanh(ns.mul(ns.add(x, ns.mul(ns.mul(x2, x), _C_TANH)), _K_TANH))
        inner = ns.mul(ns.add(ns.mul(x2, 3 * _C_TANH), 1.0), _K_TANH)
        d = ns.add(ns.mul(ns.add(t, 1.0), 0.5),
                   ns.mul(ns.mul(ns.mul(x, ns.rsub(ns.mul(t, t), 1.0)), inner), 0.5))
        return ns.mul(g, d)
    cdf = ns.mul(ns.add(ns.erf(ns.mul(x, _SQRT1_2)), 1.0), 0.5)
    pdf = ns.mul(ns.exp(ns.mul(ns.mul(x, x), -0.5)), _INV_SQRT_2PI)
    return ns.mul(g, ns.add(cdf, ns.mul(x, pdf)))


gelu = activation_op("GeluBackward0", _gelu_forward, _gelu_grad)


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


def _silu_grad(ns, g, x, xa):
    s = ns.sigmoid(x)
    return ns.mul(g, ns.mul(s, ns.add(ns.mul(x, ns.rsub(s, 1.0)), 1.0)))


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


def _softplus_grad(ns, g, x, xa, beta, threshold):
    linear = xa * beta > threshold
    s = ns.mul(ns.sigmoid(ns.mul(x, beta)), _const_like(ns, xa, ~linear))
    return ns.mul(g, ns.add(s, _const_like(ns, xa, linear)))


softplus = activation_op("SoftplusBackward0", _softplus_array, _softplus_grad)

hardtanh = activation_op(
    "HardtanhBackward0",
    lambda x, lo, hi: np.clip(x, lo, hi),
    lambda ns, g, x, xa, lo, hi: ns.mul(g, _const_like(ns, xa, (xa > lo) & (xa < hi))))
