"""``tapegrad.linalg``: torch.linalg's names (the ops themselves live in ``ops``)."""

from .ops.decomp import (  # noqa: F401
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from .ops.linalg import matmul  # noqa: F401
from .ops.matrix import linalg_cross as cross  # noqa: F401
from .ops.reductions_extra import vector_norm  # noqa: F401
