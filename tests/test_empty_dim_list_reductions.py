"""An empty dim list reduces every dim, as in torch (x.sum(()) is the full sum, with
SumBackward1): values and gradients against torch. (var/std reduce everything too, but
torch's gradient of var(x, ()) is inf: its backward divides by a count of 1 - 1.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = {
    "sum": lambda x: x.sum(()),
    "sum_list_keepdim": lambda x: x.sum([], keepdim=True),
    "mean": lambda x: x.mean(()),
    "nansum": lambda x: x.nansum(()),
    "amax": lambda x: x.amax(()),
    "logsumexp_keepdim": lambda x: x.logsumexp((), keepdim=True),
    "norm": lambda x: x.norm(2, ()),
    "zero_dim_input": lambda x: x[0, 0].mean(()),
}


def _run(lib, name):
    x = lib.tensor(np.array([[0.5, -1.0, 2.0], [3.0, 1.5, -0.25]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = CALLS[name](x)
    (g,) = lib.autograd.grad((y * y).sum(), x)
    return y.detach().numpy(), tuple(y.shape), y.grad_fn.name(), g.numpy()


@pytest.mark.parametrize("name", CALLS)
def test_empty_dim_list_reduces_everything_as_torch(name):
    ours, theirs = _run(tg, name), _run(torch, name)
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)


def test_logsumexp_of_empty_dim_list_fails_as_torch():
    messages = []
    for lib in (tg, torch):
        with pytest.raises(RuntimeError) as info:
            lib.zeros(2, 3, 4).logsumexp(())
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_of_empty_dim_list_values_as_torch(op):
    x = np.array([[0.5, -1.0, 2.0], [3.0, 1.5, -0.25]])
    ours = getattr(tg.tensor(x), op)(())
    np.testing.assert_allclose(ours.numpy(), getattr(torch.tensor(x), op)(()).numpy())
