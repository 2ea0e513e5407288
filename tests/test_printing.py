"""tapegrad.printing against torch: the same values must print the same text.

Every case builds a NumPy array, hands it to ``format_tensor`` and compares the
result with ``repr`` of the torch tensor made from a copy of that array.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tapegrad import dtypes  # noqa: E402
from tapegrad.printing import (  # noqa: E402
    format_tensor,
    get_printoptions,
    printoptions,
    set_printoptions,
    tensor_repr,
)

ALL_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.bool_, np.complex64, np.complex128]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]
COMPLEX_DTYPES = [np.complex64, np.complex128]
FLOATING_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Each test starts from, and leaves behind, default options and float32 default dtype."""
    yield
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    dtypes.set_default_dtype(dtypes.float32)
    torch.set_default_dtype(torch.float32)


def torch_repr(arr: np.ndarray) -> str:
    return repr(torch.from_numpy(np.array(arr, copy=True)))


def assert_prints_like_torch(arr: np.ndarray) -> None:
    expected = torch_repr(arr)
    actual = format_tensor(arr)
    assert actual == expected, f"\nexpected:\n{expected}\nactual:\n{actual}"


def set_both_printoptions(**options) -> None:
    set_printoptions(**options)
    torch.set_printoptions(**options)


def values_for(dtype, shape, seed: int = 0) -> np.ndarray:
    """Representative values of ``dtype`` in ``shape``: signed where the type allows,
    fractional for floats, with both parts for complex."""
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype).kind
    if kind == "b":
        values = rng.integers(0, 2, size=shape)
    elif kind in "iu":
        info = np.iinfo(dtype)
        low, high = max(info.min, -1000), min(info.max, 1000)
        values = rng.integers(low, high, size=shape, endpoint=True)
    elif kind == "f":
        values = rng.standard_normal(shape) * 10
    else:
        values = rng.standard_normal(shape) * 10 + 1j * rng.standard_normal(shape) * 3
    # Arithmetic on a 0-d array yields a NumPy scalar; keep it an array.
    return np.asarray(values).astype(dtype)


# ---------------------------------------------------------------- every dtype, every rank

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 2, 2, 3), (1, 1, 1, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_and_rank(dtype, shape):
    assert_prints_like_torch(values_for(dtype, shape))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_dtype_extremes(dtype):
    kind = np.dtype(dtype).kind
    if kind == "b":
        arr = np.array([True, False, True])
    elif kind in "iu":
        info = np.iinfo(dtype)
        arr = np.array([info.min, 0, info.max], dtype=dtype)
    else:
        info = np.finfo(dtype)
        arr = np.array([info.min, -info.tiny, 0, info.tiny, info.max], dtype=dtype)
    assert_prints_like_torch(arr)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1), (0, 0), (3, 0, 2)], ids=str)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_empty(dtype, shape):
    assert_prints_like_torch(np.zeros(shape, dtype=dtype))


# ---------------------------------------------------------------- hand-picked values

