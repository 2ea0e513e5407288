"""torch.autograd.backward and torch.autograd.grad: argument checks, then the engine."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak.")


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, engine._Tensor()):
        return (x,)
    return tuple(x)


def _size_str(shape: tuple) -> str:
    return f"torch.Size([{', '.join(str(s) for s in shape)}])"


def _root_grads(outputs: tuple, grads: tuple, create_graph: bool) -> list:
    """Seed gradients: ones for scalar outputs, else the user's, shape-checked."""
    Tensor = engine._Tensor()
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            seeds.append(_implicit_seed(out, create_graph))
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        if g._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of "
                f"{_size_str(g._data.shape)} and output[{i}] has a shape of "
                f"{_size_str(out._data.shape)}.")
        if (g._data.dtype.kind == "c") != (out._data.dtype.kind == "c"):
            raise RuntimeError("For complex Tensors, both grad_output and output are required "
                               "to have the same dtype. Mismatch in dtype: grad_output[0] has a "
                               f"dtype of {g.dtype!r} and output[0] has a dtype of "
                               f"{out.dtype!r}.")
        if create_graph:
            seeds.append(g)
        else:
            a = g._data
            seeds.append(a if a.dtype == out._data.dtype else a.astype(out._data.dtype))
    return seeds


def _implicit_seed(out: Any, create_graph: bool) -> Any:
    """The gradient of a scalar output given none: a one of its dtype."""
    data = out._data
    if data.size != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if data.dtype.kind == "c":
        raise RuntimeError("grad can be implicitly created only for real scalar "
                           f"outputs but got {out.dtype!r}")
    shape = data.shape
    # np.array(1, dtype) is several times cheaper than np.ones for the usual 0-d
    arr = np.array(1, data.dtype) if not shape else np.ones(shape, data.dtype)
    return engine._Tensor()._make(arr) if create_graph else arr


def _root_edges(outputs: tuple) -> list:
    edges = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        edges.append(out._edge())
    return edges


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None,
             inputs: Any = None) -> None:
    """torch.autograd.backward: sum the gradients of ``tensors`` into the leaves' .grad."""
    Tensor = engine._Tensor()
    if create_graph:
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    outputs = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = (grad_tensors,) if isinstance(grad_tensors, Tensor) else (
        tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs))
    if isinstance(inputs, dict):
        inputs = tuple(inputs.values())
    inputs = _as_tuple(inputs) if inputs is not None else None
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    edges = _root_edges(outputs)
    seeds = _root_grads(outputs, grads, create_graph)
    if inputs is None:
        engine.execute(edges, seeds, keep_graph=retain_graph, create_graph=create_graph)
        return
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture = [t._edge() for t in inputs]
    captured = engine.execute(edges, seeds, keep_graph=retain_graph, create_graph=create_graph,
                              capture=capture, accumulate=True)
    # Leaves were accumulated by their AccumulateGrad; non-leaf inputs get .grad here.
    for t, g in zip(inputs, captured):
        if t._grad_fn is not None and g is not None:
            engine._retain_like(t, g, create_graph)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> Any:
    """torch.autograd.grad: the gradients of ``outputs`` w.r.t. ``inputs``, as a tuple.

    Leaves' .grad is left untouched.
    """
    Tensor = engine._Tensor()
    if (outputs.__class__ is Tensor and inputs.__class__ is Tensor and grad_outputs is None
            and only_inputs and not (is_grads_batched or materialize_grads)
            and inputs._requires_grad and outputs._requires_grad):
        # One output and one input, as most calls: the checks below all pass, so none of
        # their tuples are built.
        captured = engine.execute(
            [outputs._edge()], [_implicit_seed(outputs, create_graph)],
            keep_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph, capture=[inputs._edge()], accumulate=False)
        return (_grad_result(0, inputs, captured[0], create_graph, allow_unused, False),)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    names = None
    if isinstance(inputs, dict):
        names = list(inputs)
        inputs = tuple(inputs.values())
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    gouts = (grad_outputs,) if isinstance(grad_outputs, Tensor) else (
        tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outs))
    if retain_graph is None:
        retain_graph = create_graph
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if is_grads_batched:
        result = _batched_grad(outs, ins, gouts, retain_graph, create_graph, allow_unused)
    else:
        edges = _root_edges(outs)
        seeds = _root_grads(outs, gouts, create_graph)
        captured = engine.execute(edges, seeds, keep_graph=retain_graph,
                                  create_graph=create_graph,
                                  capture=[t._edge() for t in ins], accumulate=False)
        result = tuple(_grad_result(i, t, g, create_graph, allow_unused, materialize_grads)
                       for i, (t, g) in enumerate(zip(ins, captured)))
    if names is not None:
        return dict(zip(names, result))
    return result


def _grad_result(i: int, t: Any, g: Any, create_graph: bool, allow_unused: bool,
                 materialize_grads: bool) -> Any:
    """What grad() returns for input ``t`` (index ``i``) given its captured gradient."""
    Tensor = engine._Tensor()
    if g is None:
        if materialize_grads:
            z = Tensor._make(np.zeros(t._data.shape, t._data.dtype))
            z._requires_grad = create_graph
            return z
        if not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                               "have been used in the graph. Set allow_unused=True if "
                               "this is the desired behavior.")
        return None
    if not create_graph:
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
        return Tensor._make(g if g.base is None and g.flags.writeable else g.copy())
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    return g


def _batched_grad(outs: tuple, ins: tuple, gouts: tuple, retain_graph: bool,
                  create_graph: bool, allow_unused: bool) -> tuple:
    """is_grads_batched: one backward per row of the batched grad_outputs, stacked."""
    from ..ops.join import stack
    n = None
    for i, (o, g) in enumerate(zip(outs, gouts)):
        if g is None or tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                "expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of "
                f"{_size_str(tuple(g.shape) if g is not None else ())} and output[{i}] has a "
                f"shape of {_size_str(tuple(o.shape))}. If you only want some tensors in "
                "`grad_output` to be considered batched, consider using vmap.")
        n = g.shape[0]
    rows = []
    for k in range(n):
        rows.append(grad(outs, ins, tuple(g[k] for g in gouts), retain_graph=True,
                         create_graph=create_graph, allow_unused=allow_unused))
    return tuple(None if rows[0][j] is None else stack([r[j] for r in rows])
                 for j in range(len(ins)))


def _unused(*_: Sequence) -> None:
    pass
