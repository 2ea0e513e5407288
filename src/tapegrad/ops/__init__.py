"""Every differentiable op, each defined once with its derivative (see ``define``)."""

from . import (  # noqa: F401
    activation,
    binary_math,
    composite,
    conversion,
    decomp,
    fill,
    indexing,
    join,
    jvp,
    linalg,
    matrix,
    padding,
    pointwise,
    reduction,
    reductions_extra,
    reductions_more,
    saved_attributes,
    shape,
    special,
    split_ops,
    strided,
    unary_math,
    unfold,
)

# isort: split
# Last: wraps the operators the modules above attached to Tensor.
from . import operators  # noqa: F401, E402
