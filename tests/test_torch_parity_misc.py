"""Small differences from torch, each compared live: dims of 0-d reductions, devices,
tensor() dtype inference and conversion, einsum views, and Tensor helpers."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_same

torch = pytest.importorskip("torch")

ZERO_D_REDUCTIONS = [
    "sum(1)", "mean(1)", "sum(-2)", "sum((0, 0))", "amax(1)", "amin(1)", "max(1)", "min(1)",
    "argmax(1)", "argmin(1)", "prod(1)", "std(1)", "var(1)", "logsumexp(1)", "cumsum(1)",
    "cumprod(1)", "norm(dim=1)", "all(1)", "any(1)", "median(1)", "softmax(1)",
    "log_softmax(1)", "nansum(1)", "nanmean(1)", "count_nonzero(1)", "sort(1)", "argsort(1)",
    "topk(1, 1)", "kthvalue(1, 1)", "cummax(1)", "cummin(-2)", "sum(0)", "max(-1)",
]


@pytest.mark.parametrize("call", ZERO_D_REDUCTIONS)
def test_zero_d_reduction_dim_is_checked_as_torch(call):
    assert_same(lambda lib: eval(f"lib.tensor(1.).{call}"), torch)


@pytest.mark.parametrize("call", ["sum((1, 1))", "sum(5)", "mean((0, -2))", "std((0, 0))"])
def test_repeated_or_out_of_range_dims_raise_as_torch(call):
    assert_same(lambda lib: eval(f"lib.ones(2, 3).{call}"), torch)
