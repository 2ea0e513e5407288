"""Every differentiable op, each defined once with its derivative (see ``define``)."""

from . import (  # noqa: F401
    conversion,
    decomp,
    fill,
    indexing,
    join,
    linalg,
    matrix,
    pointwise,
    reduction,
    shape,
)
