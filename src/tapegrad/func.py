"""torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian as function transforms.

Each transform runs the user's function on fresh differentiable handles of its
inputs and differentiates with ``autograd.grad(create_graph=True)``, so transforms
compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``): an outer transform sees the
inner one's result as an ordinary differentiable computation. A result keeps its
graph only when the caller's inputs require grad (as inside an outer transform).
``jvp`` runs forward mode (``autograd.forward_ad``); inside an open dual level (a
nested ``jvp``) it uses the double-backward trick instead (the VJP is linear in its
vector), since forward mode has one level.
Arguments may be pytrees of tuples, lists and dicts of Tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd import forward_ad as _forward_ad
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
    return rebuild([_handle(x) if isinstance(x, Tensor) else x for x in leaves])


def _handle(x: Tensor) -> Tensor:
    if x.requires_grad:
        return x.view_as(x)               # a view keeps a dual tensor's tangent
    tangent = _forward_ad.unpack_dual(x).tangent
    h = x.detach().requires_grad_()
    return h if tangent is None else _forward_ad.make_dual(h, tangent)


def _outer_needs_graph(tree: Any) -> bool:
    return any(isinstance(x, Tensor) and x.requires_grad for x in _flatten(tree)[0])


def _finish(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, rebuild = _flatten(tree)
    return rebuild([_detached(x) if isinstance(x, Tensor) else x for x in leaves])


def _detached(x: Tensor) -> Tensor:
    """``x.detach()``, keeping its tangent inside an open dual level (an outer ``jvp``)."""
    tangent = _forward_ad.unpack_dual(x).tangent
    if tangent is None:
        return x.detach()
    return _forward_ad.make_dual(x.detach(), tangent.detach())


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
    if _forward_ad.state.level < 0:
        result = _forward_jvp(func, primals, tangents, has_aux)
        return tuple(_finish(r, keep) for r in result)
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


def _forward_jvp(func: Callable, primals: tuple, tangents: tuple, has_aux: bool) -> tuple:
    """(output, J tangents[, aux]) in one forward pass over dual tensors."""
    from . import zeros_like
    fw = _forward_ad
    p_leaves, rebuild = _flatten(primals)
    t_leaves, _ = _flatten(tangents)
    if len(p_leaves) != len(t_leaves):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            "structure. For example, if primals is a tuple of 3 tensors, tangents also must "
            f"be. Got primals with {len(p_leaves)} leaves and tangents with {len(t_leaves)}.")
    with fw.dual_level():
        duals = [fw.make_dual(p, t) if isinstance(p, Tensor) else p
                 for p, t in zip(p_leaves, t_leaves, strict=True)]
        out, aux = _split_aux(func(*rebuild(duals)), has_aux, "jvp(f, primals, tangents)")
        out_leaves, rebuild_out = _flatten(out)
        unpacked = [fw.unpack_dual(o) for o in out_leaves]
        primal_out = rebuild_out([u.primal for u in unpacked])
        jv = rebuild_out([zeros_like(o) if u.tangent is None else u.tangent
                          for o, u in zip(out_leaves, unpacked, strict=True)])
    return (primal_out, jv, aux) if has_aux else (primal_out, jv)


def _jacobian(func: Callable, argnums: Any, has_aux: bool, forward: bool) -> Callable:
    from . import stack

    def wrapper(*args: Any) -> Any:
        keep = _outer_needs_graph(args)
        if forward and _forward_ad.state.level < 0:
            result = _forward_jacobian(func, args, argnums, has_aux)
            return tuple(_finish(r, keep) for r in result) if has_aux else _finish(result, keep)
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


def _forward_jacobian(func: Callable, args: tuple, argnums: Any, has_aux: bool) -> Any:
    """jacfwd by forward mode: one JVP per input element (a column of the Jacobian)."""
    from . import stack, zeros_like
    nums = _check_argnums(argnums, len(args))
    picked = args[nums[0]] if isinstance(argnums, int) else tuple(args[a] for a in nums)
    in_leaves, rebuild_in = _flatten(picked)

    def call(*leaves: Any) -> Any:
        new = list(args)
        values = rebuild_in(list(leaves))
        for a, value in zip(nums, (values,) if isinstance(argnums, int) else values,
                            strict=True):
            new[a] = value
        return func(*new)

    columns: list = [[] for _ in in_leaves]
    seeds = [(i, k) for i, x in enumerate(in_leaves) for k in range(x.numel())] or [(-1, 0)]
    for i, k in seeds:
        tangents = [zeros_like(x) for x in in_leaves]
        if i >= 0:
            seed = tangents[i].reshape(-1)
            seed[k] = 1.0
            tangents[i] = seed.reshape(in_leaves[i].shape)
        res = _forward_jvp(call, tuple(in_leaves), tuple(tangents), has_aux)
        out = res[0]
        if i >= 0:
            columns[i].append(_flatten(res[1])[0])
    out_leaves, rebuild_out = _flatten(out)
    blocks = [rebuild_in([stack([col[oi] for col in columns[ii]], -1).reshape(
        tuple(o.shape) + tuple(x.shape)) if columns[ii] else zeros_like_shape(o, x)
        for ii, x in enumerate(in_leaves)]) for oi, o in enumerate(out_leaves)]
    result = rebuild_out(blocks)
    return (result, res[2]) if has_aux else result


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
    Forward mode, one JVP per input element (no vmap here); inside an open dual level
    (nested in a jvp/jacfwd) row by row in reverse mode."""
    return _jacobian(func, argnums, has_aux, forward=True)


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """torch.func.hessian(func, argnums=0) = jacfwd(jacrev(func, argnums), argnums)."""
    return jacfwd(jacrev(func, argnums), argnums)
