"""Common misuse raises torch's exception type with torch's message, checked live against
torch: shape mismatches, dims out of range, bad views and reshapes, bad indices, integer
tensors that require grad, and more. Never a NumPy error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from torch_compare import same_outcome

import tapegrad as tg

torch = pytest.importorskip("torch")


def _o(T: Any, *shape: int, **kw: Any) -> Any:
    return T.ones(*shape, **kw)


CASES: dict[str, Callable] = {
    # broadcasting
    "add_shape": lambda T: _o(T, 2, 3) + _o(T, 2, 4),
    "mul_shape": lambda T: _o(T, 3) * _o(T, 4),
    "sub_shape_3d": lambda T: _o(T, 2, 3, 4) - _o(T, 5, 4),
    "inplace_broadcast_to_bigger": lambda T: _o(T, 3).add_(_o(T, 2, 3)),
    "copy_shape": lambda T: _o(T, 3).copy_(_o(T, 4)),
    "setitem_shape": lambda T: _o(T, 2, 3).__setitem__(0, _o(T, 4)),
    "expand_bad": lambda T: _o(T, 2, 3).expand(4, 3),
    "expand_negative": lambda T: _o(T, 2).expand(-2),
    # matrix products
    "matmul_mm": lambda T: _o(T, 2, 3) @ _o(T, 4, 5),
    "matmul_vv": lambda T: _o(T, 3) @ _o(T, 4),
    "matmul_mv": lambda T: _o(T, 2, 3) @ _o(T, 4),
    "matmul_vm": lambda T: _o(T, 3) @ _o(T, 4, 5),
    "matmul_batched": lambda T: _o(T, 2, 2, 3) @ _o(T, 2, 4, 5),
    "matmul_batch_broadcast": lambda T: _o(T, 2, 2, 3) @ _o(T, 3, 3, 5),
    "matmul_matrix_batch": lambda T: _o(T, 2, 3) @ _o(T, 2, 4, 5),
    "matmul_batch_matrix": lambda T: _o(T, 2, 2, 2, 3) @ _o(T, 4, 5),
    "matmul_batch_vector": lambda T: _o(T, 2, 4, 3) @ _o(T, 4),
    "matmul_vector_batch": lambda T: _o(T, 3) @ _o(T, 2, 4, 5),
    "matmul_broadcast_batches": lambda T: _o(T, 2, 2, 2, 3) @ _o(T, 2, 1, 4, 5),
    "matmul_0d": lambda T: T.tensor(1.0) @ _o(T, 3),
    "matmul_dtypes": lambda T: _o(T, 2, 2) @ _o(T, 2, 2, dtype=T.long),
    "matmul_dtypes_double": lambda T: _o(T, 2, 2, dtype=T.float64) @ _o(T, 2, 2),
    "matmul_dtypes_int": lambda T: _o(T, 2, 2) @ _o(T, 2, 2, dtype=T.int32),
    "mm_3d": lambda T: T.mm(_o(T, 2, 2, 3), _o(T, 3, 2)),
    "mm_shape": lambda T: T.mm(_o(T, 2, 3), _o(T, 2, 3)),
    "bmm_shape": lambda T: T.bmm(_o(T, 2, 2, 3), _o(T, 2, 4, 3)),
    "bmm_batch": lambda T: T.bmm(_o(T, 2, 2, 3), _o(T, 3, 3, 3)),
    "bmm_4d": lambda T: T.bmm(_o(T, 2, 2, 3), _o(T, 2, 3, 4, 1)),
    "dot_shape": lambda T: T.dot(_o(T, 3), _o(T, 4)),
    "linear_shape": lambda T: T.nn.functional.linear(_o(T, 2, 3), _o(T, 4, 5)),
    # dims out of range
    "sum_dim": lambda T: _o(T, 2, 3).sum(2),
    "sum_negative_dim": lambda T: _o(T, 2, 3).sum(-3),
    "mean_dim": lambda T: _o(T, 2, 3).mean(dim=4),
    "softmax_dim": lambda T: _o(T, 2, 3).softmax(5),
    "transpose_dim": lambda T: _o(T, 2, 3).transpose(0, 2),
    "unsqueeze_dim": lambda T: _o(T, 2, 3).unsqueeze(3),
    "cat_dim": lambda T: T.cat([_o(T, 2, 3), _o(T, 2, 3)], 2),
    "argmax_dim": lambda T: _o(T, 2, 3).argmax(2),
    "squeeze_dim": lambda T: _o(T, 2, 3).squeeze(2),
    "select_dim": lambda T: _o(T, 2, 3).select(2, 0),
    "flatten_dim": lambda T: _o(T, 2, 3).flatten(0, 3),
    "flip_dim": lambda T: _o(T, 2, 3).flip(3),
    "amax_0d_dim": lambda T: T.tensor(1.0).amax(1),
    "softmax_0d_dim": lambda T: T.tensor(1.0).softmax(1),
    "unsqueeze_0d_dim": lambda T: T.tensor(1.0).unsqueeze(2),
    "movedim_0d_dim": lambda T: T.tensor(1.0).movedim(1, 0),
    "permute_too_few": lambda T: _o(T, 2, 3).permute(0),
    "permute_repeated": lambda T: _o(T, 2, 3).permute(0, 0),
    "flip_repeated": lambda T: _o(T, 2, 3).flip(0, 0),
    "flip_repeated_wrapped": lambda T: T.flip(_o(T, 2, 3), (1, -1)),
    "t_3d": lambda T: _o(T, 2, 2, 2).t(),
    # view / reshape
    "view_incompatible": lambda T: _o(T, 2, 3).t().view(6),
    "view_size": lambda T: _o(T, 2, 3).view(4, 2),
    "view_two_inferred": lambda T: _o(T, 2, 3).view(-1, -1),
    "view_negative": lambda T: _o(T, 2).view(-3),
    "reshape_size": lambda T: _o(T, 2, 3).reshape(4, 2),
    "reshape_inferred": lambda T: _o(T, 2, 3).reshape(-1, 4),
    "reshape_negative": lambda T: _o(T, 2, 3).reshape(-2, 3),
    "narrow_too_long": lambda T: _o(T, 2, 3).narrow(1, 2, 2),
    # cat / stack
    "cat_shapes": lambda T: T.cat([_o(T, 2, 3), _o(T, 2, 4)]),
    "cat_ndim": lambda T: T.cat([_o(T, 2, 3), _o(T, 3)]),
    "cat_0d": lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]),
    "cat_empty": lambda T: T.cat([]),
    "concat_empty": lambda T: T.concat([]),
    "stack_shapes": lambda T: T.stack([_o(T, 2), _o(T, 3)]),
    "stack_empty": lambda T: T.stack([]),
    "hstack_empty": lambda T: T.hstack([]),
    "vstack_empty": lambda T: T.vstack([]),
    # indexing
    "index_out_of_bounds": lambda T: _o(T, 2, 3)[5],
    "index_negative_out_of_bounds": lambda T: _o(T, 2, 3)[-3],
    "index_out_of_bounds_dim1": lambda T: _o(T, 2, 3)[0, 3],
    "index_too_many": lambda T: _o(T, 2, 3)[0, 0, 0],
    "index_too_many_ellipsis": lambda T: _o(T, 2, 3)[..., 0, 0, 0],
    "index_too_many_tensors": lambda T: _o(T, 2, 3)[T.tensor([0]), T.tensor([0]),
                                                    T.tensor([0])],
    "index_tensor_out_of_bounds": lambda T: _o(T, 2, 3)[T.tensor([0, 5])],
    "index_float_tensor": lambda T: _o(T, 2, 3)[T.tensor([0.0, 1.0])],
    "index_float_scalar_tensor": lambda T: _o(T, 2, 3)[T.tensor(1.0)],
    "index_float": lambda T: _o(T, 2, 3)[1.5],
    "mask_shape": lambda T: _o(T, 2, 3)[T.tensor([True, False, True])],
    "mask_shape_second_dim": lambda T: _o(T, 2, 3)[:, T.tensor([True, False])],
    "mask_after_none": lambda T: _o(T, 2, 3)[None, T.tensor([True, False, True])],
    "mask_two": lambda T: _o(T, 2, 3)[T.tensor([True, False]),
                                      T.tensor([True, True, False, True])],
    "mask_2d_on_1d": lambda T: T.tensor([1.0])[T.tensor([[True]])],
    "setitem_out_of_bounds": lambda T: _o(T, 2, 3).__setitem__(5, 1.0),
    "index_select_out_of_bounds": lambda T: _o(T, 2, 3).index_select(0, T.tensor([3])),
    "index_select_float_index": lambda T: _o(T, 2, 3).index_select(0, T.tensor([0.0])),
    "index_select_2d_index": lambda T: _o(T, 2, 3).index_select(0, T.tensor([[0]])),
    "gather_float_index": lambda T: _o(T, 2, 3).gather(1, T.tensor([[0.0]])),
    "gather_int16_index": lambda T: _o(T, 2, 3).gather(1, T.tensor([[0]], dtype=T.int16)),
    "gather_out_of_bounds": lambda T: _o(T, 2, 3).gather(1, T.tensor([[7]])),
    "scatter_float_index": lambda T: _o(T, 2, 3).scatter(1, T.tensor([[0.0]]), 1.0),
    "scatter_reduce_float_index": lambda T: _o(T, 2, 3).scatter_reduce(
        1, T.tensor([[0.0]]), _o(T, 1, 1), "sum"),
    "scatter_add_float_index": lambda T: _o(T, 2, 3).scatter_add(1, T.tensor([[0.0]]),
                                                                 _o(T, 1, 1)),
    "index_add_float_index": lambda T: _o(T, 2, 3).index_add(0, T.tensor([0.0]), _o(T, 1, 3)),
    "take_float_index": lambda T: _o(T, 2, 3).take(T.tensor([0.0])),
    "take_int32_index": lambda T: _o(T, 2, 3).take(T.tensor([0], dtype=T.int32)),
    "take_along_dim_float_index": lambda T: _o(T, 2, 3).take_along_dim(T.tensor([[0.0]]), 1),
    "masked_fill_float_mask": lambda T: _o(T, 2, 3).masked_fill(_o(T, 2, 3), 1.0),
    "masked_fill_long_mask": lambda T: _o(T, 2, 3).masked_fill(_o(T, 2, 3, dtype=T.long), 1.0),
    "masked_fill_double_mask": lambda T: _o(T, 2, 3).masked_fill(
        _o(T, 2, 3, dtype=T.float64), 1.0),
    # autograd misuse
    "int_tensor_requires_grad": lambda T: T.tensor([1, 2], requires_grad=True),
    "int_requires_grad_": lambda T: T.tensor([1, 2]).requires_grad_(),
    "long_ones_requires_grad": lambda T: _o(T, 2, dtype=T.long, requires_grad=True),
    "bool_requires_grad_": lambda T: T.tensor([True]).requires_grad_(),
    "arange_int_requires_grad": lambda T: T.arange(3, requires_grad=True),
    "non_leaf_requires_grad_false": lambda T: (_o(T, 2, requires_grad=True) * 2)
    .requires_grad_(False),
    "backward_non_scalar": lambda T: (_o(T, 2, requires_grad=True) * 2).backward(),
    "backward_without_grad": lambda T: _o(T, 2, 3).sum().backward(),
    "grad_non_scalar": lambda T: (lambda x: T.autograd.grad(x * 2, x))(
        _o(T, 2, requires_grad=True)),
    "leaf_in_place": lambda T: _o(T, 2, requires_grad=True).add_(1),
    "numpy_of_requires_grad": lambda T: _o(T, 2, requires_grad=True).numpy(),
    # conversions and creation
    "item_of_many": lambda T: _o(T, 2, 3).item(),
    "float_of_many": lambda T: float(_o(T, 2, 3)),
    "bool_of_many": lambda T: bool(_o(T, 2, 3)),
    "int_of_many": lambda T: int(_o(T, 2, 3)),
    "ragged_tensor": lambda T: T.tensor([[1, 2], [3]]),
    "zeros_negative": lambda T: T.zeros(-1),
    "zeros_negative_2d": lambda T: T.zeros(2, -1),
    "ones_negative": lambda T: T.ones(-1),
    "empty_negative": lambda T: T.empty(2, -1),
    "split_zero": lambda T: _o(T, 2, 3).split(0),
    "chunk_zero": lambda T: _o(T, 2, 3).chunk(0),
    "integer_negative_power": lambda T: T.tensor([2]) ** -1,
    "max_of_empty": lambda T: _o(T, 0).max(),
    "mean_of_integers": lambda T: T.tensor([1, 2]).mean(),
    "repeat_too_few": lambda T: _o(T, 2, 3).repeat(2),
    "topk_too_many": lambda T: _o(T, 3).topk(5),
    "cross_entropy_target_out_of_range": lambda T: T.nn.functional.cross_entropy(
        _o(T, 2, 3), T.tensor([0, 3])),
}


def _raised(T: Any, case: Callable) -> BaseException | None:
    try:
        case(T)
    except Exception as e:       # the exception itself is what is compared
        return e
    return None


@pytest.mark.parametrize("name", list(CASES))
def test_misuse_raises_torchs_exception_and_message(name: str) -> None:
    want = _raised(torch, CASES[name])
    assert want is not None, "torch accepts this call: the case is wrong"
    got = _raised(tg, CASES[name])
    assert got is not None, f"tapegrad accepted it; torch raised {want!r}"
    same_outcome(got, want)
    assert "numpy" not in type(got).__module__


def test_valid_int32_indices_are_accepted_as_in_torch() -> None:
    for T in (torch, tg):
        x = T.arange(6.0).reshape(2, 3)
        assert x.gather(1, T.tensor([[2], [0]], dtype=T.int32)).tolist() == [[2.0], [3.0]]
        assert x.index_add(0, T.tensor([1], dtype=T.int32), T.ones(1, 3)).tolist() == [
            [0.0, 1.0, 2.0], [4.0, 5.0, 6.0]]
        assert x.flip(0, 1).tolist() == [[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]
