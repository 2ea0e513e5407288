"""In-place writes whose source shares part of the written memory (``x[1:].add_(x[:-1])``)
are refused with torch's error; full overlap (``x.add_(x)``), disjoint views, copies
(flip) and layouts torch finds "too hard" to tell (a diagonal) go through as in torch."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = {
    "add_shifted": lambda L, x: x[1:].add_(x[:-1]),
    "add_base": lambda L, x: x[1:].add_(x[1:2]),
    "add_self": lambda L, x: x.add_(x),
    "mul_flipped": lambda L, x: x.mul_(x.flip(0)),
    "copy_flip": lambda L, x: x.copy_(x.flip(0)),
    "copy_shifted": lambda L, x: x[1:].copy_(x[:-1]),
    "add_transposed": lambda L, x: x.view(2, 2).add_(x.view(2, 2).t()),
    "mul_row_of_self": lambda L, x: x.view(2, 2).mul_(x.view(2, 2)[0]),
    "sub_shifted": lambda L, x: x[:-1].sub_(x[1:]),
    "addcmul_": lambda L, x: x[1:].addcmul_(x[:-1], x[:-1]),
    "clamp_tensor_bound": lambda L, x: x[1:].clamp_(x[:-1]),
    "lerp_": lambda L, x: x[1:].lerp_(x[:-1], 0.5),
    "pow_": lambda L, x: x[1:].pow_(x[:-1]),
    "index_add_disjoint": lambda L, x: x[1:].index_add_(0, L.tensor([0]), x[:1]),
    "setitem_shifted": lambda L, x: x.__setitem__(slice(1, None), x[:-1]),
    "setitem_self": lambda L, x: x.__setitem__(slice(None), x),
    "diagonal_too_hard": lambda L, x: x.view(2, 2).diagonal().add_(x.view(2, 2)[0]),
    "disjoint_halves": lambda L, x: x[:2].add_(x[2:]),
    "interleaved": lambda L, x: x[::2].add_(x[1::2]),
    "tracked": lambda L, x: (lambda y: y[1:].mul_(y[:-1]))(x.clone().requires_grad_() * 1),
    "no_grad": lambda L, x: L.no_grad()(lambda: x[1:].add_(x[:-1], alpha=2))(),
    "parameter_itself": lambda L, x: (lambda p: L.no_grad()(lambda: p.t().add_(p))())(
        L.nn.Parameter(x.view(2, 2))),
}


def _outcome(lib, case):
    x = lib.arange(4.0)
    try:
        CASES[case](lib, x)
    except Exception as e:
        return type(e).__name__, str(e), x.tolist()
    return "ok", x.tolist()


@pytest.mark.parametrize("case", list(CASES))
def test_partial_overlap_matches_torch(case):
    assert _outcome(tg, case) == _outcome(torch, case)


def test_leaf_error_comes_before_the_overlap_error():
    results = []
    for lib in (tg, torch):
        x = lib.arange(4.0, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            x.add_(x.detach()[:1])
        results.append(str(info.value))
    assert results[0] == results[1]
