"""Tensor metadata, conversions and autograd-state attributes, compared with torch."""

import warnings

import numpy as np
import pytest
from torch_compare import assert_same_repr

import tapegrad as tg

torch = pytest.importorskip("torch")


def _m(t):
    return t.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _rg(t):
    return t.tensor([1.0, 2.0], requires_grad=True)


API = {
    "shape": lambda t: _m(t).shape,
    "size": lambda t: _m(t).size(),
    "size_dim": lambda t: _m(t).size(-1),
    "size_bad_dim": lambda t: _m(t).size(2),
    "dim_ndim_numel": lambda t: (_m(t).dim(), _m(t).ndim, _m(t).numel()),
    "dtype_device": lambda t: (_m(t).dtype, _m(t).device, str(_m(t).device)),
    "T": lambda t: _m(t).T,
    "mT": lambda t: t.ones(2, 2, 3).mT.shape,
    "item": lambda t: t.tensor([2.5]).item(),
    "item_int": lambda t: t.tensor(3).item(),
    "item_many": lambda t: _m(t).item(),
    "tolist": lambda t: _m(t).tolist(),
    "tolist_0d": lambda t: t.tensor(1.5).tolist(),
    "tolist_rg": lambda t: _rg(t).tolist(),
    "item_rg": lambda t: _rg(t).sum().item(),
    "numpy_rg": lambda t: _rg(t).numpy(),
    "numpy_nonleaf_rg": lambda t: (_rg(t) * 2).numpy(),
    "numpy_force": lambda t: _rg(t).numpy(force=True).tolist(),
    "array_rg": lambda t: np.asarray(_rg(t)),
    "array": lambda t: np.asarray(_m(t)).tolist(),
    "len": lambda t: len(_m(t)),
    "len_0d": lambda t: len(t.tensor(1.0)),
    "iter": lambda t: list(_m(t)),
    "iter_0d": lambda t: list(t.tensor(1.0)),
    "float": lambda t: float(t.tensor([2.5])),
    "float_many": lambda t: float(_m(t)),
    "int": lambda t: int(t.tensor(2.7)),
    "bool": lambda t: bool(t.tensor([0.0])),
    "bool_many": lambda t: bool(_m(t)),
    "float_rg": lambda t: float(t.tensor(2.0, requires_grad=True)),
    "int_rg": lambda t: int(t.tensor(2.0, requires_grad=True)),
    "format_0d": lambda t: f"{t.tensor(2.5):.3f}",
    "format_0d_plain": lambda t: f"{t.tensor(3)}",
    "format_1d": lambda t: f"{t.tensor([1.0, 2.0])}",
    "format_1d_spec": lambda t: f"{t.tensor([1.0, 2.0]):.2f}",
    "to_dtype": lambda t: _m(t).to(t.int32),
    "to_same_is_self": lambda t: (lambda x: x.to(t.float32) is x)(_m(t)),
    "float_method": lambda t: t.tensor([1, 2]).float(),
    "double_method": lambda t: t.tensor([1, 2]).double(),
    "long_method": lambda t: t.tensor([1.7, -1.7]).long(),
    "int_method": lambda t: t.tensor([1.7]).int(),
    "bool_method": lambda t: t.tensor([0.0, 2.0]).bool(),
    "half_method": lambda t: t.tensor([1.5]).half(),
    "clone": lambda t: _m(t).clone(),
    "contiguous_T": lambda t: (_m(t).T.is_contiguous(), _m(t).T.contiguous().is_contiguous()),
    "is_floating_point": lambda t: (_m(t).is_floating_point(), t.tensor([1]).is_floating_point()),
    "to_grad_fn": lambda t: _rg(t).to(t.float64),
    "double_grad_fn": lambda t: (_rg(t).double().grad_fn.name(), _rg(t).double().is_leaf),
    "to_same_dtype_leaf": lambda t: _rg(t).to(t.float32).is_leaf,
    "clone_grad_fn": lambda t: _rg(t).clone(),
    "contiguous_rg": lambda t: _rg(t).contiguous().grad_fn,
}


@pytest.mark.parametrize("name", list(API))
def test_tensor_api_matches_torch(name):
    assert_same_repr(API[name], torch)


def _rg_set(t, dtype, value=True):
    x = t.zeros(2, dtype=dtype)
    x.requires_grad = value
    return x


