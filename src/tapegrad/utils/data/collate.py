"""default_collate / default_convert: turn a list of samples into a batch, as torch does.

Tensors are stacked; NumPy arrays and scalars become tensors and are stacked; Python floats
give float64, ints int64, bools bool; strings stay as they are; dicts, tuples and lists are
collated field by field (tuples come back as lists, as in torch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...creation import as_tensor, tensor
from ...dtypes import float64
from ...ops.join import stack
from ...tensor import Tensor

_BAD_TYPE = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
             "lists; found {}")


def default_collate(batch: Sequence[Any]) -> Any:
    """torch.utils.data.default_collate(batch)"""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_BAD_TYPE.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        return as_tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):  # bool included: tensor() keeps bool
        return tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(_BAD_TYPE.format(type(elem)))


def default_convert(data: Any) -> Any:
    """torch.utils.data.default_convert(data): NumPy arrays to tensors, without batching."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return as_tensor(data)
    if isinstance(data, np.generic):
        return as_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data
