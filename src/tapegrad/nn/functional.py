"""nn.functional: the stateless forms of the layers and losses (torch.nn.functional)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import ops as _ops  # noqa: F401
from ..creation import _rng
from ..ops.activation import elu as _elu
from ..ops.activation import gelu as _gelu
from ..ops.activation import hardtanh as _hardtanh
from ..ops.activation import leaky_relu as _leaky_relu
from ..ops.activation import log_softmax as _log_softmax
from ..ops.activation import mish as _mish
from ..ops.activation import silu as _silu
from ..ops.activation import softmax as _softmax
from ..ops.activation import softplus as _softplus
from ..ops.activation import threshold as _threshold
from ..ops.composite import cosine_similarity, normalize, one_hot, pairwise_distance
from ..ops.define import ns_tensor as _ns
from ..ops.matrix import addmm
from ..ops.padding import pad
from ..ops.pointwise import abs, exp, log, relu, sigmoid, tanh, where
from ..ops.reduction import mean, sum
from ..tensor import Tensor
from ._conv_ops import WindowSpec, _from_matrices, _rows_from_out, col2im, convolution
from ._functional_extra import fold, glu, logsigmoid, softsign, unfold
from ._interpolate import interpolate
from ._named import fused
from ._ops import binary_cross_entropy as _bce
from ._pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)

__all__ = ["linear", "bilinear", "relu", "threshold", "leaky_relu", "elu", "gelu", "silu", "mish",
           "softplus", "tanh", "sigmoid", "hardtanh", "relu6", "softmax", "log_softmax",
           "dropout", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "conv1d", "conv2d", "avg_pool1d", "avg_pool2d", "layer_norm", "batch_norm",
           "group_norm", "embedding", "max_pool1d", "max_pool2d", "conv_transpose2d",
           "adaptive_avg_pool2d", "scaled_dot_product_attention", "pad", "adaptive_avg_pool1d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d",
           "normalize", "cosine_similarity", "pairwise_distance", "one_hot",
           "logsigmoid", "softsign", "glu", "unfold", "fold", "interpolate"]

_make = Tensor._make


# -- linear ------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """torch.nn.functional.linear(input, weight, bias=None): input @ weight.T + bias."""
    if bias is None:
        return input.matmul(weight.t())
    if input.dim() == 2:
        return addmm(bias, input, weight.t())
    lead = tuple(input.shape[:-1])
    flat = input.reshape(-1, input.shape[-1])
    return addmm(bias, flat, weight.t()).reshape(*lead, weight.shape[0])


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """torch.nn.functional.bilinear(input1, input2, weight, bias=None)"""
    # y_o = x1^T W_o x2: (N, 1, 1, i) @ (O, i, j) -> (N, O, 1, j), times x2 (N, 1, j, 1)
    x1 = input1.reshape(-1, 1, 1, input1.shape[-1])
    x2 = input2.reshape(-1, 1, input2.shape[-1], 1)
    out = x1.matmul(weight).matmul(x2).reshape(*input1.shape[:-1], weight.shape[0])
    return out + bias if bias is not None else out


# -- activations --------------------------------------------------------------------------


def _maybe_inplace(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    if inplace:
        input.copy_(out)
        return input
    return out


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """torch.nn.functional.threshold(input, threshold, value, inplace=False)"""
    return _maybe_inplace(input, _threshold(input, threshold, value), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """torch.nn.functional.leaky_relu(input, negative_slope=0.01, inplace=False)"""
    return _maybe_inplace(input, _leaky_relu(input, negative_slope), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """torch.nn.functional.elu(input, alpha=1.0, inplace=False)"""
    return _maybe_inplace(input, _elu(input, alpha), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """torch.nn.functional.gelu(input, approximate='none')"""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """torch.nn.functional.silu(input, inplace=False)"""
    return _maybe_inplace(input, _silu(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """torch.nn.functional.mish(input, inplace=False)"""
    return _maybe_inplace(input, _mish(input), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """torch.nn.functional.softplus(input, beta=1.0, threshold=20.0)"""
    return _softplus(input, beta, threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """torch.nn.functional.hardtanh(input, min_val=-1., max_val=1., inplace=False)"""
    return _maybe_inplace(input, _hardtanh(input, min_val, max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """torch.nn.functional.relu6(input, inplace=False)"""
    return hardtanh(input, 0.0, 6.0, inplace)


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """torch.nn.functional.softmax(input, dim=None, dtype=None)"""
    return _softmax(input, _softmax_dim(input.dim()) if dim is None else dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """torch.nn.functional.log_softmax(input, dim=None, dtype=None)"""
    return _log_softmax(input, _softmax_dim(input.dim()) if dim is None else dim, dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """torch.nn.functional.dropout(input, p=0.5, training=True, inplace=False)"""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    keep = _rng(None).random(tuple(input.shape)) >= p
    scale = np.zeros((), input._data.dtype) if p == 1.0 else 1.0 / (1.0 - p)
    mask = _make((keep * scale).astype(input._data.dtype))
    return input.mul_(mask) if inplace else input * mask


# -- losses -----------------------------------------------------------------------------


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.mse_loss(input, target, reduction='mean')"""
    _check_reduction(reduction)

    def mse(input: Tensor, target: Tensor) -> Tensor:
        d = input - target
        return _reduce(d * d, reduction)
    return fused("MseLossBackward0", mse, input, target)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean") -> Tensor:
    """torch.nn.functional.l1_loss(input, target, reduction='mean')"""
    _check_reduction(reduction)
    return _reduce(abs(input - target), reduction)


