"""nn.Module, Parameter and containers: registration, iteration, state_dict, hooks, reprs."""

from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def build(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(2, 3, dtype=lib.float64))
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)
            self.seq = nn.Sequential(nn.Identity(), nn.Flatten(), nn.Unflatten(1, (2, 3)))
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3), nn.Flatten(0)])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 1, bias=False)})

        def forward(self, x):
            return self.seq(x) * self.w

    return Net()


def test_repr_matches_torch_including_repeated_blocks():
    assert repr(build(tg)) == repr(build(torch))


def test_parameter_repr_and_type():
    p = tg.nn.Parameter(tg.ones(2, dtype=tg.float64))
    q = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    assert repr(p) == repr(q) == str(p)
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert type(p * 2) is tg.Tensor


def test_names_of_parameters_buffers_and_modules_match_torch():
    a, b = build(tg), build(torch)
    assert [k for k, _ in a.named_parameters()] == [k for k, _ in b.named_parameters()]
    assert [k for k, _ in a.named_buffers()] == [k for k, _ in b.named_buffers()]
    assert [k for k, _ in a.named_modules()] == [k for k, _ in b.named_modules()]
    assert [k for k, _ in a.named_children()] == [k for k, _ in b.named_children()]
    assert list(a.state_dict()) == list(b.state_dict())
    assert len(list(a.parameters())) == len(list(b.parameters()))
    assert len(list(a.modules())) == len(list(b.modules()))
    assert [k for k, _ in a.named_parameters(recurse=False)] == ["w"]


def test_shared_parameter_is_listed_once():
    lin = tg.nn.Linear(2, 2)
    seq = tg.nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert [k for k, _ in seq.named_modules()] == ["", "0"]


def test_state_dict_round_trip_copies_values():
    a, b = tg.nn.Linear(3, 2), tg.nn.Linear(3, 2)
    assert repr(b.load_state_dict(a.state_dict())) == "<All keys matched successfully>"
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert a.state_dict()["weight"].grad_fn is None
    assert not a.state_dict()["weight"].requires_grad
    assert a.state_dict(keep_vars=True)["weight"] is a.weight


@pytest.mark.parametrize("state", [
    {"weight": np.zeros((2, 2)), "foo": np.zeros(1)},
    {"weight": np.zeros((3, 2))},
    {"weight": np.zeros((3, 2)), "bias": np.zeros(3), "extra.x": np.zeros(1)},
])
def test_load_state_dict_errors_match_torch(state):
    a, b = tg.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    with pytest.raises(RuntimeError) as tg_err:
        a.load_state_dict({k: tg.tensor(v) for k, v in state.items()})
    with pytest.raises(RuntimeError) as torch_err:
        b.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    assert str(tg_err.value) == str(torch_err.value)


def test_non_strict_load_reports_keys_like_torch():
    a, b = tg.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    ra = a.load_state_dict({"weight": tg.zeros(3, 2), "zzz": tg.zeros(1)}, strict=False)
    rb = b.load_state_dict({"weight": torch.zeros(3, 2), "zzz": torch.zeros(1)}, strict=False)
    assert repr(ra) == repr(rb)
    assert a.weight.detach().numpy().sum() == 0


def test_setattr_errors_match_torch():
    for lib in (tg, torch):
        m = lib.nn.Linear(2, 3)
        with pytest.raises(TypeError) as e:
            m.weight = lib.zeros(1)
        assert str(e.value) == ("cannot assign 'torch.FloatTensor' as parameter 'weight' "
                                "(torch.nn.Parameter or None expected)")
        with pytest.raises(AttributeError) as e:
            _ = m.missing
        assert str(e.value) == "'Linear' object has no attribute 'missing'"
        with pytest.raises(KeyError) as e:
            m.register_buffer("weight", None)
        assert str(e.value) == "\"attribute 'weight' already exists\""


def test_assigning_none_bias_keeps_the_slot():
    m = tg.nn.Linear(2, 3)
    m.bias = None
    assert [k for k, _ in m.named_parameters()] == ["weight"]
    assert "bias" in m._parameters


def test_train_eval_and_requires_grad_propagate():
    m = build(tg)
    m.eval()
    assert not m.training and not m.blocks[1].training
    m.train()
    assert all(x.training for x in m.modules())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_hooks_run_in_order_and_can_replace_values():
    m = tg.nn.Linear(2, 2)
    calls = []
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    h = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(tg.ones(1, 2))
    assert calls == ["pre"] and out.detach().numpy().sum() == 0
    h.remove()
    assert m(tg.ones(1, 2)).detach().numpy().any()


def test_zero_grad_and_dtype_conversion():
    m = tg.nn.Linear(2, 2)
    m(tg.ones(1, 2)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert m.weight.grad.detach().numpy().sum() == 0
    m.zero_grad()
    assert m.weight.grad is None
    p = m.weight
    m.double()
    assert m.weight is p and p.dtype == tg.float64
    m.to(tg.float32)
    assert p.dtype == tg.float32


def test_apply_visits_children_first():
    m = tg.nn.Sequential(tg.nn.Linear(1, 1), tg.nn.Sequential(tg.nn.Identity()))
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    t = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sequential(torch.nn.Identity()))
    seen_t = []
    t.apply(lambda mod: seen_t.append(type(mod).__name__))
    assert seen == seen_t


def test_sequential_indexing_and_ordered_dict():
    s = tg.nn.Sequential(OrderedDict(a=tg.nn.Identity(), b=tg.nn.Flatten()))
    assert repr(s) == repr(torch.nn.Sequential(OrderedDict(a=torch.nn.Identity(),
                                                           b=torch.nn.Flatten())))
    assert isinstance(s[-1], tg.nn.Flatten) and len(s[:1]) == 1
    out = s(tg.ones(2, 3, 4))
    assert tuple(out.shape) == (2, 12)


def test_module_dict_and_list_behave_like_containers():
    d = tg.nn.ModuleDict({"x": tg.nn.Identity()})
    d["y"] = tg.nn.Flatten()
    assert list(d.keys()) == ["x", "y"] and "y" in d and len(d) == 2
    ml = tg.nn.ModuleList()
    ml.append(tg.nn.Identity())
    ml += [tg.nn.Flatten()]
    assert len(ml) == 2 and isinstance(ml[-1], tg.nn.Flatten)
