"""Small differences from torch, each compared live: dims of 0-d reductions, devices,
tensor() dtype inference and conversion, einsum views, and Tensor helpers."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same_repr

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
    assert_same_repr(lambda lib: eval(f"lib.tensor(1.).{call}"), torch)


@pytest.mark.parametrize("call", ["sum((1, 1))", "sum(5)", "mean((0, -2))", "std((0, 0))"])
def test_repeated_or_out_of_range_dims_raise_as_torch(call):
    assert_same_repr(lambda lib: eval(f"lib.ones(2, 3).{call}"), torch)


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
    assert_same_repr(lambda lib: eval(call), torch)


TENSOR_DATA = [
    "[np.float64(1.0), 2.0]", "[np.float32(1.0), 2.0]", "[np.float64(1.), np.float32(1.)]",
    "[True, np.float64(1.)]", "[np.float16(1.0), 2]", "[np.float16(2), np.int8(1)]",
    "[np.uint8(2), np.int8(1)]", "[np.int64(1), 2]", "[np.int32(1), 2]", "[np.int32(1), 2.0]",
    "[np.uint8(200), 1]", "[np.complex64(1)]", "[1j, np.float64(1)]",
    "[1.0, 1j]", "[True, 2]", "[True, 2.5]", "[1, 2.5]", "[np.bool_(True)]",
    "[np.bool_(True), 1]", "[lib.tensor(1.), lib.tensor(2.)]", "[lib.tensor(1), 2.5]",
    "[lib.tensor(1., dtype=lib.float64), 2]", "[lib.tensor(1, dtype=lib.uint8), -1]",
    "[lib.tensor(1.), 2 ** 70]", "[[1., 2.], lib.tensor([3., 4.])]",
    "[lib.tensor([1., 2.]), lib.tensor([3., 4.])]", "[lib.tensor([1, 2])]",
    "[np.array([1., 2.]), np.array([3., 4.])]", "[np.array([1, 2]), [3, 4]]",
    "[np.array(1.), 2]", "[[1, 2], [3]]", "[[1], [2, 3]]", "[[[1], [2, 3]], [4]]",
    "[[1, 2], 3]", "[1, [2, 3]]", "[1., [2.]]", "[[[1]], [2]]", "[]", "[[]]", "[[], [1]]",
    "['a']", "[b'a']", "[None]", "None", "'ab'", "[{}]", "[2 ** 63 - 1]", "[-2 ** 63]",
    "[-2 ** 63 - 1]", "[2 ** 63]", "2 ** 64", "((1, 2), [3, 4])", "[range(2)]", "range(3)",
    "[1e40]", "np.float64(2.)", "-5",
]
TENSOR_DATA_WITH_DTYPE = [
    "[-5], dtype=lib.uint8", "-5, dtype=lib.uint8", "[300], dtype=lib.uint8",
    "[-255], dtype=lib.uint8", "[-256], dtype=lib.uint8", "[255], dtype=lib.uint8",
    "[-129], dtype=lib.int8", "[200], dtype=lib.int8", "[1e10], dtype=lib.int32",
    "[1e10], dtype=lib.int64", "[1.5], dtype=lib.int64", "[-1.7], dtype=lib.uint8",
    "[-0.5], dtype=lib.uint8", "[255.9], dtype=lib.uint8", "[float('nan')], dtype=lib.int64",
    "[float('inf')], dtype=lib.int32", "[np.float64(1.5)], dtype=lib.int64",
    "[np.int64(-5)], dtype=lib.uint8", "[np.int64(300)], dtype=lib.uint8",
    "[np.float32(1.5)], dtype=lib.int32", "[np.bool_(True)], dtype=lib.int64",
    "[np.bool_(True)], dtype=lib.float32", "[1e40], dtype=lib.float32",
    "[70000.], dtype=lib.float16", "[2 ** 70], dtype=lib.float32", "[1 + 2j], dtype=lib.float32",
    "[2.5], dtype=lib.bool", "[2], dtype=lib.bool", "[True], dtype=lib.float32",
    "np.array([-5]), dtype=lib.uint8", "[lib.tensor(-5)], dtype=lib.uint8",
    "[[1, 2], 3], dtype=lib.float64", "[1, [2]], dtype=lib.float32", "[1, 2], dtype=lib.complex64",
]


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy")
@pytest.mark.parametrize("args", TENSOR_DATA + TENSOR_DATA_WITH_DTYPE)
def test_tensor_from_data_infers_and_converts_as_torch(args):
    assert_same_repr(lambda lib: eval(f"lib.tensor({args})", {"lib": lib, "np": np}), torch,
                warns=False)


def test_tensor_from_data_keeps_default_dtype_for_python_floats():
    import tapegrad
    tapegrad.set_default_dtype(tapegrad.float64)
    try:
        assert tapegrad.tensor([1.0, np.float32(2.0)]).dtype is tapegrad.float64
        assert tapegrad.tensor([1j]).dtype is tapegrad.complex128
    finally:
        tapegrad.set_default_dtype(tapegrad.float32)


def _graph_names(t):
    names, fn = [], t.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


@pytest.mark.parametrize("eq, shape", [("ij->ji", (3, 4)), ("ii->i", (3, 3)), ("ij", (3, 4)),
                                       ("bii->ib", (2, 3, 3)), ("iji->ji", (2, 3, 2)),
                                       ("...ij->...ji", (2, 3, 4)), ("i->i", (3,))])
def test_einsum_of_one_operand_without_sums_is_a_view_as_in_torch(eq, shape):
    import tapegrad
    data = np.random.default_rng(0).standard_normal(shape)
    seen = []
    for lib in (torch, tapegrad):
        x = lib.tensor(data, requires_grad=True)
        y = lib.einsum(eq, x)
        base = lib.tensor(data)
        v = lib.einsum(eq, base)
        base.add_(1.0)
        seen.append((y.detach().numpy().tolist(), v.tolist(), v._version, v._base is base,
                     _graph_names(y)))
        y.backward(lib.ones_like(y) * 2)
        seen[-1] += (x.grad.tolist(),)
    assert seen[1] == seen[0]


# -- composed ops and Tensor helpers ----------------------------------------------------------

_R = np.random.default_rng(1)
A34, B34, B24 = _R.standard_normal((3, 4)), _R.standard_normal((3, 4)), _R.standard_normal((2, 4))

DIFFERENTIABLE = {
    "normalize": (lambda lib, x: lib.nn.functional.normalize(x), (A34,)),
    "normalize_p1_dim0": (lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0), (A34,)),
    "cosine_similarity": (lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y), (A34, B34)),
    "cosine_similarity_bcast": (lambda lib, x, y: lib.cosine_similarity(x, y[:1], dim=-1),
                                (A34, B34)),
    "pairwise_distance": (lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y),
                          (A34, B34)),
    "pairwise_distance_p3": (lambda lib, x, y: lib.pairwise_distance(x, y, 3.0, keepdim=True),
                             (A34, B34)),
    "cdist": (lambda lib, x, y: lib.cdist(x, y), (A34, B24)),
    "cdist_p1": (lambda lib, x, y: lib.cdist(x, y, p=1.0), (A34, B24)),
    "atleast_3d": (lambda lib, x: lib.atleast_3d(x) * 2, (A34,)),
    "atleast_2d": (lambda lib, x: lib.atleast_2d(x[0]) * x[1:2], (A34,)),
    "clamp_min": (lambda lib, x: lib.clamp_min(x, 0.1) * x, (A34,)),
    "clamp_max": (lambda lib, x: x.clamp_max(0.1) * x, (A34,)),
    "ravel": (lambda lib, x: lib.ravel(x.t()) ** 2, (A34,)),
    "diff": (lambda lib, x: lib.diff(x * x, n=2, dim=1), (A34,)),
    "diff_prepend": (lambda lib, x, y: lib.diff(x, dim=0, prepend=y[:1], append=y) ** 2,
                     (A34, B34)),
    "fliplr": (lambda lib, x: lib.fliplr(x) * x, (A34,)),
    "flipud": (lambda lib, x: x.flipud() * x, (A34,)),
    "unfold": (lambda lib, x: x.unfold(1, 2, 1) ** 2, (A34,)),
    "unfold_overlap_dim0": (lambda lib, x: x.unfold(0, 2, 1) * x.unfold(0, 2, 1), (A34,)),
    "broadcast_tensors": (lambda lib, x, y: lib.broadcast_tensors(x, y[:1])[1] * x, (A34, B34)),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_composed_op_derivatives_match_torch_and_finite_differences(name):
    from torch_compare import check_derivatives
    fn, arrays = DIFFERENTIABLE[name]
    # torch has no double backward for cdist; tapegrad's is checked by finite differences
    if name.startswith("cdist"):
        import tapegrad
        check_derivatives(fn, *arrays)
        grads = []
        for lib in (torch, tapegrad):
            xs = [lib.tensor(a, requires_grad=True) for a in arrays]
            out = fn(lib, *xs)
            firsts = lib.autograd.grad(out.sum(), xs)
            grads.append([g.numpy() for g in firsts] + [out.detach().numpy()])
        for got, expected in zip(grads[1], grads[0]):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    else:
        check_derivatives(fn, *arrays, torch=torch)


HELPER_CALLS = [
    "lib.atleast_1d(lib.tensor(1.))", "lib.atleast_1d(lib.tensor(1.), lib.ones(2))",
    "lib.atleast_2d([lib.tensor(1.), lib.ones(2)])", "lib.atleast_3d(lib.ones(2)).shape",
    "lib.atleast_3d(lib.ones(2, 3, 4, 5)).shape", "lib.atleast_2d(lib.ones(2)).shape",
    "lib.ones(2, 3).new_zeros(2)", "lib.ones(2, dtype=lib.float64).new_ones((2, 1))",
    "lib.ones(2, dtype=lib.int64).new_full((2,), 3)", "lib.ones(2).new_full((2,), 3)",
    "lib.ones(2).new_tensor([1, 2])", "lib.ones(2, dtype=lib.int32).new_tensor([1, 2])",
    "lib.ones(2).new_zeros(2, dtype=lib.int64, requires_grad=False)",
    "lib.ones(2).new_ones(3, requires_grad=True)", "lib.ones(2).new_empty((2, 3)).shape",
    "lib.ones(2, 3).nbytes", "lib.ones(2, dtype=lib.float64).itemsize", "lib.ones(2).get_device()",
    "[lib.ones(1, dtype=d).is_signed() for d in (lib.uint8, lib.int8, lib.bool, lib.float32)]",
    "lib.nn.functional.one_hot(lib.tensor([0, 2, 1]))",
    "lib.nn.functional.one_hot(lib.tensor([[0], [2]]), 4)",
    "lib.nn.functional.one_hot(lib.tensor([0, 3]), 3)",
    "lib.nn.functional.one_hot(lib.tensor([-1]), 3)",
    "lib.nn.functional.one_hot(lib.tensor([0.]))",
    "lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64))",
    "lib.broadcast_shapes((2, 1), (3,), 1)", "lib.broadcast_shapes((2, 3), (4, 3))",
    "lib.broadcast_shapes()", "lib.cdist(lib.ones(3), lib.ones(2, 3))",
    "lib.cdist(lib.ones(2, 3), lib.ones(2, 4))", "lib.cdist(lib.ones(2, 2, 3), lib.zeros(2, 4, 3))",
    "lib.diff(lib.tensor(1.))", "lib.diff(lib.tensor([1, 4, 9]))", "lib.fliplr(lib.ones(2))",
    "lib.flipud(lib.tensor(1.))", "lib.ravel(lib.ones(2, 3))._base is not None",
    "lib.clamp_min(lib.tensor([1, 5]), 3)", "lib.nn.functional.normalize(lib.zeros(2, 2))",
    "lib.cosine_similarity(lib.zeros(2, 3), lib.ones(2, 3))",
    "lib.pairwise_distance(lib.ones(3), lib.zeros(3))",
    "lib.ones(2, 3).storage_offset()", "lib.ones(2, 3)[1:].storage_offset()",
    "lib.ones(2, 3)[:, 1].storage_offset()", "lib.ones(4, 3)[1:][1:, 2].storage_offset()",
    "lib.positive(lib.tensor([True]))", "lib.is_nonzero(lib.tensor([1.]))",
    "lib.is_nonzero(lib.tensor([0]))", "lib.is_nonzero(lib.tensor([1., 2.]))",
    "lib.is_nonzero(lib.tensor([]))",
]


def test_positive_returns_its_input_as_torch():
    import tapegrad
    x = tapegrad.ones(2, requires_grad=True)
    assert tapegrad.positive(x) is x and x.positive() is x


@pytest.mark.parametrize("call", HELPER_CALLS)
def test_tensor_helpers_match_torch(call):
    assert_same_repr(lambda lib: eval(call), torch)


UNFOLD_CALLS = [
    "lib.arange(8.).unfold(0, 3, 2)", "lib.arange(8.).unfold(0, 3, 2).stride()",
    "lib.ones(2, 5).unfold(1, 2, 1).shape", "lib.ones(2, 5).unfold(-2, 2, 3).shape",
    "lib.tensor(1.).unfold(0, 1, 1)", "lib.tensor(1.).unfold(0, 0, 1)",
    "lib.arange(8.).unfold(0, 9, 1)", "lib.arange(8.).unfold(0, 3, 0)",
    "lib.arange(8.).unfold(0, -1, 1)", "lib.arange(8.).unfold(1, 3, 1)",
    "lib.arange(8.).unfold(0, 0, 3)",
]


@pytest.mark.parametrize("call", UNFOLD_CALLS)
def test_unfold_matches_torch(call):
    assert_same_repr(lambda lib: eval(call), torch)


def test_unfold_is_a_view_with_torchs_gradient():
    import tapegrad
    seen = []
    for lib in (torch, tapegrad):
        x = lib.arange(10., requires_grad=True)
        y = x.unfold(0, 4, 3)
        base = lib.arange(10.)
        v = base.unfold(0, 4, 3)
        base.mul_(2)
        (y * y).sum().backward()
        seen.append((repr(y.grad_fn).split(" ")[0], v.tolist(), v._version, x.grad.tolist()))
    assert seen[1] == seen[0]
