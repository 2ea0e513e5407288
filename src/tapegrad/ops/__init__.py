"""Every differentiable op, each defined once with its derivative (see ``define``)."""

from . import (  # noqa: F401
    binary_math,
    conversion,
    decomp,
    fill,
    indexing,
    join,
    jvp,
    linalg,
    matrix,
    pointwise,
    reduction,
    reductions_extra,
    saved_attributes,
    shape,
    unary_math,
)
