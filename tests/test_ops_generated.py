"""Generated op tests: every spec in op_specs.py is checked against torch for forward
values/dtype/shape/grad_fn, first and second derivatives, and against float64 finite
differences. No test here is written for one op by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from op_specs import (
    ALL_SPECS,
    BOOL_RESULTS,
    ERRORS,
    INPLACE,
    INPLACE_ERRORS,
    INTEGER_DTYPES,
    NO_DERIVATIVE,
    NONDIFF,
    SINGULAR,
    TUPLES,
    cases,
    empty_cases,
    integer_cases,
    integer_inputs,
    mixed_cases,
    mixed_inputs,
)
from torch_compare import (
    assert_same_error,
    assert_same_tensor,
    central_differences,
    same_outcome,
    second_derivatives,
    to_numpy,
    zeros_if_none,
)

import tapegrad as tg

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore")


def _inputs(spec, shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for i, shp in enumerate(shapes):
        from op_specs import DOMAINS
        arrays.append(np.asarray(DOMAINS[spec.domain_of(i)](rng.standard_normal(shp)), dtype))
    return arrays


def _both(arrays, requires_grad):
    ours = [tg.tensor(a, requires_grad=requires_grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=requires_grad) for a in arrays]
    return ours, theirs


def assert_same_second(ours, theirs):
    """Second derivatives; None on both sides where the first derivative was constant
    (no graph). A piecewise-constant derivative (relu's threshold_backward) is a graph on
    both sides, with zero second derivatives."""
    assert (ours is None) == (theirs is None)
    if ours is None:
        return
    for a, b in zip(ours, theirs):
        assert_same_tensor(a, b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spec,shapes", cases(ALL_SPECS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_torch(spec, shapes, dtype):
    ours_in, torch_in = _both(_inputs(spec, shapes, dtype), requires_grad=True)
    ours, theirs = spec.call(tg, *ours_in), spec.call(torch, *torch_in)
    assert_same_tensor(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-7)
    assert ours.requires_grad == theirs.requires_grad
    if theirs.grad_fn is not None:
        assert ours.grad_fn.name() == theirs.grad_fn.name()
        assert _next_names(ours.grad_fn) == _next_names(theirs.grad_fn)


def _next_names(fn):
    """The names of the nodes a grad_fn feeds (the graph one level down)."""
    return [None if f is None else f.name() for f, _ in fn.next_functions]


@pytest.mark.parametrize("spec,shapes", cases(NONDIFF))
def test_integer_results_match_torch_and_never_require_grad(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=True)
    ours, theirs = spec.call(tg, *ours_in), spec.call(torch, *torch_in)
    assert_same_tensor(ours, theirs)
    assert not ours.requires_grad and ours.grad_fn is None


@pytest.mark.parametrize("spec,shapes", cases(ERRORS))
def test_refused_calls_raise_as_torch(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=False)
    assert_same_error(lambda: spec.call(tg, *ours_in), lambda: spec.call(torch, *torch_in))


def _run_inplace(lib, spec, arrays):
    """Apply the in-place op to a non-leaf copy of the first input; return the modified
    tensor, its version bump, and the gradients of every leaf (or the error raised)."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    target = leaves[0] * 1
    before = target._version
    out = spec.call(lib, target, *leaves[1:])
    assert out is target
    v = lib.tensor(np.random.default_rng(1).standard_normal(tuple(target.shape)))
    try:
        grads = lib.autograd.grad((target * v).sum(), leaves, allow_unused=True)
    except Exception as e:      # torch has no derivative for some in-place ops (asinh_)
        return target, target._version - before, e
    return target, target._version - before, zeros_if_none(grads, leaves)


@pytest.mark.parametrize("spec,shapes", cases(INPLACE))
def test_inplace_variant_matches_torch(spec, shapes):
    arrays = _inputs(spec, shapes)
    ours, bump_ours, grads_ours = _run_inplace(tg, spec, arrays)
    theirs, bump_theirs, grads_theirs = _run_inplace(torch, spec, arrays)
    assert_same_tensor(ours, theirs)
    assert bump_ours == bump_theirs == 1
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    if same_outcome(grads_ours, grads_theirs):
        return
    for a, b in zip(grads_ours, grads_theirs):
        assert_same_tensor(a, b)


@pytest.mark.parametrize("spec,shapes", cases(NO_DERIVATIVE))
def test_ops_without_derivative_match_torch(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=True)
    ours, theirs = spec.call(tg, *ours_in), spec.call(torch, *torch_in)
    assert_same_tensor(ours, theirs)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert_same_error(lambda: ours.sum().backward(), lambda: theirs.sum().backward())


@pytest.mark.parametrize("spec,dtype", integer_cases(INPLACE, INTEGER_DTYPES + [np.float32]))
def test_inplace_on_other_dtypes_matches_torch(spec, dtype):
    """In place on integer/bool tensors (results that cannot be cast back are refused), and
    on a float32 tensor with float64 operands (kept float32; lerp refuses the mix)."""
    arrays = integer_inputs(spec, dtype)
    if dtype is np.float32:
        arrays = [arrays[0]] + [a.astype(np.float64) for a in arrays[1:]]
    results = []
    for lib in (tg, torch):
        target = lib.tensor(arrays[0])
        try:
            out = spec.call(lib, target, *[lib.tensor(a) for a in arrays[1:]])
            results.append((out, target._version))
        except Exception as e:
            results.append(e)
    ours, theirs = results
    if same_outcome(ours, theirs):
        return
    assert_same_tensor(ours[0], theirs[0])
    assert ours[1] == theirs[1] == 1


@pytest.mark.parametrize("spec,shapes", cases(INPLACE_ERRORS))
def test_refused_inplace_raises_as_torch(spec, shapes):
    arrays = _inputs(spec, shapes)
    assert_same_error(lambda: spec.call(tg, *[tg.tensor(a) for a in arrays]),
                       lambda: spec.call(torch, *[torch.tensor(a) for a in arrays]))


def _singular_run(lib, point):
    inputs = [lib.tensor(a, requires_grad=True) for a in point.inputs]
    out = point.call(lib, *inputs)
    if not out.requires_grad:
        return out, None, None
    first = lib.autograd.grad(out.sum(), inputs, create_graph=True, allow_unused=True)
    total = sum((g * (i + 2.0)).sum() for i, g in enumerate(first)
                if g is not None and g.requires_grad)
    second = None
    if not isinstance(total, int):
        second = zeros_if_none(lib.autograd.grad(total, inputs, allow_unused=True), inputs)
    return out, zeros_if_none(first, inputs), second


@pytest.mark.parametrize("point", [pytest.param(p, id=p.name) for p in SINGULAR])
def test_singular_points_match_torch(point):
    ours, first_ours, second_ours = _singular_run(tg, point)
    theirs, first_theirs, second_theirs = _singular_run(torch, point)
    assert_same_tensor(ours, theirs)
    assert (first_ours is None) == (first_theirs is None)
    for a, b in zip(first_ours or (), first_theirs or ()):
        assert_same_tensor(a, b)
    if point.second:
        assert_same_second(second_ours, second_theirs)


@pytest.mark.parametrize("spec,shapes", cases(TUPLES))
def test_tuple_results_match_torch(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=True)
    ours, theirs = spec.call(tg, *ours_in), spec.call(torch, *torch_in)
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("spec,shapes", cases(BOOL_RESULTS))
def test_bool_results_match_torch(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=True)
    ours, theirs = spec.call(tg, *ours_in), spec.call(torch, *torch_in)
    assert type(ours) is bool and ours == theirs


@pytest.mark.parametrize("spec,dtype", integer_cases(ALL_SPECS + NONDIFF))
def test_integer_and_bool_inputs_match_torch(spec, dtype):
    """Type promotion (int -> float for floating ops, kept for others) and the dtypes each
    kernel refuses, with torch's exception and message."""
    arrays = integer_inputs(spec, dtype)
    results = []
    for lib in (tg, torch):
        try:
            results.append(spec.call(lib, *[lib.tensor(a) for a in arrays]))
        except Exception as e:
            results.append(e)
    ours, theirs = results
    if not same_outcome(ours, theirs):
        assert_same_tensor(ours, theirs)


def _forward_and_grad(lib, spec, arrays):
    """Output and gradients of sum(output), or the exception the call raised."""
    try:
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = spec.call(lib, *inputs)
        grads = (lib.autograd.grad(out.sum(), inputs, allow_unused=True)
                 if out.requires_grad else [None] * len(inputs))
    except Exception as e:
        return e
    return out, zeros_if_none(grads, inputs)


@pytest.mark.parametrize("spec,shapes,dtypes", mixed_cases(ALL_SPECS))
def test_mixed_dtypes_match_torch(spec, shapes, dtypes):
    """Result dtype of mixed inputs, and each gradient in its own input's dtype."""
    arrays = mixed_inputs(spec, shapes, dtypes)
    results = []
    for lib in (tg, torch):
        try:
            inputs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            out = spec.call(lib, *inputs)
            floats = [x for x in inputs if x.requires_grad]
            results.append((out, lib.autograd.grad(out.sum(), floats, allow_unused=True)))
        except Exception as e:
            results.append(e)
    ours, theirs = results
    if same_outcome(ours, theirs):
        return
    assert_same_tensor(ours[0], theirs[0], rtol=1e-5)
    for a, b in zip(ours[1], theirs[1]):
        assert_same_tensor(a, b, rtol=1e-5)


@pytest.mark.parametrize("spec,shape", empty_cases(ALL_SPECS + NONDIFF))
def test_empty_inputs_match_torch(spec, shape):
    """Empty tensors: identities (sum 0, prod 1, mean NaN), empty gradients, and torch's
    errors for reductions without an identity (amax, argmax, inf norm ...)."""
    ours = _forward_and_grad(tg, spec, [np.zeros(shape)])
    theirs = _forward_and_grad(torch, spec, [np.zeros(shape)])
    if same_outcome(ours, theirs):
        return
    assert_same_tensor(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1]):
        assert_same_tensor(a, b)


