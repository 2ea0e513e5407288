"""tapegrad.special: torch.special's names for ops tapegrad defines elsewhere (same nodes)."""

from .ops.activation import log_softmax, softmax
from .ops.pointwise import sigmoid as expit
from .ops.reductions_extra import logsumexp
from .ops.special import xlogy
from .ops.unary_math import erf, erfc, erfinv, exp2, expm1, log1p, logit, round

__all__ = ["erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "log_softmax", "logit",
           "logsumexp", "round", "softmax", "xlogy"]
