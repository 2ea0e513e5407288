"""Anomaly mode: forward traceback on backward errors, NaN checks, tapegrad's check_forward."""

import warnings

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")
import tapegrad  # noqa: E402


def test_enabling_warns_and_flags():
    for lib in (torch, tapegrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                inside = (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())
        assert inside == (True, True)
        assert not lib.is_anomaly_enabled()
        assert str(w[0].message) == ("Anomaly Detection has been enabled. This mode will increase "
                                     "the runtime and should only be enabled for debugging.")
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (True, False)
        assert not lib.is_anomaly_enabled()


def _failing_backward(lib):
    x = lib.tensor([1., 2.], requires_grad=True)
    a = x * 1
    b = a.sin()  # FORWARD-LINE
    a.add_(1)
    b.sum().backward()


def test_backward_error_shows_forward_traceback():
    for lib in (torch, tapegrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    _failing_backward(lib)
        msgs = [str(m.message) for m in w if "Error detected" in str(m.message)]
        assert len(msgs) == 1
        assert msgs[0].startswith("Error detected in SinBackward0. Traceback of forward call "
                                  "that caused the error:\n")
        assert "    b = a.sin()  # FORWARD-LINE\n" in msgs[0]
        assert "in _failing_backward\n" in msgs[0]


def test_backward_error_without_forward_info():
    for lib in (torch, tapegrad):
        x = lib.tensor([1., 2.], requires_grad=True)
        a = x * 1
        b = a.sin()
        a.add_(1)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                with pytest.raises(RuntimeError):
                    b.sum().backward()
        # torch appends "(Triggered internally at ...)"
        assert [str(m.message) for m in w][-1].startswith(
            "Error detected in SinBackward0. No forward pass information available. Enable "
            "detect anomaly during forward pass for more information.")


def test_nan_in_backward_raises_naming_node_and_output():
    def prog(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                x = lib.tensor(0., requires_grad=True)
                y = lib.tensor(0., requires_grad=True)
                (x / y).backward()
    got = assert_same_result(prog, torch)
    assert isinstance(got, RuntimeError)
    assert str(got) == "Function 'DivBackward0' returned nan values in its 1th output."


def test_check_nan_false_lets_nan_through():
    def prog(lib):
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            x = lib.tensor(0., requires_grad=True)
            (x / x).backward()
        return x.grad.isnan().item() if hasattr(x.grad, "isnan") else x.grad.item() != x.grad.item()
    assert_same_result(prog, torch)


def test_check_forward_stops_at_first_nan_op():
    x = tapegrad.tensor([1., -1.], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tapegrad.autograd.detect_anomaly(check_forward=True):
            y = x * 2
            with pytest.raises(RuntimeError) as e:
                y.log()  # produces nan
    msg = str(e.value)
    assert msg.startswith("Function 'LogBackward0' produced non-finite values (nan or inf) in "
                          "its forward output, at test_anomaly.py:")
    assert "check_forward=True" in msg


def test_anomaly_traceback_recorded_for_custom_function():
    class Bad(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with tapegrad.autograd.detect_anomaly():
            y = Bad.apply(tapegrad.ones(2, requires_grad=True))  # CUSTOM-LINE
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
    msg = [str(m.message) for m in w if "Error detected" in str(m.message)][0]
    assert msg.startswith("Error detected in BadBackward.") and "# CUSTOM-LINE" in msg


def _forward_in_thread(lib):
    import threading
    out = {}

    def body():
        x = lib.tensor([1., 2.], requires_grad=True)
        a = x * 1
        out["b"], out["a"] = a.sin(), a
    t = threading.Thread(target=body)
    t.start()
    t.join()
    return out["a"], out["b"]


def test_forward_info_while_anomaly_mode_is_on_in_any_thread():
    # Anomaly mode is one for the process, as torch's: a forward in another thread while
    # it is on records its stack; a forward after it was turned off records none.
    for lib in (torch, tapegrad):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                pass
        x = lib.tensor([1., 2.], requires_grad=True)
        a = x * 1
        outside = (a, a.sin())
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                threaded = _forward_in_thread(lib)
                for a, b in (outside, threaded):
                    a.add_(1)
                    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                        b.sum().backward()
        messages = [str(m.message) for m in w if "Error detected" in str(m.message)]
        assert len(messages) == 2
        assert messages[0].startswith(
            "Error detected in SinBackward0. No forward pass information available.")
        assert messages[1].startswith(
            "Error detected in SinBackward0. Traceback of forward call that caused the error:")
        assert "out[\"b\"], out[\"a\"] = a.sin(), a" in messages[1]


def test_anomaly_mode_is_seen_by_other_threads():
    import threading
    seen = []
    for lib in (torch, tapegrad):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                t = threading.Thread(target=lambda lib=lib: seen.append(lib.is_anomaly_enabled()))
                t.start()
                t.join()
    assert seen == [True, True]
