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


CPU_ONLY_CALLS = [
    "lib.tensor([1.]).to('cuda')", "lib.tensor([1.]).to('cuda:0')", "lib.tensor([1.]).cuda()",
    "lib.tensor([1.]).to(device='cuda')", "lib.tensor([1.]).cuda(0)", "lib.zeros(2).to(0)",
    "lib.tensor([1.], device='cuda')", "lib.zeros(3, device='cuda')",
    "lib.zeros(2, device=lib.device('cuda'))", "lib.ones(2, device='cuda:1')",
    "lib.empty(2, device='cuda').shape", "lib.arange(2, device='cuda')",
    "lib.randn(2, device='cuda').shape", "lib.eye(2, device='cuda')",
    "lib.full((2,), 1., device='cuda')", "lib.linspace(0, 1, 3, device='cuda')",
    "lib.randint(3, (2,), device='cuda').shape", "lib.as_tensor([1.], device='cuda')",
    "lib.zeros_like(lib.zeros(2), device='cuda')", "lib.zeros(2).to('mps')",
    "lib.zeros(2, device=0)",
]
DEVICE_CALLS = [
    "lib.zeros(3, device='cpu')", "lib.zeros(3, device=lib.device('cpu'))",
    "lib.zeros(2, device='cpu:0')", "lib.zeros(3).to('cpu')", "lib.zeros(3).cpu()",
    "lib.zeros(3).to(lib.device('cpu'), lib.float64)", "lib.zeros(3).to('cpu', lib.float64)",
    "lib.zeros(3).device", "lib.zeros(3).is_cuda", "lib.device('cpu')", "lib.device('cuda')",
    "lib.device('cuda:0')", "lib.device('cuda', 1)", "lib.device('cpu', 0)",
    "str(lib.device('cuda', 1))", "lib.device(lib.device('cuda:1'))", "lib.device('xla')",
    "lib.device('foo')", "lib.device('cuda:x')", "lib.device('cuda:-1')", "lib.device(0)",
    "lib.device('cpu') == lib.device('cpu')", "lib.device('cpu') == 'cpu'",
    "lib.device('cpu') == lib.device('cpu', 0)", "lib.device('cpu').type",
    "lib.device('cuda:2').index", "lib.zeros(1).device == lib.device('cpu')",
    "isinstance(lib.zeros(1).device, lib.device)", "lib.cuda.is_available()",
    "lib.cuda.device_count()", "lib.device(type='cpu')",
]


@pytest.mark.parametrize("call", CPU_ONLY_CALLS + DEVICE_CALLS)
def test_devices_behave_as_cpu_only_torch(call):
    assert_same(lambda lib: eval(call), torch)
