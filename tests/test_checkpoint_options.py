"""utils.checkpoint options of the non-reentrant variant: context_fn, debug (and
set_checkpoint_debug_enabled), determinism_check, early_stop and set_checkpoint_early_stop
— what runs when, the errors and their text, vs torch."""

from __future__ import annotations

import contextlib

import pytest
from torch_compare import assert_same_result

import tapegrad
import tapegrad.utils.checkpoint  # noqa: F401 - loads the submodule for lib.utils.checkpoint

torch = pytest.importorskip("torch")
pytest.importorskip("torch.utils.checkpoint")

# torch's tip ends with advice on torch.compile, which tapegrad does not have
COMPILE_ADVICE = "\nIf this error occurs under torch.compile"


def _message(error: Exception) -> str:
    return str(error).split(COMPILE_ADVICE)[0]


def _steps(log: list):
    """A function that logs before and after each of its ops (exp saves its output, sin
    its input, the multiplication by a Python number saves nothing)."""
    def f(x):
        log.append("start")
        y = x.sin()
        log.append("after sin")
        z = y.exp()
        log.append("after exp")
        w = z * 3
        log.append("end")
        return w.sum()
    return f


@pytest.mark.parametrize("how", ["default", "early_stop=False", "set_checkpoint_early_stop",
                                 "set_checkpoint_early_stop(True) over early_stop=False"])
def test_early_stop_skips_the_ops_after_the_last_saved_tensor(how):
    def prog(lib):
        log = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        cp = lib.utils.checkpoint
        if how == "default":
            y = cp.checkpoint(_steps(log), x, use_reentrant=False)
        elif how == "early_stop=False":
            y = cp.checkpoint(_steps(log), x, use_reentrant=False, early_stop=False)
        elif how == "set_checkpoint_early_stop":
            with cp.set_checkpoint_early_stop(False):
                y = cp.checkpoint(_steps(log), x, use_reentrant=False)
        else:
            with cp.set_checkpoint_early_stop(True):
                y = cp.checkpoint(_steps(log), x, use_reentrant=False, early_stop=False)
        log.append("backward")          # the override applies at forward time only
        y.backward()
        return log, x.grad
    got = assert_same_result(prog, torch)
    log = got[1][0][1]
    rerun = log[log.index("backward") + 1:]
    assert rerun == (["start", "after sin"] if how in ("default",) or "over" in how
                     else ["start", "after sin", "after exp", "end"])


class _Logged:
    def __init__(self, log: list, name: str) -> None:
        self.log, self.name = log, name

    def __enter__(self) -> None:
        self.log.append("enter " + self.name)

    def __exit__(self, *exc) -> None:
        self.log.append("exit " + self.name)


def test_context_fn_wraps_the_forward_and_each_recomputation():
    def prog(lib):
        log = []

        def f(x):
            log.append("run")
            return x.sin().sum()

        def context_fn():
            log.append("context_fn")
            return _Logged(log, "forward"), _Logged(log, "recompute")
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        cp = lib.utils.checkpoint
        y = cp.checkpoint(f, x, use_reentrant=False, context_fn=context_fn)
        log.append("backward")
        y.backward(retain_graph=True)
        y.backward()                     # the recomputation runs (and is wrapped) again
        with lib.no_grad():              # context_fn is called, the forward not wrapped
            cp.checkpoint(f, x, use_reentrant=False, context_fn=context_fn)
        return log, x.grad
    got = assert_same_result(prog, torch)
    assert got[1][0][1][:4] == ["context_fn", "enter forward", "run", "exit forward"]


class _Swallow:
    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> bool:
        return True


@pytest.mark.parametrize("kwargs", [
    dict(use_reentrant=True, context_fn=lambda: None),
    dict(use_reentrant=True, debug=True),
    dict(use_reentrant=False, debug=True,
         context_fn=lambda: (contextlib.nullcontext(), contextlib.nullcontext())),
    dict(use_reentrant=False, determinism_check="strict", context_fn=lambda: 1 / 0),
    dict(use_reentrant=False, context_fn=lambda: (_Swallow(), contextlib.nullcontext())),
])
def test_option_errors_match_torch(kwargs):
    def prog(lib):
        def fails(x):
            raise KeyError("in the forward")
        x = lib.tensor([1.0], requires_grad=True)
        fn = fails if "context_fn" in kwargs and kwargs["use_reentrant"] is False else lib.sin
        lib.utils.checkpoint.checkpoint(fn, x, **kwargs)
    assert_same_result(prog, torch)


