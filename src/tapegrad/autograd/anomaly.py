"""Anomaly mode: record where each node was created, and check backward for NaN.

While enabled, every recorded node keeps the user's forward stack; an error in
backward then also shows that stack, and with ``check_nan`` a node whose
backward returns NaN raises, naming the node. Beyond torch,
``detect_anomaly(check_forward=True)`` stops at the first op whose forward
result holds NaN or inf, naming the op and the line that called it.
"""

from __future__ import annotations

import traceback
import warnings
from typing import Any

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _AnomalyState:
    # One for the process, as torch's: turned on in one thread, on in all.
    __slots__ = ("enabled", "check_nan", "check_forward")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.check_forward = False


anomaly_state = _AnomalyState()

# Callbacks run once, the first time anomaly mode is turned on. Until then recording does
# not ask the mode at every op.
on_first_enable: list = []
_ever_enabled = False


def _enabled(mode: bool) -> bool:
    global _ever_enabled
    if mode and not _ever_enabled:
        _ever_enabled = True
        for fn in on_first_enable:
            fn()
    return mode


def is_anomaly_enabled() -> bool:
    """torch.is_anomaly_enabled()"""
    return anomaly_state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """torch.is_anomaly_check_nan_enabled()"""
    return anomaly_state.check_nan


def forward_stack() -> list[str]:
    """The user's stack at the point an op is recorded (tapegrad's own frames dropped)."""
    from .graph import _PACKAGE_DIR
    frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith(_PACKAGE_DIR)]
    return traceback.format_list(frames)


class detect_anomaly:
    """torch.autograd.detect_anomaly(check_nan=True): context manager and decorator.

    ``check_forward=True`` (tapegrad only) also raises at the first op whose forward
    output holds NaN or inf.
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = False) -> None:
        self.check_nan = check_nan
        self.check_forward = check_forward
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        s = anomaly_state
        self.prev = (s.enabled, s.check_nan, s.check_forward)
        s.enabled, s.check_nan, s.check_forward = _enabled(True), self.check_nan, self.check_forward

    def __exit__(self, *exc: Any) -> None:
        s = anomaly_state
        s.enabled, s.check_nan, s.check_forward = self.prev

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan, self.check_forward):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """torch.autograd.set_detect_anomaly(mode, check_nan=True): immediate, or a context."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        s = anomaly_state
        self.prev = (s.enabled, s.check_nan, s.check_forward)
        s.enabled, s.check_nan = _enabled(bool(mode)), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        s = anomaly_state
        s.enabled, s.check_nan, s.check_forward = self.prev
