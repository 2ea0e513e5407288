"""Python's operators on Tensor give way to operands they cannot take, as torch's do.

``x + "a"``, ``x < None`` or ``x - [1, 2]`` then raise Python's own TypeError
("unsupported operand type(s) for +: 'Tensor' and 'str'"), and ``x == None`` is False,
instead of an error about the op's argument. Wrapping happens once, here, after every op
module has attached its operators, so the ops themselves stay unaware of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .define import OPERANDS

_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor")
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _giving_way(fn: Callable) -> Callable:
    def operator(self: Tensor, other: Any) -> Any:
        if isinstance(other, OPERANDS):
            return fn(self, other)
        return NotImplemented
    operator.__name__ = operator.__qualname__ = fn.__name__
    operator.__doc__ = fn.__doc__
    return operator


for _name in (*(f"__{p}{n}__" for n in _BINARY for p in ("", "r", "i")),
              *(f"__{n}__" for n in _COMPARISONS)):
    _fn = Tensor.__dict__.get(_name)
    if _fn is not None:
        # A binary op's own operator form gives way itself (one call fewer per operator).
        _operator = getattr(_fn, "giving_way", None)
        if _operator is not None:
            _operator.__name__ = _operator.__qualname__ = _fn.__name__
            _operator.__doc__ = _fn.__doc__
        setattr(Tensor, _name, _operator or _giving_way(_fn))