FLOAT_CASES = {
    "zero_scalar": np.array(0.0),
    "neg_zero_scalar": np.array(-0.0),
    "pi_scalar": np.array(math.pi),
    "tiny_scalar": np.array(1.5e-7),
    "huge_scalar": np.array(3.2e12),
    "nan_scalar": np.array(np.nan),
    "neg_inf_scalar": np.array(-np.inf),
    "integral": np.array([1.0, 2.0, -30.0, 400.0]),
    "integral_large": np.array([1.0, 1e7, 99999999.0]),
    "integral_over_1e8": np.array([1.0, 2e8]),
    "integral_wide_range": np.array([1.0, 5000.0]),
    "all_zero": np.zeros(4),
    "neg_zero_only": np.array([-0.0, -0.0]),
    "neg_zero_with_ints": np.array([-0.0, 1.0, 2.0]),
    "neg_zero_with_fractions": np.array([-0.0, 0.5, 2.25]),
    "neg_zero_in_sci": np.array([-0.0, 1e-6, 3.0]),
    "rounds_to_zero": np.array([-0.00001, 0.5]),
    "fractions": np.array([0.1, 0.25, -1.125, 3.14159265]),
    "rounding_up_width": np.array([9.99996, 0.5]),
    "small_spread": np.array([0.001, 0.5]),
    "ratio_just_under_1000": np.array([1.0, 999.0, 0.5]),
    "ratio_over_1000": np.array([0.5, 600.0]),
    "min_just_above_1e-4": np.array([1e-4, 0.01]),
    "min_below_1e-4": np.array([9.9e-5, 0.01]),
    "max_just_below_1e8": np.array([0.5, 99999999.5]),
    "mixed_magnitudes": np.array([1e-8, 1.0, 1e8, -3e3]),
    "huge_and_tiny": np.array([1e300, 1e-300, -1e-310]),
    "exponent_three_digits": np.array([1.5e100, 2.5]),
    "nan_inf_mix": np.array([np.nan, np.inf, -np.inf]),
    "nan_inf_with_ints": np.array([1.0, np.nan, -np.inf, 100.0]),
    "nan_inf_with_fractions": np.array([0.5, np.nan, np.inf, -2.75]),
    "nan_inf_with_sci": np.array([1e-7, np.nan, np.inf, 1.0]),
    "nan_zero": np.array([np.nan, 0.0, -0.0]),
    "nan_2d": np.array([[np.nan, 1.5], [np.inf, -0.0]]),
    "negative_only": np.array([-1.5, -2.25, -1000.125]),
    "long_row_wraps": np.arange(60) * 1.37 - 20,
    "long_int_row_wraps": np.arange(-40.0, 40.0),
    "long_sci_row_wraps": np.geomspace(1e-6, 1e6, 40),
    "wide_2d_wraps": np.arange(90.0).reshape(3, 30) / 7,
    "wide_3d_wraps": np.arange(120.0).reshape(2, 2, 30) * 1001.5,
    "column": np.arange(8.0).reshape(8, 1) / 3,
    "4d": np.arange(48.0).reshape(2, 3, 2, 4) / 5 - 3,
    "5d": np.arange(32.0).reshape(2, 2, 2, 2, 2) - 15,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("arr", list(FLOAT_CASES.values()), ids=list(FLOAT_CASES))
def test_float_cases(arr, dtype):
    with np.errstate(over="ignore", under="ignore"):
        assert_prints_like_torch(arr.astype(dtype))


COMPLEX_CASES = {
    "scalar": np.array(1.5 - 2j),
    "scalar_neg_zero_imag": np.array(complex(3.0, -0.0)),
    "scalar_zero": np.array(0j),
    "integral": np.array([1 + 2j, -3 - 4j, 5j]),
    "fractions": np.array([0.5 + 0.25j, -1.125 - 3.5j]),
    "imag_neg_zero": np.array([complex(1.5, -0.0), complex(2.0, 0.0)]),
    "real_neg_zero": np.array([complex(-0.0, 1.5), complex(2.0, 3.0)]),
    "sci_real_only": np.array([1e-6 + 1j, 1.0 + 2j]),
    "sci_imag_only": np.array([1 + 1e9j, 2.5 - 1j]),
    "nan_inf": np.array([complex(np.nan, 1), complex(1, np.inf), complex(-np.inf, np.nan)]),
    "2d": np.array([[1 + 1j, 2.5 - 3j], [-1e3 + 0.5j, 0j]]),
    "3d": (np.arange(24).reshape(2, 3, 4) * (0.7 - 1.3j)),
    "long_row_wraps": np.arange(40) * (1.1 + 2.2j),
}


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("arr", list(COMPLEX_CASES.values()), ids=list(COMPLEX_CASES))
def test_complex_cases(arr, dtype):
    assert_prints_like_torch(arr.astype(dtype))


INTEGER_CASES = {
    "scalar": np.array(-7),
    "zeros": np.zeros(3, dtype=np.int64),
    "mixed_widths": np.array([1, -22, 333, -4444]),
    "long_row_wraps": np.arange(-100, 100),
    "wide_2d": np.arange(200).reshape(4, 50) * 37,
    "3d": np.arange(60).reshape(3, 4, 5) - 30,
}


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("arr", list(INTEGER_CASES.values()), ids=list(INTEGER_CASES))
def test_integer_cases(arr, dtype):
    assert_prints_like_torch(arr.astype(dtype))


@pytest.mark.parametrize("arr", [np.array(True), np.array(False), np.array([False] * 30),
                                 np.array([[True, False], [False, True]]),
                                 np.ones((2, 3, 4), dtype=np.bool_)], ids=str)
def test_bool_cases(arr):
    assert_prints_like_torch(arr)


# ---------------------------------------------------------------- summarization

SUMMARY_SHAPES = [(1001,), (5000,), (40, 40), (2, 1000), (1000, 2), (11, 11, 11),
                  (2, 2, 300), (300, 2, 2), (7, 7, 7, 7), (2, 501)]


@pytest.mark.parametrize("shape", SUMMARY_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.bool_,
                                   np.complex64, np.float16], ids=lambda d: np.dtype(d).name)