def _quadratic_then_linear(d: Tensor, cut: float, quad_scale: float, lin_scale: float
                           ) -> Tensor:
    """quad_scale * 0.5 d^2 where |d| < cut, else lin_scale * (|d| - 0.5 cut)."""
    a = abs(d)
    small = a._data < cut
    return where(_make(small), d * d * (0.5 * quad_scale), (a - 0.5 * cut) * lin_scale)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """torch.nn.functional.smooth_l1_loss(input, target, reduction='mean', beta=1.0)"""
    _check_reduction(reduction)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return fused("SmoothL1LossBackward0", lambda input, target: _reduce(
        _quadratic_then_linear(input - target, beta, 1.0 / beta, 1.0), reduction),
        input, target)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.huber_loss(input, target, reduction='mean', delta=1.0)"""
    _check_reduction(reduction)
    return fused("HuberLossBackward0", lambda input, target: _reduce(
        _quadratic_then_linear(input - target, delta, 1.0, delta), reduction), input, target)


def _classes_last(input: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C)."""
    if input.dim() == 1:
        return input.reshape(1, -1)
    if input.dim() == 2:
        return input
    perm = (0, *range(2, input.dim()), 1)
    return input.permute(*perm).reshape(-1, input.shape[1])


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """torch.nn.functional.nll_loss(input, target, weight=None, ignore_index=-100,
    reduction='mean')"""
    _check_reduction(reduction)
    if input.dim() >= 2 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    t = target._data.reshape(-1)
    valid = t != ignore_index
    safe_t = np.where(valid, t, 0)
    n_classes = input.shape[0 if input.dim() == 1 else 1]
    if ((safe_t < 0) | (safe_t >= n_classes)).any():
        bad = int(safe_t[(safe_t < 0) | (safe_t >= n_classes)][0])
        raise IndexError(f"Target {bad} is out of bounds.")
    dtype = input._data.dtype
    w = np.ones(n_classes, dtype) if weight is None else weight._data
    wt = np.where(valid, w[safe_t], 0).astype(dtype)
    # torch: nll_loss up to (N, C); nll_loss2d for (N, C, H, W), and for other shapes
    # nll_loss2d on the input viewed as 4-d, whose unreduced loss is then viewed back
    node_name = "NllLossBackward0" if input.dim() <= 2 else "NllLoss2DBackward0"
    viewed = input.dim() == 3 or input.dim() > 4
    if viewed:
        input = input.reshape(*input.shape[:2], -1, 1)

    def nll(input: Tensor) -> Tensor:
        flat = _classes_last(input)
        losses = -(flat[np.arange(flat.shape[0]), safe_t] * _make(wt))
        if reduction == "none":
            return losses.reshape(*(target.shape if not viewed else
                                    (target.shape[0], -1, 1)))
        total = sum(losses)
        if reduction == "mean":
            total = total / _make(np.asarray(wt.sum(), dtype=wt.dtype))
        return total
    out = fused(node_name, nll, input)
    return out.reshape(*target.shape) if viewed and reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """torch.nn.functional.cross_entropy(input, target, weight=None, ignore_index=-100,
    reduction='mean', label_smoothing=0.0)"""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    n_classes = input.shape[class_dim]
    if target.is_floating_point():                          # class probabilities
        probs = target
        if label_smoothing > 0:
            probs = probs * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * probs
        if weight is not None:
            shape = [1] * input.dim()
            shape[class_dim] = n_classes
            terms = terms * weight.reshape(*shape)
        if reduction == "none":
            return -sum(terms, class_dim)
        if reduction == "sum":
            return -sum(terms)
        n_rows = input.numel() // n_classes            # torch: div by a Scalar
        return fused("DivBackward1", lambda total: total / n_rows, -sum(terms))
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    # torch's graph: the smoothing term is -sum(logp) over classes, 0 at ignored targets,
    # reduced, and both terms are scaled by numbers (MulBackward1, torch's Scalar overload).
    ignored = target._data == ignore_index
    if weight is None:
        smooth = -sum(logp, class_dim)
    else:
        shape = [1] * input.dim()
        shape[class_dim] = n_classes
        smooth = -sum(logp * weight.reshape(*shape), class_dim)
    smooth = smooth.masked_fill(_make(ignored), 0.0)
    if reduction == "sum":
        smooth = sum(smooth)
    elif reduction == "mean":
        kept = target._data[~ignored].reshape(-1)
        smooth = sum(smooth) / (_make(np.asarray(kept.size)) if weight is None else
                                sum(weight.gather(0, _make(kept))))
    return _ns.mul(nll, 1 - label_smoothing) + _ns.mul(smooth, label_smoothing / n_classes)


