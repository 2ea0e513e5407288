"""The graph that backward(create_graph=True) records, node by node, against torch's.

For every op of the generated spec tables (op_specs.py, and the linear-algebra / shape /
indexing table of test_ops_table.py): y = op(x), g = autograd.grad(sum(y), x,
create_graph=True); g's grad_fn name and the names one level down (next_functions) must
be torch's. The few ops whose derivative tapegrad composes differently from torch are
listed in KNOWN_DIFFERENCES with the reason, and checked to still differ (so that a fix
shows up as a test to update, not as silence).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from op_specs import ALL_SPECS, DOMAINS

import tapegrad as tg

torch = pytest.importorskip("torch")
from test_ops_table import SPECS as TABLE_SPECS  # noqa: E402  (needs torch)

# spec name -> why tapegrad's derivative graph is not torch's.
_MATMUL = ("torch's batched matmul backward goes through bmm and views of expanded "
           "operands; tapegrad's matmul node differentiates through matmul + mT")
_DECOMP = ("torch's derivative is built from linalg_solve / solve_triangular / svd "
           "calls; tapegrad's formula is the same math with matmuls")
KNOWN_DIFFERENCES = {
    **{name: _MATMUL for name in (
        "matmul_bmm", "matmul_bcast", "matmul_b_m", "matmul_v_b", "matmul_b_v")},
    **{name: "torch differentiates einsum's permute/bmm decomposition; tapegrad has one "
             "einsum node" for name in ("einsum_mm", "einsum_ellipsis", "einsum_three",
                                        "einsum_implicit")},
    **{name: _DECOMP for name in ("det", "det_batch", "slogdet", "solve_vec", "qr",
                                  "qr_square", "svd_tall", "svd_wide", "svd_uv", "svdvals",
                                  "norm_nuc", "norm_2", "norm_m2")},
    **{name: "torch records <Mode>PadBackwardBackward0, tied to the input even for a "
             "constant incoming gradient; tapegrad's gradient is an index scatter of the "
             "incoming gradient (a graph only when that requires grad)"
       for name in ("pad_reflect", "pad_reflect2d", "pad_replicate")},
}


def _names(fn):
    """grad_fn name and the names one level down; None for a gradient without graph."""
    if fn is None:
        return None
    return fn.name(), [None if f is None else f.name() for f, _ in fn.next_functions]


def _graph_names(lib, call, arrays):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = call(lib, *xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        loss = sum(o.sum() for o in outs if o.requires_grad)
        grads = lib.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    return [None if g is None else _names(g.grad_fn) for g in grads]


def _spec_inputs(spec):
    """Float64 inputs of the spec's most telling shapes (broadcasting where it has them)."""
    shapes = spec.shapes[1] if len(spec.shapes) > 1 else spec.shapes[0]
    rng = np.random.default_rng(0)
    return [np.asarray(DOMAINS[spec.domain_of(i)](rng.standard_normal(s)), np.float64)
            for i, s in enumerate(shapes)]


CASES = ([pytest.param(s.call, _spec_inputs(s), id=s.name) for s in ALL_SPECS if s.grad]
         + [pytest.param(s.call, s.inputs, id=s.name) for s in TABLE_SPECS])


@pytest.mark.parametrize("call,arrays", CASES)
def test_double_backward_graph_names_match_torch(request, call, arrays):
    name = request.node.callspec.id
    ours, theirs = _graph_names(tg, call, arrays), _graph_names(torch, call, arrays)
    if name in KNOWN_DIFFERENCES:
        assert ours != theirs, f"{name} now matches torch: drop it from KNOWN_DIFFERENCES"
        return
    assert ours == theirs


def test_known_differences_name_real_specs():
    names = {s.name for s in ALL_SPECS} | {s.name for s in TABLE_SPECS}
    assert set(KNOWN_DIFFERENCES) <= names


@pytest.mark.parametrize("op", ["abs", "sgn"])
def test_abs_derivative_records_sgn_as_torch(op):
    results = []
    for lib in (tg, torch):
        x = lib.tensor([1.5, -2.0, 0.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(x, op)().sum(), x, create_graph=True)
        # (torch's zero gradient of sgn is an "efficient zero tensor": no tolist(), a repr)
        results.append((repr(g), None if g.grad_fn is None else _names(g.grad_fn)))
    assert results[0] == results[1]


def test_sgn_matches_torch():
    for values in ([True, False], [3, -2, 0], [0.5, -0.0, -2.0]):
        assert repr(tg.sgn(tg.tensor(values))) == repr(torch.sgn(torch.tensor(values)))


@pytest.mark.parametrize("expr", ["x * 2", "x / 2", "2 * x", "x + 1", "1 - x"])
def test_python_numbers_in_user_code_keep_the_tensor_overload(expr):
    """torch wraps a Python number as a Tensor: ``x * 2`` is MulBackward0, and so is the
    derivative of ``x * 2`` (only torch's C++ formulas use the Scalar overloads)."""
    results = []
    for lib in (tg, torch):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = eval(expr, {"x": x})
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        results.append((y.grad_fn.name(), _names(g.grad_fn)))
    assert results[0] == results[1]
