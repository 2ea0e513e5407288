"""torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian as function transforms.

Each transform runs the user's function on fresh differentiable handles of its
inputs and differentiates with ``autograd.grad(create_graph=True)``, so transforms
compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``): an outer transform sees the
inner one's result as an ordinary differentiable computation. A result keeps its
graph only when the caller's inputs require grad (as inside an outer transform).
Forward products use the double-backward trick (the VJP is linear in its vector).
Arguments may be pytrees of tuples, lists and dicts of Tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd.api import grad as _autograd_grad
from .autograd.grad_mode import enable_grad
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


# -- pytrees ---------------------------------------------------------------------------


def _flatten(tree: Any) -> tuple[list, Callable]:
    """Leaves of a tuple/list/dict tree, and a function rebuilding it from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        kind = type(tree)

        def rebuild_seq(leaves: list) -> Any:
            out, at = [], 0
            for (ls, rb) in parts:
                out.append(rb(leaves[at:at + len(ls)]))
                at += len(ls)
            return kind(out)
        return [x for ls, _ in parts for x in ls], rebuild_seq
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, rebuild = _flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, rebuild(new), strict=True))
    return [tree], lambda new: new[0]


def _handles(tree: Any) -> Any:
    """Differentiable stand-ins for the tensors of ``tree``, linked to them if they require
    grad (so an outer transform can differentiate through)."""
    leaves, rebuild = _flatten(tree)
    return rebuild([(x.view_as(x) if x.requires_grad else x.detach().requires_grad_())
                    if isinstance(x, Tensor) else x for x in leaves])


def _outer_needs_graph(tree: Any) -> bool:
    return any(isinstance(x, Tensor) and x.requires_grad for x in _flatten(tree)[0])


def _finish(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, rebuild = _flatten(tree)
    return rebuild([x.detach() if isinstance(x, Tensor) else x for x in leaves])


def _grads(outputs: list, inputs: list, grad_outputs: list | None) -> list:
    """d outputs / d inputs (zeros where unused), always differentiable again."""
    from . import zeros_like
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or [None] * len(outputs),
                                    strict=True) if o.requires_grad]
    if not pairs:
        return [zeros_like(x) for x in inputs]
    gs = _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                        create_graph=True, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(gs, inputs, strict=True)]


# -- argnums ---------------------------------------------------------------------------