def _check_same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                         f"input size ({input.shape}) is deprecated. Please ensure they have "
                         "the same size.")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """torch.nn.functional.binary_cross_entropy(input, target, weight=None, reduction='mean')"""
    _check_reduction(reduction)
    _check_same_size(input, target)
    x = input._data
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")

    def bce(input: Tensor, target: Tensor, weight: Tensor | None) -> Tensor:
        loss = _bce(input, target)
        return _reduce(loss if weight is None else loss * weight, reduction)
    return fused("BinaryCrossEntropyBackward0", bce, input, target, extra=(weight,))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight=None,
    reduction='mean', pos_weight=None)"""
    _check_reduction(reduction)
    _check_same_size(input, target)

    def bce_with_logits(input: Tensor, target: Tensor, weight: Tensor | None,
                        pos_weight: Tensor | None) -> Tensor:
        # log(1 + exp(-x)) computed stably as relu(-x) + log(1 + exp(-|x|))
        log_sig_neg = relu(-input) + log(1 + exp(-abs(input)))
        if pos_weight is not None:
            log_sig_neg = ((pos_weight - 1) * target + 1) * log_sig_neg
        loss = (1 - target) * input + log_sig_neg
        return _reduce(loss if weight is None else loss * weight, reduction)
    return fused("BinaryCrossEntropyWithLogitsBackward0", bce_with_logits, input, target,
                 extra=(weight, pos_weight))


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """torch.nn.functional.kl_div(input, target, reduction='mean', log_target=False)"""
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        t = target._data
        positive = _make(t > 0)
        safe = where(positive, target, 1.0)
        loss = where(positive, target * log(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = sum(loss)
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


# -- convolution ----------------------------------------------------------------------------


def _tuple(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _conv_padding(padding: Any, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """torch's padding argument -> ((before, after), ...) per spatial dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            raise ValueError(f"Invalid padding string '{padding}', should be one of "
                             "{'valid', 'same'}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in _tuple(padding, len(kernel)))