def test_summarized(dtype, shape):
    assert_prints_like_torch(values_for(dtype, shape, seed=sum(shape)))


def test_summary_formatter_sees_only_the_shown_values():
    # The hidden middle holds a value that would force scientific notation.
    arr = 100 + np.arange(2000, dtype=np.float64) / 10
    arr[1000] = 1e-9
    assert_prints_like_torch(arr)
    assert "e-" not in format_tensor(arr)


def test_exactly_at_threshold_is_not_summarized():
    assert_prints_like_torch(np.arange(1000.0))
    assert_prints_like_torch(np.arange(1001.0))


# ---------------------------------------------------------------- print options

OPTION_SETS = [
    {"precision": 0},
    {"precision": 1},
    {"precision": 2},
    {"precision": 8},
    {"precision": 12},
    {"linewidth": 20},
    {"linewidth": 40},
    {"linewidth": 120},
    {"linewidth": 1},
    {"threshold": 5},
    {"threshold": 10, "edgeitems": 1},
    {"threshold": 0},
    {"threshold": 10, "edgeitems": 0},
    {"edgeitems": 0},
    {"threshold": 20, "edgeitems": 5},
    {"threshold": math.inf},
    {"sci_mode": True},
    {"sci_mode": False},
    {"sci_mode": True, "precision": 2},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "default"},
    {"profile": "short", "precision": 6},
    {"profile": "full", "linewidth": 50},
]

OPTION_ARRAYS = {
    "scalar": np.array(2.718281828),
    "int_scalar": np.array(42),
    "fractions": np.array([0.123456789, -12.5, 3.0]),
    "integral": np.array([1.0, 20.0, 300.0]),
    "sci": np.array([1e-6, 1.0, 5e4]),
    "nan_inf": np.array([np.nan, 1.5, -np.inf]),
    "ints": np.arange(30),
    "bools": np.array([True, False] * 10),
    "complex": np.array([1.5 + 2.25j, -3 - 0.001j, 7j]),
    "2d": np.arange(36.0).reshape(6, 6) / 7,
    "3d": np.arange(64.0).reshape(4, 4, 4) * 3.3,
    "long": np.linspace(-5, 5, 1500),
    "big_2d": values_for(np.float32, (50, 50), seed=3),
    "empty": np.zeros((0, 4)),
}


@pytest.mark.parametrize("arr", list(OPTION_ARRAYS.values()), ids=list(OPTION_ARRAYS))
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}"
                                                                         for k, v in o.items()))
def test_printoptions(options, arr):
    set_both_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert_prints_like_torch(arr)


def test_options_accumulate_and_sci_mode_resets_like_torch():
    set_both_printoptions(precision=2, sci_mode=True)
    set_both_printoptions(linewidth=50)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert get_printoptions()["sci_mode"] is None
    assert_prints_like_torch(np.linspace(0, 1, 30))