def _check_argnums(argnums: Any, n_args: int) -> tuple:
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        nums = argnums
        if len(set(nums)) != len(nums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
    return tuple(a % n_args for a in nums)


def _select(args: tuple, argnums: Any) -> tuple[tuple, Any]:
    """Replace the differentiated arguments by handles; return (new args, the handles)."""
    nums = _check_argnums(argnums, len(args))
    new = list(args)
    for a in nums:
        new[a] = _handles(args[a])
    picked = new[nums[0]] if isinstance(argnums, int) else tuple(new[a] for a in nums)
    return tuple(new), picked


def _split_aux(out: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


# -- transforms ------------------------------------------------------------------------


def grad_and_value(func: Callable, argnums: int | tuple = 0, has_aux: bool = False
                   ) -> Callable:
    """torch.func.grad_and_value(func, argnums=0, has_aux=False) -> (grad, value)."""
    api = "grad_and_value(f)(*args)"

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        keep = _outer_needs_graph(args)
        with enable_grad():
            new_args, picked = _select(args, argnums)
            out, aux = _split_aux(func(*new_args, **kwargs), has_aux, api)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got "
                                   f"{type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim()} dims. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            leaves, rebuild = _flatten(picked)
            g = rebuild(_grads([out], leaves, None))
        g = _finish(g, keep)
        value = _finish(out, keep)
        if has_aux:
            return g, (value, _finish(aux, keep))
        return g, value

    return wrapper


def grad(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """torch.func.grad(func, argnums=0, has_aux=False)."""
    inner = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """torch.func.vjp(func, *primals, has_aux=False) -> (output, vjp_fn[, aux])."""
    keep = _outer_needs_graph(primals)
    with enable_grad():
        handles = _handles(primals)
        out, aux = _split_aux(func(*handles), has_aux, "vjp(f, *primals)")
    out_leaves, _ = _flatten(out)
    in_leaves, rebuild_in = _flatten(handles)

    def vjp_fn(cotangents: Any) -> tuple:
        ct_leaves, _ = _flatten(cotangents)
        with enable_grad():
            gs = _grads(out_leaves, in_leaves, ct_leaves)
        return _finish(rebuild_in(gs), keep or _outer_needs_graph(cotangents))

    result = (_finish(out, keep), vjp_fn)
    return (*result, _finish(aux, keep)) if has_aux else result


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """torch.func.jvp(func, primals, tangents, *, strict=False, has_aux=False)
    -> (output, jvp_out[, aux])."""
    from . import zeros_like
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. "
                               "it should be valid to call f(*primals).")
    keep = _outer_needs_graph((primals, tangents))
    with enable_grad():
        handles = _handles(primals)
        out, aux = _split_aux(func(*handles), has_aux, "jvp(f, primals, tangents)")
        out_leaves, rebuild_out = _flatten(out)
        in_leaves, _ = _flatten(handles)
        # J v = d/du <J^T u, v>, the VJP being linear in u.
        us = [zeros_like(o).requires_grad_() for o in out_leaves]
        vjps = _grads(out_leaves, in_leaves, us)
        tan_leaves, _ = _flatten(tangents)
        jv = _grads(vjps, us, tan_leaves)
    result = (_finish(out, keep), _finish(rebuild_out(jv), keep))
    return (*result, _finish(aux, keep)) if has_aux else result


def _jacobian(func: Callable, argnums: Any, has_aux: bool, forward: bool) -> Callable:
    from . import stack

    def wrapper(*args: Any) -> Any:
        keep = _outer_needs_graph(args)
        with enable_grad():
            new_args, picked = _select(args, argnums)
            out, aux = _split_aux(func(*new_args), has_aux,
                                  "jacfwd(f, ...)(*args)" if forward else
                                  "jacrev(f, ...)(*args)")
            out_leaves, rebuild_out = _flatten(out)
            in_leaves, rebuild_in = _flatten(picked)
            # jac[o][i]: shape out.shape + in.shape, one row per output element.
            jac = [[[] for _ in in_leaves] for _ in out_leaves]
            for oi, o in enumerate(out_leaves):
                flat = o.reshape(-1)
                for k in range(o.numel()):
                    for ii, g in enumerate(_grads([flat[k]], in_leaves, None)):
                        jac[oi][ii].append(g)
            blocks = [[stack(rows, 0).reshape(tuple(o.shape) + tuple(x.shape)) if rows else
                       zeros_like_shape(o, x) for rows, x in zip(jac[oi], in_leaves, strict=True)]
                      for oi, o in enumerate(out_leaves)]
        result = rebuild_out([rebuild_in(b) for b in blocks])
        result = _finish(result, keep)
        return (result, _finish(aux, keep)) if has_aux else result

    return wrapper


def zeros_like_shape(out: Tensor, x: Tensor) -> Tensor:
    from . import zeros
    return zeros(*(tuple(out.shape) + tuple(x.shape)), dtype=x.dtype)


def jacrev(func: Callable, argnums: int | tuple = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """torch.func.jacrev(func, argnums=0, *, has_aux=False, chunk_size=None)."""
    return _jacobian(func, argnums, has_aux, forward=False)


def jacfwd(func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """torch.func.jacfwd(func, argnums=0, has_aux=False, *, randomness='error').
    Same Jacobian as jacrev (computed row by row; no vmap here)."""
    return _jacobian(func, argnums, has_aux, forward=True)


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """torch.func.hessian(func, argnums=0) = jacfwd(jacrev(func, argnums), argnums)."""
    return jacfwd(jacrev(func, argnums), argnums)