def _conv(nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,
          padding: Any, dilation: Any, groups: int) -> Tensor:
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    if input.dim() != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"conv{nd}d, but got input of size: {list(input.shape)}")
    c = input.shape[1]
    if c != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
            "channels instead")
    kernel = tuple(weight.shape[2:])
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    spec = WindowSpec(tuple(input.shape), kernel, stride,
                      _conv_padding(padding, kernel, stride, dilation), dilation)
    out = convolution(input, weight, bias, spec, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch.nn.functional.conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1,
    groups=1)"""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch.nn.functional.conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1,
    groups=1)"""
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


# -- normalisation ----------------------------------------------------------------------------


def _normalise(x: Tensor, dims: tuple, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(biased var + eps) over ``dims``; also the mean and biased var."""
    mu = mean(x, dims, True)
    centred = x - mu
    var = mean(centred * centred, dims, True)
    return centred / (var + eps).sqrt(), mu, var


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.layer_norm(input, normalized_shape, weight=None, bias=None,
    eps=1e-05)"""
    shape = _tuple(normalized_shape, 1)
    if tuple(input.shape[input.dim() - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    dims = tuple(range(input.dim() - len(shape), input.dim()))

    def norm(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
        out = _normalise(input, dims, eps)[0]
        if weight is not None:
            out = out * weight
        return out if bias is None else out + bias
    return fused("NativeLayerNormBackward0", norm, input, weight, bias)


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    return t.reshape(1, -1, *([1] * (ndim - 2)))


def _affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """out * weight + bias, per channel (dim 1)."""
    if weight is not None:
        out = out * _per_channel(weight, out.dim())
    if bias is not None:
        out = out + _per_channel(bias, out.dim())
    return out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.batch_norm(input, running_mean, running_var, weight=None,
    bias=None, training=False, momentum=0.1, eps=1e-05)"""
    dims = (0, *range(2, input.dim()))
    nd = input.dim()
    batch_stats = []                     # (mean, biased var) of the forward's batch

    def norm(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
        if training:
            out, mu, var = _normalise(input, dims, eps)
            batch_stats.append((mu._data, var._data))
        else:
            out = (input - _per_channel(running_mean, nd)) / (
                _per_channel(running_var, nd) + eps).sqrt()
        return _affine(out, weight, bias)
    if training:
        count = input.numel() // input.shape[1]
        if count == 1:
            raise ValueError("Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
    result = fused("NativeBatchNormBackward0", norm, input, weight, bias, saved=(0, 1))
    if training and running_mean is not None:
        m = momentum
        mu, var = batch_stats[0]
        unbiased = var.reshape(-1) * count / (count - 1)
        running_mean._data[...] = (1 - m) * running_mean._data + m * mu.reshape(-1)
        running_var._data[...] = (1 - m) * running_var._data + m * unbiased
        running_mean._counter.bump("add_")
        running_var._counter.bump("add_")
    return result


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.group_norm(input, num_groups, weight=None, bias=None, eps=1e-05)"""
    n, c = input.shape[:2]
    if c % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {input.shape} and "
                           f"num_groups={num_groups}")

    def norm(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
        out = _normalise(input.reshape(n, num_groups, -1), (2,), eps)[0]
        return _affine(out.reshape(*input.shape), weight, bias)
    return fused("NativeGroupNormBackward0", norm, input, weight, bias, saved=(0, 1))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: Any = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """torch.nn.functional.embedding(input, weight, padding_idx=None)"""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got torch.FloatTensor "
                           "instead (while checking arguments for embedding)")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]

    def lookup(weight: Tensor) -> Tensor:
        out = weight[idx]
        if padding_idx is None:
            return out
        # same values, but rows looked up at padding_idx pass no gradient to the weight
        return where(_make((idx != padding_idx)[..., None]), out, out.detach())
    return fused("EmbeddingBackward0", lookup, weight, saved=())  # torch saves the indices


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """torch.nn.functional.conv_transpose2d(input, weight, bias=None, stride=1, padding=0,
    output_padding=0, groups=1, dilation=1)

    Built as the adjoint of conv2d (rows @ weight, then col2im), so its grad_fn is
    Col2ImBackward0/AddBackward0 rather than torch's ConvolutionBackward0.
    """
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    n, c_in = input.shape[:2]
    kernel = tuple(weight.shape[2:])
    stride, dilation = _tuple(stride, 2), _tuple(dilation, 2)
    pad, out_pad = _tuple(padding, 2), _tuple(output_padding, 2)
    c_out = weight.shape[1] * groups
    out_sp = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                   zip(input.shape[2:], stride, pad, dilation, kernel, out_pad))
    # the conv2d this is the adjoint of: output_padding extends the far side
    spec = WindowSpec((n, c_out, *out_sp), kernel, stride,
                      tuple((p, p - op) for p, op in zip(pad, out_pad)), dilation)
    rows = _ns.matmul(_rows_from_out(_ns, input, groups),
                     weight.reshape(groups, c_in // groups, -1))
    cols = _from_matrices(_ns, rows, groups, n, c_out, tuple(input.shape[2:]), kernel)
    out = col2im(cols, spec)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


# -- attention -------------------------------------------------------------------------------


def _additive_mask(mask: Tensor | None, dtype_like: Tensor) -> Tensor | None:
    """A boolean mask (True = attend) or a float mask (added) -> an additive float mask."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return _make(np.where(mask._data, 0.0, -np.inf).astype(dtype_like._data.dtype))
    return mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=None,
    dropout_p=0.0, is_causal=False, scale=None)"""
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / np.sqrt(query.shape[-1]) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if is_causal:
        causal = _make(np.tril(np.ones((L, S), dtype=np.bool_)))
        scores = scores + _additive_mask(causal, scores)
    mask = _additive_mask(attn_mask, scores)
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights.matmul(value)


def _attention_with_weights(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None,
                            dropout_p: float) -> tuple[Tensor, Tensor]:
    scores = q.matmul(k.transpose(-2, -1)) * (1.0 / np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, -1)
    dropped = dropout(weights, dropout_p) if dropout_p > 0.0 else weights
    return dropped.matmul(v), weights


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor, num_heads: int,
                         in_proj_weight: Tensor, in_proj_bias: Tensor | None,
                         out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                         key_padding_mask: Tensor | None = None, need_weights: bool = True,
                         attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                         dropout_p: float = 0.0, is_causal: bool = False
                         ) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on batch-first (N, L, E) inputs (the core of nn.MultiheadAttention)."""
    n, L, e = query.shape
    S = key.shape[1]
    head = e // num_heads
    w_q, w_k, w_v = (in_proj_weight[i * e:(i + 1) * e] for i in range(3))
    b_q, b_k, b_v = ((in_proj_bias[i * e:(i + 1) * e] for i in range(3))
                     if in_proj_bias is not None else (None, None, None))

    def heads(x: Tensor, w: Tensor, b: Tensor | None, length: int) -> Tensor:
        return linear(x, w, b).reshape(n, length, num_heads, head).transpose(1, 2)

    q, k, v = heads(query, w_q, b_q, L), heads(key, w_k, b_k, S), heads(value, w_v, b_v, S)
    mask = None
    if attn_mask is None and is_causal:
        attn_mask = _make(np.tril(np.ones((L, S), dtype=np.bool_)))
    if attn_mask is not None:
        am = attn_mask
        if am._data.dtype == np.bool_:          # MHA: True means "may NOT attend"
            am = _make(~am._data)
        am = _additive_mask(am, q)
        mask = am.reshape(n, num_heads, L, S) if am.dim() == 3 else am
    if key_padding_mask is not None:
        kp = key_padding_mask._data
        kp_add = (np.where(kp, -np.inf, 0.0) if kp.dtype == np.bool_ else kp)
        kp_mask = _make(kp_add.astype(q._data.dtype).reshape(n, 1, 1, S))
        mask = kp_mask if mask is None else mask + kp_mask
    out, weights = _attention_with_weights(q, k, v, mask, dropout_p)
    out = linear(out.transpose(1, 2).reshape(n, L, e), out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = mean(weights, 1)
    return out, weights
