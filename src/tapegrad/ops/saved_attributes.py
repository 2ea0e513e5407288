"""torch's ``grad_fn._saved_<name>`` attributes for the common nodes, by torch's names.

Nodes made by ``unary`` already expose theirs (the derivative's parameter names are
torch's: ``_saved_self``, ``_saved_result``). This table covers the rest: which saved
values a node shows under which name, and the non-tensor arguments torch records
(sizes, dims, exponents). Tensor values are unpacked like backward would (version
check, freed error, saved-tensor hooks); Python scalars saved by an op come back as
0-d tensors, as torch's "wrapped numbers" do. Non-tensor values outlive backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.graph import FREED_MESSAGE, Node, register_saved_attributes
from .define import Tensor

Getter = Callable[[Node], Any]


def _softmax_dim(node: Any) -> int:
    """(log_)softmax keeps its dim as a 1-tuple (empty for a 0-d input, where torch says 0)."""
    return node.dim[0] if node.dim else 0


def _saved(index: int, wrap_numbers: bool = True) -> Getter:
    """The value saved at ``index`` of the node's saved tuple (None if not saved)."""
    def get(node: Node) -> Any:
        saved = node._saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        if index >= len(saved) or saved[index] is None:
            return None
        value = node.unpack(True, index)[0]
        if wrap_numbers and not isinstance(value, Tensor):
            value = Tensor._make(np.asarray(value))       # int -> int64, float -> float64
        return value
    if wrap_numbers:                 # a tensor in torch too: it has a _raw_saved_ twin
        get.saved_index = index
    return get


def _const(value: Any) -> Getter:
    return lambda node: value


def _sizes(node: Node) -> tuple:
    return tuple(node.shape)


def _numel(node: Node) -> int:
    return int(np.prod(node.shape, dtype=np.int64))


def _dims(node: Node) -> tuple:
    return tuple(node.dims)


def _keepdim(node: Node) -> bool:
    return bool(node.keepdim)


def _matmul_meta(index: int, what: str) -> Getter:
    def get(node: Node) -> tuple:
        saved = node._saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        data = saved[index]._data
        if what == "sizes":
            return tuple(data.shape)
        return tuple(s // data.itemsize for s in data.strides)
    return get


_BINARY = {"self": _saved(0), "other": _saved(1)}
_REDUCED_ALL = {"self_sym_sizes": _sizes}
_REDUCED_DIMS = {"dim": _dims, "keepdim": _keepdim, "self_sym_sizes": _sizes}

register_saved_attributes({
    "MulBackward0": _BINARY,
    "DivBackward0": _BINARY,
    "AddBackward0": {"alpha": _const(1)},
    "SubBackward0": {"alpha": _const(1)},
    "RsubBackward1": {"alpha": _const(1)},
    "PowBackward0": {"self": _saved(0), "exponent": _saved(1, wrap_numbers=False)},
    "PowBackward1": {"self": _saved(0), "exponent": _saved(1), "result": _saved(2)},
    "SumBackward0": _REDUCED_ALL,
    "SumBackward1": _REDUCED_DIMS,
    "MeanBackward0": {**_REDUCED_ALL, "self_sym_numel": _numel},
    "MeanBackward1": {**_REDUCED_DIMS, "self_sym_numel": _numel},
    "ViewBackward0": {"self_sym_sizes": _sizes},
    "ExpandBackward0": {"self_sym_sizes": _sizes},
    "TransposeBackward0": {"dim0": lambda n: n.arg[0], "dim1": lambda n: n.arg[1]},
    "PermuteBackward0": {"dims": lambda n: tuple(n.arg)},
    "UnsqueezeBackward0": {"dim": lambda n: n.arg},
    "SqueezeBackward1": {"dim": lambda n: n.arg[0], "self_sym_sizes": _sizes},
    "CatBackward0": {"dim": lambda n: n.dim},
    "ClampBackward1": {"self": _saved(0), "min": lambda n: n.min, "max": lambda n: n.max},
    "MmBackward0": {"self": _saved(0), "self_sym_sizes": _matmul_meta(0, "sizes"),
                    "self_sym_strides": _matmul_meta(0, "strides"), "mat2": _saved(1),
                    "mat2_sym_sizes": _matmul_meta(1, "sizes"),
                    "mat2_sym_strides": _matmul_meta(1, "strides")},
    "MvBackward0": {"self": _saved(0), "vec": _saved(1)},
    "SoftmaxBackward0": {"dim": _softmax_dim, "result": _saved(0)},
    "LogSoftmaxBackward0": {"dim": _softmax_dim, "result": _saved(0)},
})
