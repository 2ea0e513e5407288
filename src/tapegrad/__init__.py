"""tapegrad: PyTorch's autograd, rebuilt in Python on NumPy.

``import tapegrad as torch`` runs code written for torch's tensors, autograd
and optimizers, and prints what torch prints.
"""

import warnings as _warnings

# torch computes log(-1), 1/0 and exp(1000) quietly (nan, inf); NumPy warns for each. The
# filter matches only warnings raised from tapegrad's own modules, so NumPy code of the
# user's keeps its warnings.
_warnings.filterwarnings("ignore", r"(invalid value|divide by zero|overflow|underflow) "
                         "encountered", RuntimeWarning, r"tapegrad(\.|$)")

from . import autograd, dtypes, ops, return_types  # noqa: F401  (ops attaches Tensor methods)
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    Generator,
    arange,
    as_tensor,
    asarray,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    logspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .dtypes import (
    bfloat16,
    bool,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .ops.activation import log_softmax, softmax
from .ops.binary_math import (
    addcdiv,
    addcmul,
    allclose,
    arctan2,
    atan2,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    equal,
    floor_divide,
    fmax,
    fmin,
    fmod,
    hypot,
    isclose,
    lerp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    remainder,
)
from .ops.composite import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    cdist,
    clamp_max,
    clamp_min,
    cosine_similarity,
    diff,
    fliplr,
    flipud,
    is_nonzero,
    pairwise_distance,
    positive,
    ravel,
)
from .ops.conversion import clone
from .ops.indexing import (
    argwhere,
    chunk,
    diagonal,
    flip,
    gather,
    hstack,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    nonzero,
    repeat_interleave,
    roll,
    row_stack,
    scatter,
    scatter_add,
    scatter_reduce,
    select,
    split,
    take,
    take_along_dim,
    tile,
    trace,
    tril_indices,
    triu_indices,
    unflatten,
    unique,
    vstack,
)
from .ops.join import cat, concat, concatenate, stack
from .ops.linalg import bmm, dot, matmul, mm, mv
from .ops.matrix import (
    addmm,
    baddbmm,
    cross,
    diag,
    einsum,
    ger,
    kron,
    outer,
    tensordot,
    tril,
    triu,
    vdot,
)
from .ops.padding import pad as _pad
from .ops.pointwise import (
    abs,
    add,
    clamp,
    clip,
    cos,
    div,
    eq,
    exp,
    ge,
    greater,
    greater_equal,
    gt,
    le,
    less,
    less_equal,
    log,
    lt,
    mul,
    ne,
    neg,
    not_equal,
    pow,
    reciprocal,
    relu,
    rsub,
    sgn,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    true_divide,
    where,
)
from .ops.reduction import mean, sum
from .ops.reductions_extra import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    kthvalue,
    logsumexp,
    max,
    median,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    sort,
    std,
    std_mean,
    topk,
    var,
    var_mean,
    vector_norm,
)
from .ops.reductions_more import aminmax, logcumsumexp, mode
from .ops.shape import (
    broadcast_to,
    flatten,
    index_put,
    permute,
    reshape,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unbind,
    unsqueeze,
)
from .ops.special import logaddexp, logaddexp2, xlogy
from .ops.split_ops import dsplit, hsplit, tensor_split, vsplit
from .ops.strided import as_strided
from .ops.unary_math import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cosh,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    log1p,
    log2,
    log10,
    logit,
    nan_to_num,
    round,
    rsqrt,
    sinh,
    square,
    tan,
    trunc,
)
from .printing import get_printoptions, set_printoptions
from .tensor import Size, Tensor

multiply, divide, subtract, negative, absolute = mul, div, sub, neg, abs
FloatTensor = DoubleTensor = LongTensor = Tensor
__version__ = "0.1.0"


def is_tensor(obj: object) -> "bool":
    """torch.is_tensor(obj)"""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> "int":
    """torch.numel(input)"""
    return input.numel()


def is_floating_point(input: Tensor) -> "bool":
    return input.is_floating_point()


def is_complex(input: Tensor) -> "bool":
    return input.is_complex()


def detach(input: Tensor) -> Tensor:
    return input.detach()


from . import cuda, func, linalg, special  # noqa: E402, F401  (need the ops above)

# Imported on first use (``tapegrad.nn``, ``import tapegrad.nn``): they are a third of the
# import time and a script that only differentiates never needs them.
_LAZY_SUBMODULES = frozenset({"nn", "optim", "utils", "datasets", "viz"})


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tapegrad' has no attribute '{name}'")


def __dir__() -> list:
    return sorted({*globals(), *_LAZY_SUBMODULES})
from .serialization import load, save  # noqa: E402
