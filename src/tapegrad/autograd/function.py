"""Custom differentiable functions: ``autograd.Function``, its ``ctx``, ``once_differentiable``.

A Function subclass gets, on first use, a Node subclass named ``<ClassName>Backward``;
one instance of it is both the ``ctx`` handed to ``forward``/``backward`` and the
``grad_fn`` of the outputs (as in torch, so ``grad_fn.saved_tensors`` works). The engine
calls ``backward(ns, grads)`` like any node: under a plain backward it hands arrays,
which are wrapped into Tensors for the user's ``backward`` and unwrapped after; under
``create_graph`` it hands Tensors, so a backward written with tapegrad ops is itself
differentiable.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .anomaly import anomaly_state, forward_stack
from .forward_ad import apply_with_jvp, has_tangent
from .forward_ad import state as _fw
from .grad_mode import no_grad
from .grad_mode import state as grad_state
from .graph import Node
from .saved_hooks import pack_saved_values, saved_hooks_active

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]

LEGACY_MESSAGE = (
    "Legacy autograd function with non-static forward method is deprecated. Please use "
    "new-style autograd function with static forward method. (Example: "
    "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")
ONCE_DIFFERENTIABLE_MESSAGE = ("trying to differentiate twice a function that was marked "
                               "with @once_differentiable")


def _Tensor() -> type:
    from ..tensor import Tensor
    return Tensor


class FunctionCtx:
    """What ``forward``/``setup_context`` may tell ``backward``: saved tensors and flags."""

    def save_for_backward(self, *tensors: Any) -> None:
        """ctx.save_for_backward(*tensors): saved with their versions, freed after backward."""
        Tensor = _Tensor()
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """ctx.save_for_forward(*tensors): tensors a ``jvp`` staticmethod may use."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        """ctx.mark_dirty(*tensors): these inputs were modified in place by forward."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """ctx.mark_non_differentiable(*tensors): these outputs get no gradient."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """ctx.set_materialize_grads(value): False passes None for undefined output grads."""
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one ``Function.apply`` call; also its ``ctx``."""

    _forward_cls: type
    materialize_grads = True

    def __init__(self, next_functions: tuple = ()) -> None:
        Node.__init__(self, next_functions)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward, version-checked."""
        return tuple(self.unpack(True))

    @property
    def saved_variables(self) -> tuple:
        return self.saved_tensors

    def apply(self, *grads: Any) -> Any:
        return self._forward_cls.backward(self, *grads)

    def backward(self, ns: Any, grads: list) -> tuple:
        Tensor = _Tensor()
        wrapped = []
        for g, (shape, dtype) in zip(grads, self.output_meta, strict=True):
            if g is None:
                if not self.materialize_grads:
                    wrapped.append(None)
                    continue
                g = np.zeros(shape, dtype)
                wrapped.append(Tensor._make(g))
            else:
                wrapped.append(g if ns.graph else Tensor._make(g))
        result = self._forward_cls.backward(self, *wrapped)
        if not isinstance(result, tuple):
            result = (result,)
        name = type(self).__name__
        n_inputs = len(self.input_slots)
        if len(result) < n_inputs or any(r is not None for r in result[n_inputs:]):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {n_inputs}, got {len(result)})")
        outs = []
        for slot, (shape, dtype) in zip(self.tensor_slots, self.input_meta, strict=True):
            g = result[slot]
            if g is None:
                outs.append(None)
                continue
            if not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if tuple(g.shape) != shape:
                try:
                    np.broadcast_shapes(tuple(g.shape), shape)
                    ok = np.broadcast_shapes(tuple(g.shape), shape) == tuple(g.shape)
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(
                        f"Function {name} returned an invalid gradient at index {slot} - got "
                        f"[{', '.join(map(str, g.shape))}] but expected shape compatible "
                        f"with [{', '.join(map(str, shape))}]")
                g = ns.sum_to(g if ns.graph else g._data, shape)
            else:
                g = g if ns.graph else g._data
            if ns.np_dtype(g) != dtype:
                g = ns.cast(g, dtype)
            outs.append(g)
        return tuple(outs)


class _ErrorNode(Node):
    """Stands for a backward that may not be differentiated again."""

    def backward(self, ns: Any, grads: list) -> tuple:
        raise RuntimeError(self.message)


_ErrorNode.__name__ = _ErrorNode.__qualname__ = "Error"


def once_differentiable(fn: Callable) -> Callable:
    """@once_differentiable: the backward runs without recording; differentiating its
    result again raises torch's error."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            outputs = fn(ctx, *args)
        Tensor = _Tensor()
        requires = grad_state.grad_enabled and any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
        if not requires:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        tensors = [o for o in outs if isinstance(o, Tensor)]
        node = _ErrorNode(tuple((o._grad_fn, o._output_nr) if o._grad_fn else (None, 0)
                                for o in tensors))
        node.message = ONCE_DIFFERENTIABLE_MESSAGE
        node.n_outputs = len(tensors)
        wrapped = []
        k = 0
        for o in outs:
            if isinstance(o, Tensor):
                o = Tensor._make(o._data, True, node, k)
                k += 1
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper


