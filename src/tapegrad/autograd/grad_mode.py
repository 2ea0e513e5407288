"""Grad mode: whether ops record a graph. Thread-local, as in torch.

Each mode works as a context manager, as a decorator with or without
parentheses, and on generator functions (the mode is re-entered around every
step of the generator and restored in between).
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    # Class attributes give every new thread its defaults.
    grad_enabled = True     # whether ops record a graph (never inside inference mode)
    inference = False
    grad_mode = True        # what is_grad_enabled() reports inside inference mode, where
    #                         enable_grad turns the mode on but records nothing (as torch)


state = _State()


def is_grad_enabled() -> bool:
    """torch.is_grad_enabled()"""
    return state.grad_mode if state.inference else state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """torch.is_inference_mode_enabled()"""
    return state.inference


def _snapshot() -> tuple:
    return (state.grad_enabled, state.inference, state.grad_mode)


def _restore(snapshot: tuple) -> None:
    state.grad_enabled, state.inference, state.grad_mode = snapshot


def _set_grad_mode(mode: bool) -> None:
    state.grad_mode = mode
    state.grad_enabled = mode and not state.inference


class _DecoratorContextManager:
    """A context manager that also decorates functions and generator functions."""

    def __call__(self, func: Callable) -> Callable:
        if inspect.isclass(func):
            warnings.warn("Decorating classes is deprecated and will be disabled in future "
                          "versions. You should only decorate functions or methods. To preserve "
                          "the current behavior of class decoration, you can directly decorate "
                          "the `__init__` method and nothing else.", FutureWarning, stacklevel=2)
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return func(*args, **kwargs)

        return decorated

    def _wrap_generator(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Any:
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:  # forwarded into the generator
                        with self.clone():
                            response = gen.throw(e)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as e:
                return e.value

        return generator

    def clone(self) -> _DecoratorContextManager:
        return self.__class__()


class _NoParensDecorator(_DecoratorContextManager):
    """Lets ``@no_grad`` (without parentheses) decorate a function directly. Done in
    ``__new__`` rather than with a metaclass, so that ``with no_grad:`` fails with torch's
    message about a ``'type'`` object."""

    def __new__(cls, orig_func: Callable | bool | None = None, **kwargs: Any) -> Any:
        if orig_func is None or isinstance(orig_func, bool):
            return super().__new__(cls)
        return cls()(orig_func)


class _GradModeSwitch(_NoParensDecorator):
    """Sets grad mode to ``mode`` inside, and restores the previous mode on exit."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = _snapshot()
        _set_grad_mode(self.mode)

    def __exit__(self, *exc: Any) -> None:
        _restore(self.prev)


class no_grad(_GradModeSwitch):
    """torch.no_grad(): ops record no graph; results do not require grad."""

    mode = False


class enable_grad(_GradModeSwitch):
    """torch.enable_grad(): turn recording back on inside no_grad."""

    mode = True


class set_grad_enabled(_DecoratorContextManager):
    """torch.set_grad_enabled(mode): takes effect at once, and also works as a context
    manager or decorator that restores the previous mode afterwards."""

    def __init__(self, mode: bool) -> None:
        if type(mode) is not bool:      # as torch: not even 1 or numpy.bool_
            kind = type(mode)
            name = kind.__name__ if kind.__module__ == "builtins" else (
                f"{kind.__module__}.{kind.__qualname__}")
            raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be "
                            f"bool, not {name}")
        self.prev = _snapshot()
        self.mode = mode
        _set_grad_mode(self.mode)

    def __call__(self, func: Callable) -> Callable:
        # Used as a decorator: undo the immediate effect of construction.
        _restore(self.prev)
        return super().__call__(func)

    def __enter__(self) -> None:
        _set_grad_mode(self.mode)

    def __exit__(self, *exc: Any) -> None:
        _restore(self.prev)

    def clone(self) -> set_grad_enabled:
        prev = _snapshot()
        clone = self.__class__(self.mode)
        _restore(prev)
        clone.prev = prev
        return clone


class inference_mode(_NoParensDecorator):
    """torch.inference_mode(mode=True): no_grad, and tensors made inside are inference
    tensors that autograd refuses to save or to update in place outside the mode."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = _snapshot()
        # as torch: inference_mode(False) turns grad mode back on
        state.inference = self.mode
        _set_grad_mode(not self.mode)

    def __exit__(self, *exc: Any) -> None:
        _restore(self.prev)

    def clone(self) -> inference_mode:
        return self.__class__(self.mode)
