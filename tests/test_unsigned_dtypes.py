"""torch 2.13's "limited support" unsigned dtypes: tapegrad.uint16, uint32, uint64 are
created, printed, converted, and computed with where torch has a kernel; where torch has
none (neg, abs, pow, max, sort-like selections ...) or refuses to promote them with
another integer dtype, tapegrad raises torch's exception with torch's message."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = ["uint16", "uint32", "uint64"]


def _a(L, d):
    return L.tensor([5, 2, 7], dtype=getattr(L, d))


CALLS = {
    # creation, printing, conversion
    "tensor": lambda L, d: L.tensor([[1, 2], [3, 40000]], dtype=getattr(L, d)),
    "scalar": lambda L, d: L.tensor(5, dtype=getattr(L, d)),
    "zeros": lambda L, d: L.zeros(2, 3, dtype=getattr(L, d)),
    "ones_like": lambda L, d: L.ones_like(_a(L, d)),
    "full": lambda L, d: L.full((2,), 7, dtype=getattr(L, d)),
    "from_float": lambda L, d: L.tensor([1.7, 2.2]).to(getattr(L, d)),
    "to_float": lambda L, d: _a(L, d).to(L.float32),
    "to_int64": lambda L, d: _a(L, d).long(),
    "to_other_unsigned": lambda L, d: _a(L, d).to(L.uint32 if d != "uint32" else L.uint64),
    "from_numpy": lambda L, d: L.from_numpy(np.array([1, 2], dtype=d)),
    "numpy": lambda L, d: _a(L, d).numpy().dtype.name,
    "type": lambda L, d: _a(L, d).type(),
    "item_tolist": lambda L, d: (_a(L, d)[1].item(), _a(L, d).tolist()),
    "largest": lambda L, d: L.tensor([L.iinfo(getattr(L, d)).max], dtype=getattr(L, d)),
    "negative_wraps_or_not": lambda L, d: L.tensor([-1], dtype=getattr(L, d)),
    "too_big": lambda L, d: L.tensor([2 ** 64], dtype=getattr(L, d)),
    "iinfo": lambda L, d: (L.iinfo(getattr(L, d)).max, L.iinfo(getattr(L, d)).bits),
    "dtype_attrs": lambda L, d: (repr(getattr(L, d)), getattr(L, d).itemsize,
                                 getattr(L, d).is_signed, getattr(L, d).is_floating_point),
    "requires_grad": lambda L, d: L.tensor([1, 2], dtype=getattr(L, d), requires_grad=True),
    # kernels torch has
    "mul": lambda L, d: _a(L, d) * _a(L, d),
    "mul_scalar": lambda L, d: _a(L, d) * 2,
    "true_divide": lambda L, d: _a(L, d) / _a(L, d),
    "add_float": lambda L, d: _a(L, d) + 1.5,
    "eq": lambda L, d: _a(L, d) == 5,
    "bitwise_and": lambda L, d: _a(L, d) & _a(L, d),
    "sum": lambda L, d: _a(L, d).sum(),
    "cumsum": lambda L, d: _a(L, d).cumsum(0),
    "sort": lambda L, d: _a(L, d).sort(),
    "sqrt": lambda L, d: _a(L, d).sqrt(),
    "pow_float": lambda L, d: _a(L, d) ** 2.0,
    "where": lambda L, d: L.where(_a(L, d) == 5, _a(L, d), L.zeros_like(_a(L, d))),
    "cat_index": lambda L, d: L.cat([_a(L, d), _a(L, d)[1:]]),
    "fill_": lambda L, d: _a(L, d).fill_(3),
    # promotion torch refuses
    "add_int64": lambda L, d: _a(L, d) * L.tensor([1, 2, 3]),
    "int8_first": lambda L, d: L.tensor([1, 2, 3], dtype=L.int8) * _a(L, d),
    "result_type": lambda L, d: L.result_type(_a(L, d), L.tensor([1], dtype=L.uint8)),
    "promote_types": lambda L, d: L.promote_types(getattr(L, d), L.bool),
    "promote_float": lambda L, d: L.promote_types(getattr(L, d), L.float16),
    # kernels torch lacks
    "neg": lambda L, d: -_a(L, d),
    "abs": lambda L, d: _a(L, d).abs(),
    "sign": lambda L, d: _a(L, d).sign(),
    "pow": lambda L, d: _a(L, d) ** 2,
    "pow_tensor": lambda L, d: _a(L, d) ** _a(L, d),
    "rpow": lambda L, d: 2 ** _a(L, d),
    "square": lambda L, d: _a(L, d).square(),
    "remainder": lambda L, d: _a(L, d) % _a(L, d),
    "fmod": lambda L, d: L.fmod(_a(L, d), _a(L, d)),
    "floor_divide": lambda L, d: _a(L, d) // _a(L, d),
    "maximum": lambda L, d: L.maximum(_a(L, d), _a(L, d)),
    "minimum": lambda L, d: L.minimum(_a(L, d), _a(L, d)),
    "clamp": lambda L, d: _a(L, d).clamp(0, 3),
    "clamp_min": lambda L, d: _a(L, d).clamp(min=3),
    "clamp_max": lambda L, d: _a(L, d).clamp(max=3),
    "clamp_tensor": lambda L, d: _a(L, d).clamp(_a(L, d), _a(L, d)),
    "clamp_tensor_min": lambda L, d: _a(L, d).clamp(min=_a(L, d)),
    "relu": lambda L, d: L.relu(_a(L, d)),
    "max": lambda L, d: _a(L, d).max(),
    "max_dim": lambda L, d: _a(L, d).max(0),
    "min_dim": lambda L, d: L.min(_a(L, d), 0),
    "amax": lambda L, d: _a(L, d).amax(0),
    "amin": lambda L, d: _a(L, d).amin(),
    "argmax": lambda L, d: _a(L, d).argmax(),
    "argmin": lambda L, d: _a(L, d).argmin(0),
    "median": lambda L, d: _a(L, d).median(),
    "median_dim": lambda L, d: _a(L, d).median(0),
    "topk": lambda L, d: _a(L, d).topk(1),
    "kthvalue": lambda L, d: _a(L, d).kthvalue(1),
    "cummax": lambda L, d: _a(L, d).cummax(0),
    "aminmax": lambda L, d: _a(L, d).aminmax(),
    "mode": lambda L, d: _a(L, d).mode(),
    "count_nonzero": lambda L, d: L.count_nonzero(_a(L, d)),
    "nonzero": lambda L, d: _a(L, d).nonzero(),
    "logical_and": lambda L, d: L.logical_and(_a(L, d), _a(L, d)),
    "logical_not": lambda L, d: L.logical_not(_a(L, d)),
    "bitwise_not": lambda L, d: ~_a(L, d),
    "arange": lambda L, d: L.arange(3, dtype=getattr(L, d)),
    "linspace": lambda L, d: L.linspace(0, 3, 4, dtype=getattr(L, d)),
    "mean": lambda L, d: _a(L, d).mean(),
}


def _outcome(lib, name, d):
    try:
        result = CALLS[name](lib, d)
    except Exception as e:
        return type(e).__name__, str(e)
    return repr(result)


@pytest.mark.parametrize("d", DTYPES)
@pytest.mark.parametrize("name", list(CALLS))
def test_unsigned_dtype_matches_torch(name, d):
    assert _outcome(tg, name, d) == _outcome(torch, name, d)


def test_unsigned_dtypes_round_trip_through_numpy():
    for d in DTYPES:
        t = tg.from_numpy(np.array([1, 2], dtype=d))
        assert t.dtype is getattr(tg, d) and t.numpy().dtype == np.dtype(d)