class _FunctionMeta(type):
    """Gives each Function subclass its node class, ``<ClassName>Backward``."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "__module__": __name__})
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """torch.autograd.Function: subclass with static ``forward`` and ``backward``; call
    ``Cls.apply(*args)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are "
            "all static, so you should invoke them on the class itself. Instantiating an "
            "autograd function will raise an error in a future version of PyTorch.",
            DeprecationWarning, stacklevel=2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(LEGACY_MESSAGE)

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Cls.apply(*args): run forward without recording, then record one node."""
        if _fw.active and has_tangent(args):
            return apply_with_jvp(cls, args, lambda ctxs: _apply(cls, args, kwargs, ctxs))
        return _apply(cls, args, kwargs)


def _uses_setup_context(cls: type) -> bool:
    return getattr(cls.setup_context, "__func__", cls.setup_context) is not \
        Function.__dict__["setup_context"].__func__


def _apply(cls: type, args: tuple, kwargs: dict, ctxs: list | None = None) -> Any:
    Tensor = _Tensor()
    if kwargs:
        import inspect
        fwd = cls.forward
        sig = inspect.signature(fwd)
        params = list(sig.parameters)
        bound = sig.bind(*((None,) if not _uses_setup_context(cls) else ()), *args, **kwargs)
        bound.apply_defaults()
        args = tuple(bound.arguments[p] for p in params[(0 if _uses_setup_context(cls) else 1):])
    tensor_slots = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    recording = grad_state.grad_enabled and any(needs_input_grad)
    ctx = cls._backward_cls(tuple(args[i]._edge() if args[i]._requires_grad else (None, 0)
                                  for i in tensor_slots) if recording else ())
    if ctxs is not None:
        ctxs.append(ctx)
    ctx.needs_input_grad = needs_input_grad
    ctx.input_slots = tuple(range(len(args)))
    ctx.tensor_slots = tensor_slots
    ctx.to_save = ()
    if _uses_setup_context(cls):
        with no_grad():
            output = cls.forward(*args)
        cls.setup_context(ctx, args, output)
    else:
        with no_grad():
            output = cls.forward(ctx, *args)
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    dirty = getattr(ctx, "dirty_tensors", ())
    for d in dirty:
        if not any(d is o for o in outs):
            raise RuntimeError("Some elements marked as dirty during the forward method were "
                               "not returned as output. The inputs that are modified inplace "
                               "must all be outputs of the Function.")
    if not recording:
        _save(ctx)
        return output
    non_diff = getattr(ctx, "non_differentiable", ())
    result = []
    meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            result.append(o)
            meta.append(((), np.dtype(np.float32)))
            continue
        meta.append((o._data.shape, o._data.dtype))
        is_input = any(o is a for a in args)
        if any(o is d for d in dirty):
            if o._requires_grad and o._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            t = o
        elif is_input:
            t = Tensor._make(o._data)
            t._counter = o._counter
        else:
            t = o
        if any(o is n for n in non_diff) or o._data.dtype.kind not in "fc":
            if t is not o:
                t._requires_grad = False
        else:
            t._grad_fn = ctx
            t._output_nr = i
            t._requires_grad = True
        result.append(t)
    ctx.n_outputs = len(outs)
    if anomaly_state.enabled:
        ctx.metadata["traceback_"] = forward_stack()
    ctx.output_meta = tuple(meta)
    ctx.input_meta = tuple((args[i]._data.shape, args[i]._data.dtype) for i in tensor_slots)
    _save(ctx)
    return result[0] if single else tuple(result)


def _save(ctx: Any) -> None:
    Tensor = _Tensor()
    saved = tuple(ctx.to_save)
    ctx.to_save = ()
    ctx._saved = saved
    ctx._versions = tuple(t._counter.value if isinstance(t, Tensor) else None for t in saved)
    if saved_hooks_active:
        pack_saved_values(ctx)
