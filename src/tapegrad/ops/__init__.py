"""Every differentiable op, each defined once with its derivative (see ``define``)."""

from . import conversion, fill, indexing, join, linalg, pointwise, reduction, shape  # noqa: F401
