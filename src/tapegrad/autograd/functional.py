"""torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp on functions of tensors.

Built only on ``autograd.grad``. Forward products (jvp, hvp) use the double-backward
trick: the VJP is linear in its vector ``u``, so differentiating it with respect to
``u`` gives the JVP. ``vectorize=True`` gives the same results by looping (no vmap),
and ``strategy="forward-mode"`` computes the same Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .grad_mode import enable_grad, set_grad_enabled
from .grad_mode import state as grad_state

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _Tensor() -> type:
    from ..tensor import Tensor
    return Tensor


def _lib() -> Any:
    import tapegrad
    return tapegrad


def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, _Tensor()):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res: Any, is_tuple: Any) -> Any:
    """Drop the tuple levels the user did not pass as tuples."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if is_tuple else res[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh differentiable handles on the inputs (kept in the graph under create_graph)."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(need_graph) for x in inputs)


def _prepare_inputs(inputs: Any, fn_name: str, create_graph: bool) -> tuple[bool, tuple]:
    """Whether the user passed a tuple, and the inputs as fresh differentiable handles."""
    is_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    return is_tuple, _prepare(inputs, create_graph, need_graph=True)


def _finish(values: tuple, create_graph: bool) -> tuple:
    if values and isinstance(values[0], _Tensor()):
        return values if create_graph else tuple(v.detach() for v in values)
    return tuple(_finish(v, create_graph) for v in values)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (a, b) in enumerate(zip(v, other, strict=True)):
        if a.size() != b.size():
            prefix = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got "
                               f"{a.size()}.")


_NOT_REQUIRING = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is thrice differentiable and that the hessian depends on the "
                "inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided "
                 "function with respect to input {i} is independent of the input. This is not "
                 "allowed in strict mode. You should ensure that your function is twice "
                 "differentiable and that the jacobian depends on the inputs (this would be "
                 "violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the "
                    "user-provided function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when running "
                "in strict mode."),
}


def _check_requires_grad(values: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, v in enumerate(values):
        if v is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not v.requires_grad:
            raise RuntimeError(_NOT_REQUIRING[kind].format(i=i))


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None,
          create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """autograd.grad over the outputs that require grad; None where nothing flows."""
    from .api import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:
    lib = _lib()
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i))
            g = lib.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _call(func: Callable, inputs: tuple, fn_name: str, strict: bool) -> tuple[bool, tuple]:
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                  fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _v_or_default(v: Any, against: tuple, is_tuple: bool, fn_name: str, create_graph: bool,
                  none_message: str) -> tuple | None:
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _prepare(v, create_graph, need_graph=False)
        _validate_v(v, against, is_tuple)
        return v
    if len(against) != 1 or against[0].nelement() != 1:
        raise RuntimeError(none_message)
    return None


_V_NONE_OUTPUT = ("The vector v can only be None if the user-provided function returns a single "
                  "Tensor with a single element.")
