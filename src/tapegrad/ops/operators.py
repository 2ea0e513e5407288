"""Python's operators on Tensor give way to operands they cannot take, as torch's do.

``x + "a"``, ``x < None`` or ``x - [1, 2]`` then raise Python's own TypeError
("unsupported operand type(s) for +: 'Tensor' and 'str'"), and ``x == None`` is False,
instead of an error about the op's argument. Wrapping happens once, here, after every op
module has attached its operators, so the ops themselves stay unaware of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor

# What the operators accept besides a Tensor: Python and NumPy numbers, and NumPy arrays.
_OPERANDS = (Tensor, bool, int, float, complex, np.generic, np.ndarray)

_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor")
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _giving_way(fn: Callable) -> Callable:
    def operator(self: Tensor, other: Any) -> Any:
        if isinstance(other, _OPERANDS):
            return fn(self, other)
        return NotImplemented
    operator.__name__ = operator.__qualname__ = fn.__name__
    operator.__doc__ = fn.__doc__
    return operator


for _name in (*(f"__{p}{n}__" for n in _BINARY for p in ("", "r", "i")),
              *(f"__{n}__" for n in _COMPARISONS)):
    _fn = Tensor.__dict__.get(_name)
    if _fn is not None:
        setattr(Tensor, _name, _giving_way(_fn))
