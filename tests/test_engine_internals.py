"""Engine bookkeeping that torch does not expose: the cyclic GC around a backward pass,
version counters made on first use (shared by views, detach() and Parameters)."""

import gc

import pytest

import tapegrad as tg


def _gc_seen_during_backward(x: tg.Tensor) -> list:
    seen = []
    x.register_hook(lambda g: seen.append(gc.isenabled()))
    return seen


def test_gc_paused_during_backward_and_restored():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = _gc_seen_during_backward(x)
    assert gc.isenabled()
    (x * x).sum().backward()
    assert seen == [False] and gc.isenabled()


def test_gc_left_off_when_the_user_turned_it_off():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    gc.disable()
    try:
        (x * 3).sum().backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_restored_when_backward_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.backward()
    assert gc.isenabled()


def test_version_counter_shared_once_made_lazily():
    a = tg.ones(3) * 2
    view, alias, param = a[1:], a.detach(), tg.nn.Parameter(a)
    a.add_(1)
    assert (a._version, view._version, alias._version, param._version) == (1, 1, 1, 1)
    b = tg.ones(2) * 2
    b_alias = b.detach()
    b_alias.mul_(3)
    assert b._version == 1
