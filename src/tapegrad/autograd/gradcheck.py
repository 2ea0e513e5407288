"""gradcheck / gradgradcheck: analytical Jacobians (from backward) against central differences.

Built only on the public API: ``autograd.grad`` gives the analytical Jacobian one
output element at a time; the numerical one perturbs each input element by ``eps``
in place, without recording.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when a Jacobian does not match."""


def _Tensor() -> type:
    from ..tensor import Tensor
    return Tensor


def _as_tuple(x: Any) -> tuple:
    return (x,) if isinstance(x, _Tensor()) else tuple(x)


def _differentiable_outputs(func: Callable, inputs: tuple) -> list:
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, _Tensor())]


def _numerical(func: Callable, inputs: tuple, diff_inputs: list, eps: float) -> list:
    """jac[j][i]: (input j numel, output i numel) by central differences."""
    # Not under no_grad: gradgradcheck's function itself calls autograd.grad.
    outs = _differentiable_outputs(func, inputs)
    jacs = [[np.zeros((x.numel(), o.numel()), o.detach().numpy().dtype) for o in outs]
            for x in diff_inputs]
    for j, x in enumerate(diff_inputs):
        flat = x.detach().numpy().reshape(-1)     # shares memory with x
        for k in range(flat.size):
            orig = flat[k].item()
            flat[k] = orig - eps
            before = [o.detach().numpy().copy() for o in
                      _differentiable_outputs(func, inputs)]
            flat[k] = orig + eps
            after = [o.detach().numpy().copy() for o in
                     _differentiable_outputs(func, inputs)]
            flat[k] = orig
            for i, (a, b) in enumerate(zip(after, before, strict=True)):
                jacs[j][i][k] = ((a - b) / (2 * eps)).reshape(-1)
    return jacs


def _analytical(func: Callable, inputs: tuple, diff_inputs: list) -> list:
    from .api import grad
    Tensor = _Tensor()
    outs = _differentiable_outputs(func, inputs)
    jacs = [[np.zeros((x.numel(), o.numel()), o.detach().numpy().dtype) for o in outs]
            for x in diff_inputs]
    for i, o in enumerate(outs):
        if not o.requires_grad:
            continue
        shape = tuple(o.shape)
        dtype = o.detach().numpy().dtype
        for k in range(o.numel()):
            onehot = np.zeros(int(np.prod(shape)), dtype)
            onehot[k] = 1
            gs = grad(o, diff_inputs, Tensor._make(onehot.reshape(shape)), retain_graph=True,
                      allow_unused=True)
            for j, g in enumerate(gs):
                if g is not None:
                    jacs[j][i][:, k] = g.detach().numpy().reshape(-1)
    return jacs


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-06, atol: float = 1e-05,
              rtol: float = 0.001, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """torch.autograd.gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001,
    raise_exception=True, ...) -> bool. (Always the slow, full-Jacobian mode.)"""
    inputs = _as_tuple(inputs)
    Tensor = _Tensor()
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    for idx, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and \
                x.detach().numpy().dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all the "
                          "inputs are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=2)
    numerical = _numerical(func, inputs, diff_inputs, eps)
    analytical = _analytical(func, inputs, diff_inputs)
    for j in range(len(diff_inputs)):
        for i, (n, a) in enumerate(zip(numerical[j], analytical[j], strict=True)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return _fail(f"Jacobian mismatch for output {i} with respect to input {j},\n"
                             f"numerical:{Tensor._make(n)!r}\nanalytical:{Tensor._make(a)!r}\n",
                             raise_exception)
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """torch.autograd.gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, ...) -> bool:
    gradcheck of the map (inputs, grad_outputs) -> vector-Jacobian product."""
    from .api import grad
    Tensor = _Tensor()
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        outs = _differentiable_outputs(func, inputs)
        grad_outputs = tuple(
            Tensor._make(rng.uniform(-1, 1, tuple(o.shape)).astype(o.detach().numpy().dtype)
                         ).requires_grad_() for o in outs if o.requires_grad)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def vjp(*args: Any) -> tuple:
        xs, gos = args[:n_in], args[n_in:]
        outs = [o for o in _differentiable_outputs(func, xs) if o.requires_grad]
        gs = grad(outs, [xs[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