def test_noop_context_fn_is_accepted_by_the_reentrant_variant():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        cp = lib.utils.checkpoint
        y = cp.checkpoint(lambda t: t.sin().sum(), x, use_reentrant=True,
                          context_fn=cp.noop_context_fn, debug=False)
        y.backward()
        return x.grad
    assert_same_result(prog, torch)


def _recompute_differently(lib, check: str = "default"):
    """A checkpointed x * c whose c has shape (3,) in the forward and (1,) when rerun:
    the saved tensor's metadata differs, the gradient does not."""
    runs = []

    def f(x):
        runs.append(1)
        c = lib.full((3,) if len(runs) == 1 else (1,), 2.0, dtype=lib.float64)
        return (x * c).sum()
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    return x, lib.utils.checkpoint.checkpoint(f, x, use_reentrant=False,
                                              determinism_check=check)


def test_determinism_check_default_raises_torch_metadata_error():
    messages = []
    for lib in (tapegrad, torch):
        x, y = _recompute_differently(lib)
        with pytest.raises(lib.utils.checkpoint.CheckpointError) as info:
            y.backward()
        messages.append(_message(info.value))
    assert messages[0] == messages[1]
    assert "saved metadata: {'shape': torch.Size([3])" in messages[0]


def test_determinism_check_none_skips_the_metadata_check():
    def prog(lib):
        x, y = _recompute_differently(lib, "none")
        y.backward()
        return x.grad
    assert_same_result(prog, torch)


def _nondeterministic(lib, log_runs: list):
    def g(x):
        log_runs.append(1)
        y = x.sin()
        return y.exp().sum() if len(log_runs) == 1 else y.sum()
    return g


@pytest.mark.parametrize("how", ["debug=True", "set_checkpoint_debug_enabled(True)"])
def test_debug_error_shows_both_op_logs_and_chains_the_plain_error(how):
    errors = {}
    for lib in (tapegrad, torch):
        x = lib.tensor([0.5, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
        cp = lib.utils.checkpoint
        if how == "debug=True":
            y = cp.checkpoint(_nondeterministic(lib, []), x, use_reentrant=False, debug=True)
        else:
            with cp.set_checkpoint_debug_enabled(True):
                y = cp.checkpoint(_nondeterministic(lib, []), x, use_reentrant=False)
        with pytest.raises(cp.CheckpointError) as info:
            y.backward()
        errors[lib] = info.value
    ours, theirs = str(errors[tapegrad]), str(errors[torch])
    assert ours.split("\n")[:3] == theirs.split("\n")[:3]
    assert ours[ours.index("+----------------------------------------------------------------"
                           "--------------+\n ERROR"):] == \
        theirs[theirs.index("+--------------------------------------------------------------"
                            "----------------+\n ERROR"):]
    # torch logs aten ops, tapegrad the nodes they record; the op sequence is the same
    assert "$1: f64[3] = SinBackward0\n$2: f64[3] = ExpBackward0\n$3: f64[] = SumBackward0" \
        "\n\nOperations executed during recomputation:\n\n$1: f64[3] = SinBackward0\n" \
        "$2: f64[] = SumBackward0\n" in ours
    assert f"{__file__}:" in ours and ":g\n" in ours          # where each op ran
    assert _message(errors[tapegrad].__cause__) == _message(errors[torch].__cause__)


def test_debug_override_none_defers_to_the_argument_and_false_wins():
    for lib in (tapegrad, torch):
        cp = lib.utils.checkpoint
        for override, debug, detailed in ((None, True, True), (False, True, False),
                                          (None, False, False)):
            x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
            with cp.set_checkpoint_debug_enabled(override):
                y = cp.checkpoint(_nondeterministic(lib, []), x, use_reentrant=False,
                                  debug=debug)
            with pytest.raises(cp.CheckpointError) as info:
                y.backward()
            assert ("dumping logs" in str(info.value)) == detailed, (lib, override, debug)


def test_debug_mode_changes_nothing_when_the_recomputation_matches():
    def prog(lib):
        x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(lambda t: t.sin().exp().sum(), x,
                                            use_reentrant=False, debug=True)
        y.backward()
        return y, x.grad
    assert_same_result(prog, torch)