def _grads(lib, spec, inputs, seed, create_graph=False):
    out = spec.call(lib, *inputs)
    rng = np.random.default_rng(seed + 1)
    v = lib.tensor(rng.standard_normal(tuple(out.shape)))
    return out, lib.autograd.grad(out, inputs, v, create_graph=create_graph,
                                  allow_unused=True)


@pytest.mark.parametrize("spec,shapes", cases([s for s in ALL_SPECS if s.grad]))
def test_gradient_matches_torch(spec, shapes):
    ours_in, torch_in = _both(_inputs(spec, shapes), requires_grad=True)
    _, g_ours = _grads(tg, spec, ours_in, 0)
    _, g_theirs = _grads(torch, spec, torch_in, 0)
    for a, b in zip(zeros_if_none(g_ours, ours_in), zeros_if_none(g_theirs, torch_in)):
        assert_same_tensor(a, b)


@pytest.mark.parametrize("spec,shapes", cases([s for s in ALL_SPECS if s.grad and s.second]))
def test_second_derivative_matches_torch(spec, shapes):
    results = []
    for lib in (tg, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in _inputs(spec, shapes)]
        _, grads = _grads(lib, spec, inputs, 0, create_graph=True)
        results.append(second_derivatives(lib, inputs, grads, np.random.default_rng(7)))
    assert_same_second(*results)


@pytest.mark.parametrize("spec,shapes", cases([s for s in ALL_SPECS if s.grad]))
def test_gradient_matches_finite_differences(spec, shapes):
    arrays = _inputs(spec, shapes)
    inputs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out, grads = _grads(tg, spec, inputs, 3)
    v = np.random.default_rng(4).standard_normal(tuple(out.shape))

    def weighted_output(xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float((to_numpy(spec.call(tg, *[tg.tensor(x) for x in xs])) * v).sum())

    numeric = central_differences(weighted_output, arrays)
    for g, n in zip(zeros_if_none(grads, inputs), numeric, strict=True):
        np.testing.assert_allclose(to_numpy(g), n, rtol=1e-4, atol=1e-6)