def test_profile_values():
    set_printoptions(profile="full")
    assert get_printoptions() == {"precision": 4, "threshold": math.inf, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}
    set_printoptions(profile="short")
    assert get_printoptions()["precision"] == 2 and get_printoptions()["edgeitems"] == 2
    set_printoptions(profile="default")
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}


def test_printoptions_context_manager_restores():
    before = get_printoptions()
    with printoptions(precision=1, linewidth=30):
        assert format_tensor(np.array([1.26, 2.0], dtype=np.float32)) == "tensor([1.3, 2.0])"
    assert get_printoptions() == before


# ---------------------------------------------------------------- default dtype

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (3,), (2, 2), (0,), (0, 2)], ids=str)
def test_default_dtype_float64(dtype, shape):
    dtypes.set_default_dtype(dtypes.float64)
    torch.set_default_dtype(torch.float64)
    assert_prints_like_torch(values_for(dtype, shape))


# ---------------------------------------------------------------- autograd suffixes

@pytest.mark.parametrize("dtype", FLOATING_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (0,), (0, 2), (30,), (3, 27), (1200,)],
                         ids=str)
def test_requires_grad(dtype, shape):
    arr = values_for(dtype, shape, seed=7)
    expected = repr(torch.from_numpy(arr.copy()).requires_grad_())
    assert format_tensor(arr, requires_grad=True) == expected


GRAD_OPS = {
    "mul": lambda t: t * 2,
    "add": lambda t: t + 1,
    "sum": lambda t: t.sum(),
    "exp": lambda t: t.exp(),
    "neg": lambda t: -t,
    "view": lambda t: t.reshape(-1),
    "slice": lambda t: t.reshape(-1)[:1],
    "mean": lambda t: t.mean(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (3,), (2, 4), (2, 2, 2), (3, 26)], ids=str)
@pytest.mark.parametrize("op", list(GRAD_OPS.values()), ids=list(GRAD_OPS))
def test_grad_fn(op, shape, dtype):
    leaf = torch.from_numpy(values_for(dtype, shape, seed=11)).requires_grad_()
    result = op(leaf)
    expected = repr(result)
    actual = format_tensor(result.detach().numpy(), grad_fn_name=type(result.grad_fn).__name__,
                           requires_grad=True)
    assert actual == expected


def test_grad_fn_with_non_default_dtype_and_wrapping_suffixes():
    # The last row fills the line, so dtype= and grad_fn= move to lines of their own.
    for width in range(1, 16):
        arr = np.arange(width, dtype=np.float64) * 1.5
        leaf = torch.from_numpy(arr.copy()).requires_grad_()
        for dtype_name in ("float16", "float64"):
            result = (leaf * 2).to(getattr(torch, dtype_name))
            expected = repr(result)
            actual = format_tensor(result.detach().numpy(),
                                   grad_fn_name=type(result.grad_fn).__name__)
            assert actual == expected


# Importing torch's forward-AD module warns about torch.jit internals; not our concern.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tangent_suffix():
    import torch.autograd.forward_ad as fwAD

    for primal_arr, tangent_arr in [(np.array([1.0, 2.0]), np.array([0.5, -1.0])),
                                    (np.arange(12.0).reshape(3, 4), np.ones((3, 4))),
                                    (np.array(3.0), np.array(1e-9))]:
        primal = torch.from_numpy(primal_arr.astype(np.float32))
        tangent = torch.from_numpy(tangent_arr.astype(np.float32))
        with fwAD.dual_level():
            expected = repr(fwAD.make_dual(primal, tangent))
        # torch writes the tangent with format(): a 0-d one prints as a bare number.
        actual = format_tensor(primal_arr.astype(np.float32), tangent=format(tangent))
        assert actual == expected


def test_custom_prefix_matches_tensor_subclass():
    class Wrapped(torch.Tensor):
        pass

    arr = np.arange(40.0).reshape(2, 20) / 3
    expected = repr(torch.from_numpy(arr.copy()).as_subclass(Wrapped))
    assert format_tensor(arr, prefix="Wrapped(") == expected


