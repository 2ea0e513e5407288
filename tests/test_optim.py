"""Optimizers and lr schedulers follow torch's update rules step for step (float64)."""

import numpy as np
import pytest

import tapegrad
from tapegrad import optim

torch = pytest.importorskip("torch")

SHAPES = [(3,), (2, 3), ()]


def _params(lib, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]


def _loss(params):
    # A quadratic plus a cubic term: gradients change every step and differ per element.
    total = 0
    for i, p in enumerate(params):
        total = total + ((p - 0.5 * i) * (p - 0.5 * i) * (i + 1.0)).sum() + (p * p * p).sum() * 0.1
    return total


def _run(lib, opt_name, opt_kwargs, sched=None, steps=12):
    params = _params(lib)
    opt = getattr(lib.optim, opt_name)(params, **opt_kwargs)
    scheduler = sched(lib.optim.lr_scheduler, opt) if sched else None
    lrs = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(params)
        loss.backward()
        opt.step()
        if scheduler is not None:
            if isinstance(scheduler, lib.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(1.0)  # a flat metric: the lr drops after `patience` epochs
            else:
                scheduler.step()
            lrs.append(scheduler.get_last_lr())
    arrays = [p.detach().numpy().copy() for p in params]
    return arrays, lrs, opt


OPTIMIZERS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=lambda x: str(x))
def test_optimizer_matches_torch_step_for_step(name, kwargs):
    ours, _, _ = _run(tapegrad, name, kwargs)
    theirs, _, _ = _run(torch, name, kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (e + 1)),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=6),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=13),
    "OneCycleLR3": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=13, three_phase=True,
                                             anneal_strategy="linear"),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1),
}


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.05))], ids=["SGD", "Adam"])
def test_scheduler_lrs_and_parameters_match_torch(sched, name, kwargs):
    ours, our_lrs, our_opt = _run(tapegrad, name, kwargs, SCHEDULERS[sched])
    theirs, their_lrs, their_opt = _run(torch, name, kwargs, SCHEDULERS[sched])
    np.testing.assert_allclose(np.array(our_lrs), np.array(their_lrs), rtol=1e-14, atol=0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert our_opt.param_groups[0].get("betas") == their_opt.param_groups[0].get("betas")
    assert our_opt.param_groups[0].get("momentum") == their_opt.param_groups[0].get("momentum")


def _as_plain(obj):
    """Optimizer state_dict with tensors as lists, comparable across libraries."""
    if isinstance(obj, dict):
        return {k: _as_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_as_plain(v) for v in obj)
    if hasattr(obj, "detach"):
        return (str(obj.dtype).replace("torch.", ""), obj.detach().numpy().tolist())
    return obj


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.05, amsgrad=True)),
                                         ("RMSprop", dict(centered=True, momentum=0.1)),
                                         ("Adagrad", dict())], ids=lambda x: str(x))
def test_state_dict_has_torchs_layout_and_values(name, kwargs):
    _, _, ours = _run(tapegrad, name, kwargs, steps=3)
    _, _, theirs = _run(torch, name, kwargs, steps=3)
    a, b = _as_plain(ours.state_dict()), _as_plain(theirs.state_dict())
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for k in a["state"]:
        assert a["state"][k].keys() == b["state"][k].keys()
        for field in a["state"][k]:
            (da, va), (db, vb) = a["state"][k][field], b["state"][k][field]
            assert da == db
            np.testing.assert_allclose(va, vb, rtol=1e-12, atol=1e-12)


def test_adagrad_state_exists_before_first_step():
    p = tapegrad.zeros(2)
    sd = optim.Adagrad([p], initial_accumulator_value=0.5).state_dict()
    assert list(sd["state"]) == [0]
    assert sd["state"][0]["sum"].tolist() == [0.5, 0.5]


def test_load_state_dict_resumes_training_identically():
    params = _params(tapegrad)
    opt = optim.Adam(params, lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        _loss(params).backward()
        opt.step()
    saved = opt.state_dict()
    clones = [tapegrad.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    resumed = optim.Adam(clones, lr=999.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.05
    assert resumed.param_groups[0]["params"][0] is clones[0]
    for ps, o in ((params, opt), (clones, resumed)):
        for _ in range(4):
            o.zero_grad()
            _loss(ps).backward()
            o.step()
    for a, b in zip(params, clones):
        assert a.detach().numpy().tolist() == b.detach().numpy().tolist()
    # The loaded state is a copy: stepping one optimizer leaves the other's state alone.
    assert resumed.state[clones[0]]["exp_avg"] is not opt.state[params[0]]["exp_avg"]


def test_load_state_dict_with_wrong_group_size_raises():
    opt = optim.SGD([tapegrad.zeros(1)], lr=0.1)
    other = optim.SGD([tapegrad.zeros(1), tapegrad.zeros(1)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(other.state_dict())


def test_param_groups_with_own_options_and_add_param_group():
    a, b = (tapegrad.ones(2, dtype=tapegrad.float64, requires_grad=True) for _ in range(2))
    c = tapegrad.ones(1, dtype=tapegrad.float64, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5, 0.0]
    assert opt.state_dict()["param_groups"][2]["params"] == [2]
    (a.sum() + b.sum() + c.sum()).backward()
    opt.step()
    assert a.tolist() == [0.9, 0.9] and b.tolist() == [0.0, 0.0] and c.tolist() == [0.9]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad_set_to_none_and_to_zero():
    p = tapegrad.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_bumps_version_and_updates_views():
    p = tapegrad.ones(4, requires_grad=True)
    view = p.detach()[1:]
    opt = optim.Adam([p], lr=0.1)
    p.sum().backward()
    before = p._version
    opt.step()
    assert p._version == before + 1
    assert view.tolist() == p.detach()[1:].tolist() != [1.0, 1.0, 1.0]


def test_step_hooks_and_closure():
    p = tapegrad.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    calls = []
    h = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append("closure")
        return loss

    loss = opt.step(closure)
    assert loss.item() == 1.0 and p.tolist() == [0.0]
    assert calls == ["pre", "closure", "post"]
    h.remove()
    opt.step(closure)
    assert calls[3:] == ["closure", "post"]


@pytest.mark.parametrize("call", [
    "Adam(p, lr=-1)", "Adam(p, eps=-1)", "Adam(p, betas=(1.0, 0.9))", "RMSprop(p, alpha=-1)",
    "Adagrad(p, lr_decay=-1)", "SGD(p, momentum=-1)", "SGD(p, nesterov=True)",
    "Adagrad(p, initial_accumulator_value=-1)", "SGD([])", "SGD(p[0])",
])
def test_invalid_arguments_raise_torchs_errors(call):
    def run(lib):
        p = [lib.zeros(1)]
        try:
            eval("lib.optim." + call, {"lib": lib, "p": p})
        except Exception as e:  # noqa: BLE001
            return type(e), str(e)
        return None

    ours, theirs = run(tapegrad), run(torch)
    assert ours is not None and ours[0] is theirs[0]
    assert ours[1] == theirs[1]


def test_lr_scheduler_state_dict_round_trip():
    opt = optim.SGD([tapegrad.zeros(1)], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2 = optim.SGD([tapegrad.zeros(1)], lr=0.5)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr() == [0.25]
