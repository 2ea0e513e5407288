"""Differentiable ops that nn needs and the core op set lacks, each with its derivative.

addmm (AddmmBackward0), softmax/log_softmax (SoftmaxBackward0/LogSoftmaxBackward0),
erf, and the parameterised activations (leaky_relu, elu, gelu, silu, mish, softplus,
hardtanh) under torch's node names. Formulas use ``ns`` only, so higher-order
gradients work; masks that do not depend differentiably on the input are constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops.define import Node, Tensor, edge, formula, needs_grad, record, unary, wrap_dim
from ..ops.define import save_values as _save

_make = Tensor._make

__all__ = ["addmm", "softmax", "log_softmax", "erf", "activation_op"]


def _record(node_cls: type, inputs: tuple, out: np.ndarray, saved: tuple, **attrs: Any
            ) -> Tensor:
    node = node_cls(tuple(edge(t) for t in inputs))
    for k, v in attrs.items():
        setattr(node, k, v)
    _save(node, saved)
    return record(node, out)


# -- addmm ----------------------------------------------------------------------------


class AddmmBackward0(Node):
    __slots__ = ("bias_shape",)
    saved_names = ("mat1", "mat2")

    def backward(self, ns, grads):
        g = grads[0]
        mat1, mat2 = self.unpack(ns.graph)
        (b_edge, m1_edge, m2_edge) = self.next_functions
        gb = ns.sum_to(g, self.bias_shape) if b_edge[0] is not None else None
        g1 = ns.matmul(g, ns.mT(mat2)) if m1_edge[0] is not None else None
        g2 = ns.matmul(ns.mT(mat1), g) if m2_edge[0] is not None else None
        return (gb, g1, g2)


def addmm(bias: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """torch.addmm(input, mat1, mat2): input + mat1 @ mat2."""
    out = np.asarray(bias._data + mat1._data @ mat2._data)
    if not needs_grad(bias, mat1, mat2):
        return _make(out)
    return _record(AddmmBackward0, (bias, mat1, mat2), out, (mat1, mat2),
                   bias_shape=bias._data.shape)


formula("addmm", lambda b, m1, m2: b + m1 @ m2, addmm)


# -- softmax / log_softmax ----------------------------------------------------------------


def _softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


class SoftmaxBackward0(Node):
    __slots__ = ("dim",)
    saved_names = ("result",)

    def backward(self, ns, grads):
        g = grads[0]
        (y,) = self.unpack(ns.graph)
        gy = ns.mul(g, y)
        return (ns.sub(gy, ns.mul(y, ns.sum(gy, (self.dim,), True))),)


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim",)
    saved_names = ("result",)

    def backward(self, ns, grads):
        g = grads[0]
        (y,) = self.unpack(ns.graph)
        return (ns.sub(g, ns.mul(ns.exp(y), ns.sum(g, (self.dim,), True))),)


def _normalised(array_fn: Callable, node_cls: type) -> Callable:
    from ..autograd.graph import SavedResult

    def op(input: Tensor, dim: int) -> Tensor:
        x = input._data
        if x.dtype.kind in "biu":
            raise RuntimeError(f'"{array_fn.__name__.strip("_").replace("_array", "")}'
                               '_lastdim_kernel_impl" not implemented for \'Long\'')
        d = wrap_dim(dim, x.ndim)
        out = array_fn(x, d) if x.ndim else np.asarray(array_fn(x.reshape(1), 0)[0])
        if not needs_grad(input):
            return _make(out)
        node = node_cls((edge(input),))
        node.dim = d if x.ndim else ()
        res = record(node, out)
        _save(node, (SavedResult(out, res._counter),))
        return res
    return op


softmax = _normalised(_softmax_array, SoftmaxBackward0)
log_softmax = _normalised(_log_softmax_array, LogSoftmaxBackward0)


# -- erf ------------------------------------------------------------------------------

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf_array(x: np.ndarray) -> np.ndarray:
    return np.asarray(_erf_scalar(x), dtype=x.dtype)


@unary(_erf_array, method=False, inplace_variant=False)
def erf(ns, g, self):
    return ns.mul(g, ns.mul(ns.exp(ns.neg(ns.mul(self, self))), 2.0 / math.sqrt(math.pi)))


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
        return _record(node_cls, (input,), out, (input,), params=params)
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
    return 0.5 * x * (1 + _erf_array(x * _SQRT1_2))


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
        if self.next_functions[0][0] is not None:
            denom = ns.mul(ns.rsub(x, 1.0), x)
            denom = ns.where(ns.unwrap(denom) > _BCE_EPS, denom, _BCE_EPS)
            gx = ns.div(ns.mul(g, ns.sub(x, t)), denom)
        if self.next_functions[1][0] is not None:
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
    return _record(BinaryCrossEntropyBackward0, (input, target), out, (input, target))
