"""torch.device and the device checks: tapegrad computes on the CPU only.

A device object may name any device type torch knows (as torch allows); asking for
memory on one that is not the CPU raises what a CPU-only torch build raises.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any

__all__ = ["device", "check_device", "on_cpu"]

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


class device:
    """torch.device(type, index=None) / torch.device('type:index')."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, (builtins.int,)) and not isinstance(type, builtins.bool):
            raise RuntimeError(_NO_ACCELERATOR)
        elif isinstance(type, str) and index is None and ":" in type:
            type, _, text = type.partition(":")
            if not text.isdigit() or type not in _DEVICE_TYPES:
                raise RuntimeError(f"Invalid device string: '{type}:{text}'")
            index = builtins.int(text)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, device) and other.type == self.type
                and other.index == self.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return (device, (self.type, self.index))


def check_device(where: Any) -> None:
    """Raise what CPU-only torch raises when memory is asked for on ``where`` (None: the CPU)."""
    if where is None:
        return
    kind = device(where).type
    if kind == "cpu":
        return
    if kind == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"PyTorch is not linked with support for {kind} devices "
                       "(tapegrad: it computes on the CPU only.)")


def on_cpu(fn: Callable) -> Callable:
    """Wrap a factory taking ``device=``: check the device, then make the tensor."""

    @functools.wraps(fn)
    def make(*args: Any, **kwargs: Any) -> Any:
        check_device(kwargs.get("device"))
        return fn(*args, **kwargs)

    return make
