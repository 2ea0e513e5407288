"""parameters_to_vector / vector_to_parameters (torch.nn.utils.convert_parameters)."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """torch.nn.utils.parameters_to_vector(parameters): one flat, differentiable vector."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """torch.nn.utils.vector_to_parameters(vec, parameters): copy slices of vec into them."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