_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is "
                 "a single Tensor with a single element.")


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """torch.autograd.functional.vjp(func, inputs, v=None, create_graph=False, strict=False)."""
    with enable_grad():
        is_in_tuple, inputs = _prepare_inputs(inputs, "vjp", create_graph)
        is_out_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _v_or_default(v, outputs, is_out_tuple, "vjp", create_graph, _V_NONE_OUTPUT)
    res = _last_gradient(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _results(outputs, is_out_tuple, res, is_in_tuple, create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """torch.autograd.functional.jvp(func, inputs, v=None, create_graph=False, strict=False)."""
    lib = _lib()
    with enable_grad():
        is_in_tuple, inputs = _prepare_inputs(inputs, "jvp", create_graph)
        v = _v_or_default(v, inputs, is_in_tuple, "jvp", create_graph, _V_NONE_INPUT)
        is_out_tuple, outputs = _call(func, inputs, "jvp", strict)
        # The VJP u -> J^T u is linear in u: its derivative along v is J v.
        us = tuple(lib.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    res = _last_gradient(grad_inputs, us, v, outputs, strict, create_graph, "back_trick")
    return _results(outputs, is_out_tuple, res, is_out_tuple, create_graph)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """torch.autograd.functional.jacobian(func, inputs, create_graph=False, strict=False,
    vectorize=False, strategy='reverse-mode')."""
    lib = _lib()
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            _as_tuple(inputs, "inputs", "jacobian")
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with enable_grad():
        is_in_tuple, inputs = _prepare_inputs(inputs, "jacobian", create_graph)
        is_out_tuple, outputs = _call(func, inputs, "jacobian", strict)
        jac = []
        for i, out in enumerate(outputs):
            rows: list[list] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for k in range(out.nelement()):
                vj = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
                for j, (g, x) in enumerate(zip(vj, inputs, strict=True)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {j}. This is not allowed "
                                               "in strict mode.")
                        g = lib.zeros_like(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is "
                                           f"independent of input {i}. This is not allowed in "
                                           "strict mode when create_graph=True.")
                    rows[j].append(g)
            jac.append(tuple(
                (lib.stack(r, 0) if r else lib.zeros(0, *x.shape, dtype=x.dtype)).view(
                    tuple(out.shape) + tuple(x.shape))
                for r, x in zip(rows, inputs, strict=True)))
        jac = _finish(tuple(jac), create_graph)
        if strategy == "forward-mode":     # torch's forward-mode path builds lists
            jac = [list(row) for row in jac]
        return _unpack(jac, (is_out_tuple, is_in_tuple))


def _last_gradient(outputs: tuple, inputs: tuple, v: tuple | None, refs: tuple, strict: bool,
                   create_graph: bool, stage: str) -> tuple:
    """The final gradient of vjp/jvp/vhp/hvp, recorded only where the result needs a graph;
    zeros (or the strict-mode error) for ``refs`` it does not reach."""
    with set_grad_enabled(bool(create_graph or grad_state.grad_enabled)):
        return _fill_in_zeros(_grad(outputs, inputs, v, create_graph), refs, strict,
                              create_graph, stage)


def _results(outputs: tuple, is_out_tuple: bool, res: tuple, is_res_tuple: bool,
             create_graph: bool) -> tuple:
    """(outputs, result), detached unless create_graph, each unpacked as the user passed it."""
    return (_unpack(_finish(outputs, create_graph), is_out_tuple),
            _unpack(_finish(res, create_graph), is_res_tuple))


def _single_output(out: Any, is_tuple: bool, fn_name: str) -> None:
    if is_tuple or not isinstance(out, _Tensor()):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if out.nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """torch.autograd.functional.hessian(func, inputs, create_graph=False, strict=False,
    vectorize=False, outer_jacobian_strategy='reverse-mode')."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*xs: Any) -> Any:
        is_tuple, outs = _call(func, xs, "hessian", strict)
        _single_output(outs[0], is_tuple, "hessian")
        return outs[0].squeeze()

    def jac_func(*xs: Any) -> Any:
        jac = jacobian(scalar_func, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_in_tuple, is_in_tuple))


def _second_order(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                  fn_name: str) -> tuple:
    """Shared start of vhp/hvp: inputs, v, outputs and the gradient kept differentiable."""
    is_in_tuple, inputs = _prepare_inputs(inputs, fn_name, create_graph)
    v = _v_or_default(v, inputs, is_in_tuple, fn_name, create_graph, _V_NONE_INPUT)
    is_out_tuple, outputs = _call(func, inputs, fn_name, strict)
    _single_output(outputs[0], is_out_tuple, fn_name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_in_tuple, inputs, v, is_out_tuple, outputs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """torch.autograd.functional.vhp(func, inputs, v=None, create_graph=False, strict=False)."""
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs, jac = _second_order(
            func, inputs, v, create_graph, strict, "vhp")
    res = _last_gradient(jac, inputs, v, inputs, strict, create_graph, "double_back")
    return _results(outputs, is_out_tuple, res, is_in_tuple, create_graph)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """torch.autograd.functional.hvp(func, inputs, v=None, create_graph=False, strict=False)."""
    lib = _lib()
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs, jac = _second_order(
            func, inputs, v, create_graph, strict, "hvp")
        us = tuple(lib.zeros_like(x, requires_grad=True) for x in inputs)
        double_back = _grad(jac, inputs, us, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    res = _last_gradient(double_back, us, v, inputs, strict, create_graph, "double_back_trick")
    return _results(outputs, is_out_tuple, res, is_in_tuple, create_graph)
