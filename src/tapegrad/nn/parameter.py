"""nn.Parameter: a Tensor that a Module registers as one of its parameters."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor, _retype

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """torch.nn.Parameter(data=None, requires_grad=True)"""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from ..creation import empty
            data = empty(0)
        t = _retype(data.detach(), cls)
        t.requires_grad_(requires_grad)
        return t

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        return Tensor.__reduce_ex__(self, protocol)


class Buffer(Tensor):
    """torch.nn.Buffer(data, *, persistent=True): marks a tensor to register as a buffer."""

    def __new__(cls, data: Tensor, *, persistent: bool = True) -> Tensor:
        t = _retype(data.detach(), cls)
        t.persistent = persistent
        return t

    def __init__(self, data: Tensor, *, persistent: bool = True) -> None:
        pass