def test_tensor_repr_reads_tensor_attributes():
    class MulBackward0:
        pass

    arr = np.array([1.0, 2.5], dtype=np.float32)
    plain = types.SimpleNamespace(_data=arr, _grad_fn=None, _requires_grad=False)
    leaf = types.SimpleNamespace(_data=arr, _grad_fn=None, _requires_grad=True)
    nonleaf = types.SimpleNamespace(_data=arr, _grad_fn=MulBackward0(), _requires_grad=True)
    dual = types.SimpleNamespace(_data=arr, _grad_fn=None, _requires_grad=False,
                                 _tangent_repr="tensor([1., 1.])")
    assert tensor_repr(plain) == "tensor([1.0000, 2.5000])"
    assert tensor_repr(leaf) == "tensor([1.0000, 2.5000], requires_grad=True)"
    assert tensor_repr(nonleaf) == "tensor([1.0000, 2.5000], grad_fn=<MulBackward0>)"
    assert tensor_repr(dual) == "tensor([1.0000, 2.5000], tangent=tensor([1., 1.]))"


# ---------------------------------------------------------------- random arrays

RANDOM_SCALES = [1e-12, 1e-5, 1e-3, 0.1, 1.0, 37.0, 1e4, 1e7, 1e9, 1e30]
RANDOM_SHAPES = [(), (1,), (7,), (3, 5), (2, 3, 4), (2, 2, 3, 2), (33,), (4, 25), (1100,),
                 (12, 100)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + COMPLEX_DTYPES, ids=lambda d: np.dtype(d).name)
def test_random_floats(dtype, seed):
    rng = np.random.default_rng(seed)
    for scale in RANDOM_SCALES:
        for shape in RANDOM_SHAPES:
            values = rng.standard_normal(shape) * scale
            if np.dtype(dtype).kind == "c":
                values = values + 1j * rng.standard_normal(shape) * scale * rng.uniform(0.1, 10)
            # Sprinkle whole numbers, zeros and non-finite values into some arrays.
            if values.ndim and rng.random() < 0.4:
                values = np.round(values)
            if values.size > 2 and rng.random() < 0.3:
                flat = values.reshape(-1)
                flat[rng.integers(0, flat.size)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                assert_prints_like_torch(values.astype(dtype))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_],
                         ids=lambda d: np.dtype(d).name)
def test_random_integers(dtype, seed):
    rng = np.random.default_rng(seed)
    for shape in RANDOM_SHAPES:
        if np.dtype(dtype).kind == "b":
            values = rng.integers(0, 2, size=shape).astype(np.bool_)
        else:
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
        assert_prints_like_torch(values)


@pytest.mark.parametrize("seed", range(3))
def test_random_with_random_options(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        options = {
            "precision": int(rng.integers(0, 9)),
            "threshold": int(rng.integers(0, 200)),
            "edgeitems": int(rng.integers(0, 5)),
            "linewidth": int(rng.integers(10, 150)),
            "sci_mode": [None, True, False][int(rng.integers(0, 3))],
        }
        set_both_printoptions(**options)
        shape = tuple(int(n) for n in rng.integers(1, 9, size=int(rng.integers(0, 4))))
        dtype = ALL_DTYPES[int(rng.integers(0, len(ALL_DTYPES)))]
        values = values_for(dtype, shape, seed=int(rng.integers(0, 1000)))
        if np.dtype(dtype).kind in "fc":
            # float16 may overflow to inf, which is one more case worth printing.
            with np.errstate(over="ignore"):
                values = (values * (10.0 ** int(rng.integers(-6, 10)))).astype(dtype)
        assert_prints_like_torch(values)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hnp = None

if hnp is not None:

    @settings(max_examples=300, deadline=None)
    @given(hnp.arrays(
        dtype=st.sampled_from([np.dtype(d) for d in ALL_DTYPES]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    ))
    def test_hypothesis_arrays(arr):
        assert_prints_like_torch(arr)

    @settings(max_examples=100, deadline=None)
    @given(hnp.arrays(
        dtype=st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)]),
        shape=st.integers(1001, 1400),
    ))
    def test_hypothesis_summarized(arr):
        assert_prints_like_torch(arr)
