"""Padding: ``torch.nn.functional.pad`` in its four modes, with torch's errors.

constant pads with a value (negative widths crop); its gradient is the opposite pad of
the incoming gradient, so it differentiates to any order. reflect, replicate and circular
pick each output element from a position of the input (negative widths crop here too):
a gather, whose gradient adds back at those positions.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .define import Node, Tensor, edge, formula, needs_grad, record
from .indexing import gather_flat, positions

_make = Tensor._make

__all__ = ["pad"]

# NumPy's name for each mode, and torch's node name (k = number of padded dims)
_GATHER_MODES = {"reflect": ("reflect", "ReflectionPad{}DBackward0"),
                 "replicate": ("edge", "ReplicationPad{}DBackward0"),
                 # torch builds the circular pad by copying slices into a new tensor
                 "circular": ("wrap", "CopySlices")}


def _pad_arg(pad: Any) -> tuple:
    if isinstance(pad, Tensor):
        pad = pad.tolist()
    out = []
    for i, p in enumerate(pad):
        if isinstance(p, Tensor) and p.dim() == 0 and not p.is_floating_point():
            p = p.item()
        if not isinstance(p, (builtins.int, np.integer)) or isinstance(p, builtins.bool):
            raise TypeError("pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
        out.append(builtins.int(p))
    return tuple(out)


def _widths(pad: tuple, ndim: int) -> list:
    """(before, after) per dim of the input: pad's pairs apply from the last dim back."""
    k = len(pad) // 2
    return [(0, 0)] * (ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]


def _crop_then_pad(widths: list) -> tuple:
    """Negative widths crop: the slices to keep, and the non-negative widths to add."""
    keep = tuple(slice(max(-lo, 0), hi if hi < 0 else None) for lo, hi in widths)
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return keep, grow


# -- constant --------------------------------------------------------------------------------


class ConstantPadNdBackward0(Node):
    """The gradient of a constant pad is the gradient cropped back (the opposite pad)."""

    __slots__ = ("widths",)

    def backward(self, ns, grads):
        return (ns.constant_pad(grads[0], [(-lo, -hi) for lo, hi in self.widths]),)


def _constant_pad_array(a: np.ndarray, widths: list, value: Any = 0) -> np.ndarray:
    keep, grow = _crop_then_pad(widths)
    return np.pad(a[keep], grow, constant_values=value)


def _constant_pad(input: Tensor, widths: list, value: Any = 0) -> Tensor:
    a = input._data
    for (lo, hi), size in zip(widths, a.shape):
        if (lo < 0 and size + lo < 0) or (hi < 0 and size + min(lo, 0) + hi < 0):
            raise RuntimeError("narrow(): length must be non-negative.")
    out = _constant_pad_array(a, widths, value)
    if not needs_grad(input):
        return _make(out)
    node = ConstantPadNdBackward0((edge(input),))
    node.widths = widths
    return record(node, out)


formula("constant_pad", _constant_pad_array, _constant_pad)


# -- reflect / replicate / circular ------------------------------------------------------------


def _check_gather_pad(a: np.ndarray, pad: tuple, widths: list, mode: str, k: int) -> None:
    if not 1 <= k <= 3 or a.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {a.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        for (lo, hi), size in zip(widths[-k:], a.shape[-k:]):
            if lo > size or hi > size:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        return
    spatial = a.shape[1:] if a.ndim == k + 2 else a.shape
    if 0 in spatial:
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           "batch size and other non-zero dimensions for input, but got: "
                           f"{list(a.shape)}")
    if mode == "reflect":
        for d, ((lo, hi), size) in enumerate(zip(widths[-k:], a.shape[-k:])):
            if lo >= size or hi >= size:
                raise RuntimeError("Argument #4: Padding size should be less than the "
                                   f"corresponding input dimension, but got: padding ({lo}, "
                                   f"{hi}) at dimension {a.ndim - k + d} of input "
                                   f"{list(a.shape)}")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """torch.nn.functional.pad(input, pad, mode='constant', value=None)"""
    pad = _pad_arg(pad)
    a = input._data
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > a.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           "input dimension but got padding length "
                           f"{len(pad)} and input of dimension {a.ndim}")
    widths = _widths(pad, a.ndim)
    if mode == "constant":
        return _constant_pad(input, widths, 0 if value is None else value)
    if mode not in _GATHER_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    _check_gather_pad(a, pad, widths, mode, k)
    np_mode, name = _GATHER_MODES[mode]
    keep, grow = _crop_then_pad(widths)
    index = np.pad(positions(a.shape)[keep], grow, mode=np_mode)   # crop first, as torch
    return gather_flat(input, index, name.format(k))