STATE = {
    "ctor_int": lambda t: t.tensor([1], requires_grad=True),
    "ctor_bool": lambda t: t.tensor([True], requires_grad=True),
    "setter_int": lambda t: _rg_set(t, t.int64),
    "setter_int_false": lambda t: _rg_set(t, t.int64, False),
    "method_int": lambda t: t.zeros(2, dtype=t.int32).requires_grad_(),
    "method_int_false": lambda t: t.zeros(2, dtype=t.int32).requires_grad_(False),
    "method_returns_self": lambda t: (lambda x: x.requires_grad_() is x)(t.zeros(2)),
    "complex_ok": lambda t: t.zeros(1, dtype=t.complex64).requires_grad_().requires_grad,
    "nonleaf_setter_false": lambda t: setattr(_rg(t) * 2, "requires_grad", False),
    "nonleaf_setter_true": lambda t: setattr(_rg(t) * 2, "requires_grad", True),
    "nonleaf_method_false": lambda t: (_rg(t) * 2).requires_grad_(False),
    "nonleaf_method_true": lambda t: (_rg(t) * 2).requires_grad_().requires_grad,
    "is_leaf": lambda t: (_rg(t).is_leaf, (_rg(t) * 2).is_leaf, t.zeros(1).is_leaf,
                          t.zeros(1).mul(2).is_leaf),
    "grad_none": lambda t: _rg(t).grad,
    "grad_nonleaf": lambda t: (_rg(t) * 2).grad,
    "grad_retained": lambda t: (lambda y: (y.retain_grad(), y.grad, y.retains_grad))(_rg(t) * 2),
    "retain_on_leaf": lambda t: (lambda x: (x.retain_grad(), x.retains_grad))(_rg(t)),
    "retain_no_grad": lambda t: t.zeros(2).retain_grad(),
    "grad_set_wrong_type": lambda t: setattr(_rg(t), "grad", 3),
    "grad_set_self": lambda t: (lambda x: setattr(x, "grad", x))(_rg(t)),
    "grad_set_shape": lambda t: setattr(_rg(t), "grad", t.zeros(3)),
    "grad_set_dtype": lambda t: setattr(_rg(t), "grad", t.zeros(2, dtype=t.float64)),
    "grad_set_ok": lambda t: (lambda x: (setattr(x, "grad", t.ones(2)), x.grad))(_rg(t)),
    "grad_del": lambda t: (lambda x: (setattr(x, "grad", t.ones(2)), delattr(x, "grad"),
                                      x.grad))(_rg(t)),
    "detach": lambda t: (lambda d: (d, d.requires_grad, d.is_leaf, d.grad_fn))(
        (_rg(t) * 2).detach()),
    "detach_inplace": lambda t: (lambda y: (y.detach_(), y.grad_fn, y.requires_grad))(
        _rg(t) * 2),
    "detach_inplace_view": lambda t: (_rg(t) * 2)[0].detach_(),
    "data_no_grad": lambda t: _rg(t).data,
    "repr_rg": lambda t: _rg(t),
    "repr_grad_fn": lambda t: (_rg(t) * 2, _rg(t) + 1, _rg(t).sum(), _rg(t).mean()),
    "repr_0d_grad_fn": lambda t: (_rg(t) ** 2).sum(),
    "repr_float64": lambda t: t.tensor([1.0], dtype=t.float64, requires_grad=True) * 3,
    "no_grad_result": lambda t: (lambda: (lambda x: (x.requires_grad, x.grad_fn))(
        _nograd(t, lambda: _rg(t) * 2)))(),
}


def _nograd(t, fn):
    with t.no_grad():
        return fn()


@pytest.mark.parametrize("name", list(STATE))
def test_autograd_state_matches_torch(name):
    assert_same_repr(STATE[name], torch)


def test_detach_shares_memory_and_version():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    with tg.no_grad():
        d.add_(1)
    assert x.tolist() == [2.0, 3.0]
    assert x._version == d._version == 1


def test_data_has_its_own_version_counter():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.data.add_(1)
    assert x._version == 0
    assert x.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("convert", [float, int])
def test_scalar_conversion_of_requires_grad_tensor_warns_with_torch_text(convert):
    with pytest.warns(UserWarning) as record:
        assert convert(tg.tensor(2.0, requires_grad=True)) == 2
    assert str(record[0].message) == ("Converting a tensor with requires_grad=True to a scalar "
                                      "may lead to unexpected behavior.\nConsider using "
                                      "tensor.detach() first.")


def test_reading_grad_of_non_leaf_warns_with_torch_text():
    y = tg.ones(2, requires_grad=True) * 2
    with pytest.warns(UserWarning) as record:
        assert y.grad is None
    assert str(record[0].message).startswith(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
        ".grad attribute won't be populated during autograd.backward().")
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None
