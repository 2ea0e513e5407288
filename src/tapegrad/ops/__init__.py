"""Every differentiable op, each defined once with its derivative (see ``define``)."""

from . import (  # noqa: F401
    binary_math,
    conversion,
    fill,
    join,
    linalg,
    pointwise,
    reduction,
    reductions_extra,
    shape,
    unary_math,
)
