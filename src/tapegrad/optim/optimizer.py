"""Optimizer: parameter groups, per-parameter state, zero_grad, state_dict, step hooks.

Subclasses implement ``_update(group, p, grad, state)`` on NumPy arrays; the base class
runs it under no_grad for every parameter with a gradient and bumps the parameter's
version counter, since the array is changed in place (views and aliases see the update).
"""

from __future__ import annotations

import copy
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _RemovableHandle:
    """Handle returned by register_step_*_hook; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _step_counter() -> Tensor:
    """torch keeps 'step' as a float32 0-d tensor in optimizer state."""
    return Tensor._make(np.zeros((), dtype=np.float32))


def _zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    return Tensor._make(np.full_like(p._data, fill))


class Optimizer:
    """torch.optim.Optimizer(params, defaults): param_groups, state, step and state_dict."""

    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._step_pre_hooks: OrderedDict = OrderedDict()
        self._step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + params.type())
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        """torch.optim.Optimizer.add_param_group(param_group): options default to self.defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__module__ + "." + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            param_group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """torch.optim.Optimizer.zero_grad(set_to_none=True)"""
        for g in self.param_groups:
            for p in g["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    p._grad._data.fill(0)

    # -- stepping ------------------------------------------------------------------------

    def _init_state(self, group: dict, p: Tensor, state: dict) -> None:
        """Fill a parameter's state on its first update (subclasses override)."""

    def _update(self, group: dict, p: Tensor, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """torch.optim.Optimizer.step(closure=None): update every parameter with a grad."""
        for hook in list(self._step_pre_hooks.values()):
            hook(self, (), {})
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is None:
                        continue
                    grad = p._grad._data
                    if group.get("maximize", False):
                        grad = -grad
                    state = self.state[p]
                    if not state:
                        self._init_state(group, p, state)
                    self._update(group, p, grad, state)
                    p._counter.bump()
        for hook in list(self._step_post_hooks.values()):
            hook(self, (), {})
        return loss

    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """torch.optim.Optimizer.register_step_pre_hook(hook): hook(optimizer, args, kwargs)."""
        handle = _RemovableHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """torch.optim.Optimizer.register_step_post_hook(hook): hook(optimizer, args, kwargs)."""
        handle = _RemovableHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # -- state_dict ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        """torch.optim.Optimizer.state_dict(): state keyed by parameter index, groups with
        'params' as index lists (indices count across groups in order)."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """torch.optim.Optimizer.load_state_dict(state_dict): copies the given state."""
        state_dict = dict(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, sg in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        id_map = {old: p for g, sg in zip(self.param_groups, saved_groups)
                  for old, p in zip(sg["params"], g["params"])}
        new_state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key)  # keys may come back as strings from a file
            if key not in id_map:
                new_state[key] = copy.deepcopy(value)
                continue
            p = id_map[key]
            new_state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
        self.state = new_state
        self.param_groups = [{**copy.deepcopy({k: v for k, v in sg.items() if k != "params"}),
                              "params": g["params"]}
                             for g, sg in zip(self.param_groups, saved_groups)]

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(p: Tensor, key: str, value: Any) -> Any:
    """Copy a loaded state value; float tensors take the parameter's dtype, except 'step'
    (as torch does)."""
    if isinstance(value, Tensor):
        data = value._data
        if key != "step" and data.dtype.kind in "fc":
            data = data.astype(p._data.dtype)
        return Tensor._make(np.array(data, copy=True))
    return copy.deepcopy(value)
