"""Named tuples returned by max(dim), sort, topk, aminmax, linalg.qr ...: classes of
``tapegrad.return_types`` (torch.return_types) with torch's names, fields, repr and
struct-sequence behaviour (built from one sequence, no ``_fields``)."""

import pickle

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = [[1.0, 3.0, -2.0], [2.0, 0.5, 4.0], [0.0, 1.5, 1.0]]
CALLS = {
    "max": lambda L, x: x.max(0),
    "min": lambda L, x: L.min(x, 1, keepdim=True),
    "median": lambda L, x: x.median(0),
    "mode": lambda L, x: x.mode(0),
    "sort": lambda L, x: x.sort(descending=True),
    "topk": lambda L, x: L.topk(x, 2),
    "kthvalue": lambda L, x: x.kthvalue(2, 0),
    "cummax": lambda L, x: x.cummax(0),
    "cummin": lambda L, x: L.cummin(x, 1),
    "aminmax": lambda L, x: x.aminmax(dim=0),
    "linalg_qr": lambda L, x: L.linalg.qr(x),
    "linalg_eigh": lambda L, x: L.linalg.eigh(x + x.mT),
    "linalg_svd": lambda L, x: L.linalg.svd(x),
    "linalg_slogdet": lambda L, x: L.linalg.slogdet(x),
}


def _result(lib, name, requires_grad=False):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=requires_grad)
    return CALLS[name](lib, x)


@pytest.mark.parametrize("name", list(CALLS))
def test_class_names_and_modules_match_torch(name):
    ours, theirs = _result(tg, name), _result(torch, name)
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert type(ours).__module__ == "tapegrad.return_types"
    assert type(theirs).__module__ == "torch.return_types"
    assert type(ours) is getattr(tg.return_types, name)
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    assert (ours.n_fields, ours.n_sequence_fields, ours.n_unnamed_fields) == (
        theirs.n_fields, theirs.n_sequence_fields, theirs.n_unnamed_fields)
    assert not hasattr(ours, "_fields") and not hasattr(theirs, "_fields")


@pytest.mark.parametrize("name", ["max", "sort", "aminmax", "linalg_slogdet", "cummin"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_repr_matches_torch(name, requires_grad):
    assert repr(_result(tg, name, requires_grad)) == repr(_result(torch, name,
                                                                  requires_grad))


def test_fields_are_attributes_in_order():
    for lib in (tg, torch):
        r = _result(lib, "max")
        assert r.values is r[0] and r.indices is r[1]
        mm = _result(lib, "aminmax")
        assert mm.min is mm[0] and mm.max is mm[1]
        u, s, vh = _result(lib, "linalg_svd")
        assert _result(lib, "linalg_svd").Vh.shape == vh.shape


def test_built_from_one_sequence_with_torchs_errors():
    for lib in (tg, torch):
        r = lib.return_types.max((1, 2))
        assert (r.values, r.indices, repr(r)) == (1, 2, "torch.return_types.max(\nvalues=1,\n"
                                                        "indices=2)")
    for args in [((1,),), (1, 2)]:
        errors = []
        for lib in (tg, torch):
            with pytest.raises(TypeError) as info:
                lib.return_types.max(*args)
            errors.append(str(info.value))
        assert errors[0] == errors[1]


def test_pickles_to_the_same_class():
    r = tg.return_types.topk((1, 2))
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is tg.return_types.topk and back == (1, 2)
