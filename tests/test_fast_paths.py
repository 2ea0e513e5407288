"""The fast paths taken for speed give exactly what the general paths give: untracked
in-place arithmetic written straight into memory, binary ops skipping promotion, the
allocation-saving tanh/sigmoid formulas, matmul gradients in the operand's layout."""

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _both(fn):
    return [fn(lib) for lib in (tapegrad, torch)]


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_", "__iadd__", "__isub__",
                                  "__imul__", "__itruediv__"])
@pytest.mark.parametrize("other", ["tensor", "row", "scalar", "zero_dim", "float64"])
def test_untracked_inplace_matches_torch(name, other):
    def run(lib):
        x = lib.tensor(np.arange(1, 7, dtype=np.float32).reshape(2, 3))
        o = {"tensor": lib.tensor(np.full((2, 3), 0.5, np.float32)),
             "row": lib.tensor(np.array([1.5, 2.0, -3.0], np.float32)),
             "scalar": 0.25,
             "zero_dim": lib.tensor(np.float32(4.0)),
             "float64": lib.tensor(np.full((2, 3), 0.1))}[other]
        v0 = x._version
        with lib.no_grad():
            r = getattr(x, name)(o)
        return r is x, x._version - v0, x.dtype == lib.float32, x.tolist()
    assert _both(run)[0] == _both(run)[1]


def test_untracked_inplace_with_an_overlapping_operand_matches_torch():
    def run(lib):
        x = lib.tensor(np.arange(6, dtype=np.float32))
        x.add_(x)
        y = lib.tensor(np.arange(6, dtype=np.float32))
        y.mul_(y)
        return x.tolist(), y.tolist()
    a, b = _both(run)
    assert a == b


def test_untracked_inplace_errors_match_torch():
    for make, op in [(lambda lib: lib.tensor([True, False]), lambda x: x.sub_(x)),
                     (lambda lib: lib.tensor([1, 2]), lambda x: x.div_(2)),
                     (lambda lib: lib.tensor([1.0, 2.0]), lambda x: x.add_(lib_ones(x))),
                     (lambda lib: lib.zeros(3).expand(2, 3), lambda x: x.add_(1.0))]:
        msgs = []
        for lib in (tapegrad, torch):
            x = make(lib)
            try:
                op(x)
                msgs.append(None)
            except RuntimeError as e:
                msgs.append(str(e).split("\n")[0])
        assert msgs[0] == msgs[1]


def lib_ones(x):
    return (tapegrad if isinstance(x, tapegrad.Tensor) else torch).ones(2, 3)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (7,), (3, 4)])
def test_tanh_sigmoid_values_and_grads_match_torch(dtype, shape):
    data = (np.random.default_rng(0).standard_normal(shape) * 20).astype(dtype)
    if data.ndim:
        data.flat[0] = 0.0
    for fn in ("tanh", "sigmoid"):
        out = []
        for lib in (tapegrad, torch):
            x = lib.tensor(data, requires_grad=True)
            y = getattr(lib, fn)(x)
            y.backward(lib.ones_like(y) * 0.75)
            out.append((y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)))
        tol = 1e-3 if dtype == np.float16 else 1e-6
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=tol, atol=tol)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=tol, atol=tol)


def test_tanh_sigmoid_second_order_matches_torch():
    data = np.array([-2.0, -0.3, 0.0, 0.4, 3.0])
    res = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, requires_grad=True)
        (g,) = lib.autograd.grad((lib.tanh(x) + lib.sigmoid(x)).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        res.append((type(g.grad_fn).__name__, h.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a_dt,b_dt", [("float32", "float32"), ("float32", "float64"),
                                       ("int64", "float32"), ("float32", "int64")])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_binary_promotion_matches_torch(a_dt, b_dt, zero_dim):
    def run(lib):
        a = lib.tensor(np.array([1.5, -2.0, 3.0]).astype(a_dt))
        b = lib.tensor(np.array(2.0 if zero_dim else [0.5, 4.0, -1.0]).astype(b_dt))
        return [(str(r.dtype), r.tolist()) for r in (a * b, a + b, a - 0.5, a * 2, b / 3.0)]
    a, b = _both(run)
    assert a == b


_WEAK_VALUES = [0.5, 0.1, 1 / 3, -0.0, 0.0, 1e-45, 6e-8, 65519.0, 3.5e38, 1e300, float("nan"),
                float("inf")]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_python_float_operands_give_numpys_bits(op, dtype):
    # Python floats reach add/sub/mul/div as cached 0-d arrays of the tensor's dtype; the
    # bits, dtype and shape must be those of NumPy's own cast of the float (NEP 50).
    ufunc = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}[op]
    data = np.array([0.3, -2.5, 1e4, 0.0], dtype)
    for value in _WEAK_VALUES * 2:             # the second round reads the cache
        for arr in (data, data[0]):
            with np.errstate(all="ignore"):
                expected = np.asarray(ufunc(arr, value))
                got = getattr(tapegrad, op)(tapegrad.tensor(arr, requires_grad=True), value)
            assert got.detach().numpy().dtype == expected.dtype
            assert got.shape == expected.shape
            assert got.detach().numpy().tobytes() == expected.tobytes()


@pytest.mark.parametrize("op", ["add", "mul"])
def test_python_float_operands_match_torch_with_gradients(op):
    def run(lib):
        x = lib.tensor(np.array([0.3, -2.5, 7.0], np.float32), requires_grad=True)
        y = x
        for value in (0.5, 0.1, -0.0, 0.5, 1e-45, 0.1):
            y = getattr(lib, op)(y, value)
        y.sum().backward()
        return y.detach().numpy().tobytes(), x.grad.numpy().tobytes(), y.grad_fn.name()
    assert _both(run)[0] == _both(run)[1]


@pytest.mark.parametrize("size", [1, 5000])      # 5000: the gradient may be written into
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", ["mul", "div"])
def test_python_float_factors_in_backward_give_numpys_bits(op, dtype, size):
    ufunc = {"mul": np.multiply, "div": np.true_divide}[op]
    rng = np.random.default_rng(0)
    for value in _WEAK_VALUES * 2:
        seed = (rng.standard_normal(size) * 100).astype(dtype)
        x = tapegrad.tensor(np.ones(size, dtype), requires_grad=True)
        getattr(tapegrad, op)(x, value).backward(tapegrad.tensor(seed.copy()))
        with np.errstate(all="ignore"):
            expected = ufunc(seed, value)
        assert x.grad.numpy().dtype == expected.dtype
        assert x.grad.numpy().tobytes() == expected.tobytes()
