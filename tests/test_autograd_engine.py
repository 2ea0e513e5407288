"""backward / autograd.grad semantics, engine order, accumulation and freeing, vs torch."""

import pytest
from torch_compare import assert_same_repr

import tapegrad as tg

torch = pytest.importorskip("torch")


def _x(t):
    return t.tensor([1.0, 2.0, 3.0], requires_grad=True)


def _bw(t, y, *args, **kw):
    y.backward(*args, **kw)


def _twice(t, make):
    x = _x(t)
    y = make(x)
    y.backward()
    y.backward()
    return x.grad


def _grad_after_backward(t, x, y, *args, **kw):
    y.backward(*args, **kw)
    return x.grad


ERRORS = {
    "non_scalar_no_gradient": lambda t: _x(t).mul(2).backward(),
    "no_grad_fn": lambda t: t.ones(2).sum().backward(),
    "no_grad_fn_second_root": lambda t: t.autograd.backward([_x(t).sum(), t.ones(1).sum()]),
    "second_backward_saved": lambda t: _twice(t, lambda x: (x * x).sum()),
    "second_backward_unsaved": lambda t: _twice(t, lambda x: (x + x).sum()),
    "retain_graph": lambda t: (lambda x: (lambda y: (y.backward(retain_graph=True),
                                                      y.backward(), x.grad))((x * x).sum()))(
        _x(t)),
    "gradient_shape_mismatch": lambda t: _x(t).mul(2).backward(t.ones(2)),
    "gradient_count_mismatch": lambda t: t.autograd.backward([_x(t).sum(), _x(t).sum()],
                                                            [t.tensor(1.0)]),
    "backward_inputs_empty": lambda t: _x(t).sum().backward(inputs=[]),
    "grad_inputs_empty": lambda t: t.autograd.grad(_x(t).sum(), []),
    "grad_unused": lambda t: t.autograd.grad(_x(t).sum(), [_x(t)]),
    "grad_unused_second": lambda t: (lambda a, b: t.autograd.grad(a.sum(), [a, b]))(_x(t),
                                                                                   _x(t)),
    "grad_allow_unused": lambda t: (lambda a, b: t.autograd.grad((a * 2).sum(), [a, b],
                                                                 allow_unused=True))(_x(t),
                                                                                     _x(t)),
    "grad_materialize": lambda t: (lambda a, b: t.autograd.grad((a * 2).sum(), [a, b],
                                                                materialize_grads=True))(
        _x(t), _x(t)),
    "grad_materialize_conflict": lambda t: t.autograd.grad(
        _x(t).sum(), [_x(t)], allow_unused=False, materialize_grads=True),
    "grad_input_no_rg": lambda t: t.autograd.grad(_x(t).sum(), [t.ones(3)]),
    "grad_output_no_rg": lambda t: t.autograd.grad(t.ones(3).sum(), [_x(t)]),
    "grad_non_scalar": lambda t: t.autograd.grad(_x(t) * 2, [_x(t)]),
    "grad_shape_mismatch": lambda t: (lambda x: t.autograd.grad(x * 2, x, t.ones(2)))(_x(t)),
    "grad_does_not_touch_grad": lambda t: (lambda x: (t.autograd.grad((x * x).sum(), x),
                                                      x.grad))(_x(t)),
    "grad_wrt_nonleaf": lambda t: (lambda x: (lambda h: t.autograd.grad((h * h).sum(), h))(
        x * 3))(_x(t)),
    "backward_on_leaf": lambda t: (lambda x: _grad_after_backward(t, x, x, t.ones(3)))(_x(t)),
    "backward_inputs_subset": lambda t: (lambda a, b: (((a * b).sum().backward(inputs=[a])),
                                                       a.grad, b.grad))(_x(t), _x(t)),
    "backward_inputs_nonleaf": lambda t: (lambda a: (lambda h: ((h * h).sum().backward(
        inputs=[h]), h.grad, a.grad))(a * 2))(_x(t)),
    "backward_inputs_unused": lambda t: (lambda a, b: ((a * 2).sum().backward(inputs=[a, b]),
                                                       a.grad, b.grad))(_x(t), _x(t)),
    "backward_create_graph_warns": lambda t: (lambda x: ((x * x).sum().backward(
        create_graph=True), x.grad))(_x(t)),
    "multi_root_none_grad": lambda t: (lambda x: (t.autograd.backward(
        [(x * 2).sum(), x * 3], [None, t.ones(3)]), x.grad))(_x(t)),
    "same_root_twice": lambda t: (lambda x: (lambda y: (t.autograd.backward(
        [y, y], retain_graph=True), x.grad))((x * 2).sum()))(_x(t)),
    "int_output_no_grad": lambda t: ((_x(t) > 1).requires_grad, _x(t).long().requires_grad),
    "grad_dtype_cast": lambda t: (lambda x: (x.double().sum().backward(), x.grad))(_x(t)),
    "gradient_float64_into_float32": lambda t: (lambda x: (
        (x * 1).backward(t.ones(3, dtype=t.float64)), x.grad))(_x(t)),
    "broadcast_undone": lambda t: (lambda a, b: ((a * b).sum().backward(), a.grad, b.grad))(
        t.ones(2, 1, requires_grad=True), t.tensor([1.0, 2.0, 3.0], requires_grad=True)),
    "broadcast_0d": lambda t: (lambda a, b: ((a + b).sum().backward(), a.grad, b.grad))(
        t.tensor(2.0, requires_grad=True), t.ones(2, 3, requires_grad=True)),
    "zero_numel": lambda t: (lambda a, b: ((a * b).sum().backward(), a.grad, b.grad))(
        t.ones(4, 0, requires_grad=True), t.ones(4, 1, requires_grad=True)),
    "fan_out_cube": lambda t: (lambda x: ((x * x * x).backward(), x.grad))(
        t.tensor(3.0, requires_grad=True)),
    "accumulate_across_calls": lambda t: (lambda x: ((x * 2).sum().backward(),
                                                     (x * 3).sum().backward(), x.grad))(_x(t)),
    "second_order": lambda t: (lambda x: t.autograd.grad(t.autograd.grad(
        (x ** 3).sum(), x, create_graph=True)[0].sum(), x))(_x(t)),
    "third_order": lambda t: (lambda x: (lambda g1: (lambda g2: t.autograd.grad(
        g2.sum(), x))(t.autograd.grad(g1.sum(), x, create_graph=True)[0]))(
        t.autograd.grad((x ** 4).sum(), x, create_graph=True)[0]))(_x(t)),
    "create_graph_repr": lambda t: (lambda x: t.autograd.grad(x ** 3, x, create_graph=True))(
        t.tensor(2.0, requires_grad=True)),
    "hessian_vector": lambda t: (lambda x, v: (lambda g: t.autograd.grad(g, x, v))(
        t.autograd.grad((x.sin() * x).sum(), x, create_graph=True)[0]))(
        _x(t).double(), t.tensor([1.0, 0.5, -1.0], dtype=t.float64)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_backward_and_grad_match_torch(name):
    assert_same_repr(ERRORS[name], torch)


def _chain(lib):
    a = lib.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b * 2
    d = c * 2
    return {"a": a, "b": b, "c": c, "d": d, "e": d * 2}


def _branches(lib):
    x = lib.tensor(1.0, requires_grad=True)
    p = x * 2
    q = x * 3
    r = p * q
    return {"x": x, "p": p, "q": q, "r": r, "s": p + r}


@pytest.mark.parametrize("graph,expected", [
    (_chain, ["e", "d", "c", "b", "a"]),    # newest ready node first
    (_branches, None),
])
def test_execution_order_matches_torch(graph, expected):
    """Tensor hooks fire in the order torch runs the nodes; the last tensor is the root."""
    orders = []
    for lib in (torch, tg):
        order = []
        named = graph(lib)
        for name, v in named.items():
            v.register_hook(lambda g, name=name, order=order: order.append(name))
        list(named.values())[-1].backward()
        orders.append(order)
    assert orders[0] == orders[1]
    if expected is not None:
        assert orders[0] == expected


def test_accumulation_in_place_keeps_grad_object():
    x = tg.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 2).sum().backward()
    assert x.grad is first
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


def test_accumulation_under_create_graph_is_out_of_place():
    x = tg.ones(3, requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    first = x.grad
    with pytest.warns(UserWarning):
        (x * x).sum().backward(create_graph=True)
    assert x.grad is not first
    assert x.grad.requires_grad and x.grad.tolist() == [4.0, 4.0, 4.0]


def test_user_gradient_is_never_mutated_and_leaf_grads_never_alias():
    a = tg.zeros(3, requires_grad=True)
    b = tg.zeros(3, requires_grad=True)
    v = tg.tensor([1.0, 2.0, 3.0])
    (a + b).backward(v)
    a.grad += 1
    assert b.grad.tolist() == [1.0, 2.0, 3.0]
    assert v.tolist() == [1.0, 2.0, 3.0]
    x = tg.zeros(3, requires_grad=True)
    x.backward(v)
    x.grad.mul_(10)
    assert v.tolist() == [1.0, 2.0, 3.0]


def test_saved_values_are_freed_after_backward():
    x = tg.ones(2, requires_grad=True)
    y = x * x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        _ = y.grad_fn._saved_self


@pytest.mark.parametrize("step", [lambda y: y * 1.0, lambda y: y + 1.0], ids=["mul", "add"])
def test_long_chain_backward_and_free_without_recursion(step):
    x = tg.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = step(y)
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a 100k-deep graph must not hit the recursion limit


def test_accumulate_grad_node_is_one_per_leaf_while_alive():
    for lib in (torch, tg):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        z = x * 3
        acc = y.grad_fn.next_functions[0][0]
        assert acc is z.grad_fn.next_functions[0][0]
        assert acc.variable is x
        assert acc.name() == "torch::autograd::AccumulateGrad"
        assert type(acc).__name__ == "AccumulateGrad"


NAMES = {
    "pow": lambda t: _x(t) ** 2, "add": lambda t: _x(t) + 1, "mul": lambda t: _x(t) * 2,
    "sum": lambda t: _x(t).sum(), "sum_dim": lambda t: _x(t).sum(0),
    "mean": lambda t: _x(t).mean(), "mean_dim": lambda t: _x(t).mean(0),
    "div": lambda t: _x(t) / 2, "sub": lambda t: _x(t) - 1, "rsub": lambda t: 1 - _x(t),
    "neg": lambda t: -_x(t), "expand": lambda t: _x(t).expand(2, 3),
    "view": lambda t: _x(t).view(3, 1), "reshape": lambda t: _x(t).reshape(1, 3),
    "select": lambda t: _x(t)[0], "slice": lambda t: _x(t)[1:],
    "index": lambda t: _x(t)[[0, 2]], "mask": lambda t: _x(t)[_x(t) > 1],
    "transpose": lambda t: _x(t).view(3, 1).t(), "transpose2": lambda t: _x(t).view(3, 1).T,
    "permute": lambda t: _x(t).view(1, 3).permute(1, 0),
    "unsqueeze": lambda t: _x(t).unsqueeze(0), "squeeze": lambda t: _x(t).view(1, 3).squeeze(),
    "clone": lambda t: _x(t).clone(), "to": lambda t: _x(t).to(t.float64),
    "mm": lambda t: _x(t).view(3, 1).mm(_x(t).view(1, 3)),
    "mv": lambda t: _x(t).view(1, 3).mv(_x(t)), "dot": lambda t: _x(t).dot(_x(t)),
    "matmul_mm": lambda t: _x(t).view(1, 3) @ _x(t).view(3, 1),
    "matmul_dot": lambda t: _x(t) @ _x(t), "exp": lambda t: _x(t).exp(),
    "log": lambda t: _x(t).log(), "sqrt": lambda t: _x(t).sqrt(),
    "sigmoid": lambda t: _x(t).sigmoid(), "tanh": lambda t: _x(t).tanh(),
    "relu": lambda t: _x(t).relu(), "clamp": lambda t: _x(t).clamp(0, 1),
    "pow_tensor": lambda t: _x(t) ** _x(t), "rpow": lambda t: 2 ** _x(t),
    "add_tensor": lambda t: _x(t) + _x(t), "cat": lambda t: t.cat([_x(t), _x(t)]),
    "stack": lambda t: t.stack([_x(t), _x(t)]), "flatten": lambda t: _x(t).view(3, 1).flatten(),
}


@pytest.mark.parametrize("name", list(NAMES))
def test_grad_fn_names_match_torch(name):
    def fn(t):
        gf = NAMES[name](t).grad_fn
        return type(gf).__name__, gf.name()
    assert_same_repr(fn, torch)


def _next_structure(t, y):
    out = []
    for fn, nr in y.grad_fn.next_functions:
        out.append((None if fn is None else fn.name(), nr))
    return out


@pytest.mark.parametrize("expr", [
    lambda t: _x(t) * _x(t),
    lambda t: _x(t) + 5,
    lambda t: (_x(t) + 5) * t.ones(3),
    lambda t: (_x(t) * 2) + (_x(t) * 3),
    lambda t: t.cat([_x(t), t.ones(3), _x(t) * 2]),
    lambda t: _x(t).sum(),
])
def test_next_functions_structure_matches_torch(expr):
    assert_same_repr(lambda t: _next_structure(t, expr(t)), torch)
