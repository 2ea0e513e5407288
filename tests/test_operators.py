"""Python operators with operands a Tensor cannot take behave as torch's: Python's TypeError,
and == / != fall back to identity."""

import operator

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
             operator.mod, operator.pow, operator.matmul, operator.and_, operator.or_,
             operator.xor, operator.lt, operator.le, operator.gt, operator.ge]
IN_PLACE = [operator.iadd, operator.isub, operator.imul, operator.itruediv]
BAD_OPERANDS = ["a", None, [1.0, 2.0], (1, 2), {"a": 1}]


def _outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001  (the exception is the outcome compared)
        return (type(e), str(e))


@pytest.mark.parametrize("op", OPERATORS + IN_PLACE, ids=lambda op: op.__name__)
@pytest.mark.parametrize("bad", BAD_OPERANDS, ids=repr)
def test_unsupported_operands_raise_pythons_error_as_torch(op, bad) -> None:
    data = [1.0, 2.0]
    ours = _outcome(lambda: op(tg.tensor(data), bad))
    theirs = _outcome(lambda: op(torch.tensor(data), bad))
    assert ours == theirs
    assert _outcome(lambda: op(bad, tg.tensor(data))) == _outcome(
        lambda: op(bad, torch.tensor(data)))


@pytest.mark.parametrize("bad", BAD_OPERANDS, ids=repr)
def test_equality_with_other_objects_is_identity(bad) -> None:
    x = tg.tensor([1.0, 2.0])
    assert (x == bad) is (torch.tensor([1.0, 2.0]) == bad) is False
    assert (x != bad) is True


@pytest.mark.parametrize("other", [2, 2.5, True, np.float64(2.0),
                                   tg.tensor([1.0, 3.0])], ids=repr)
def test_numbers_arrays_and_tensors_still_work(other) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    t_other = torch.tensor(other.tolist()) if isinstance(other, tg.Tensor) else other
    y = x * other + other
    expected = torch.tensor([1.0, 2.0]) * t_other + t_other
    np.testing.assert_allclose(y.detach().numpy(), np.asarray(expected), rtol=1e-6)
    assert repr(y.grad_fn.name()) == "'AddBackward0'"
