"""The graph as users inspect it: Node.name/next_functions/metadata, torch's _saved_*
attributes, node pre/post hooks (replacing gradients, checks on what they return) and
the order in which every kind of hook runs — vs torch."""

import pytest
from torch_compare import assert_same_result

torch = pytest.importorskip("torch")

EXPRESSIONS = {
    "mul": lambda lib, a, b, M: a * b,
    "mul_by_constant": lambda lib, a, b, M: a * b.detach(),
    "mul_by_int": lambda lib, a, b, M: a * 2,
    "mul_by_float": lambda lib, a, b, M: a * 2.5,
    "add": lambda lib, a, b, M: a + b,
    "sub": lambda lib, a, b, M: a - b,
    "rsub": lambda lib, a, b, M: 1 - a,
    "div": lambda lib, a, b, M: a / b,
    "pow_scalar": lambda lib, a, b, M: a ** 2,
    "pow_tensor": lambda lib, a, b, M: a ** b,
    "exp": lambda lib, a, b, M: a.exp(),
    "sin": lambda lib, a, b, M: a.sin(),
    "tanh": lambda lib, a, b, M: a.tanh(),
    "relu": lambda lib, a, b, M: a.relu(),
    "sum": lambda lib, a, b, M: a.sum(),
    "sum_dim": lambda lib, a, b, M: M.sum(0),
    "mean": lambda lib, a, b, M: a.mean(),
    "mean_dim_keepdim": lambda lib, a, b, M: M.mean(1, keepdim=True),
    "mm": lambda lib, a, b, M: M @ M,
    "mv": lambda lib, a, b, M: M @ a,
    "view": lambda lib, a, b, M: M.view(4),
    "expand": lambda lib, a, b, M: a.expand(3, 2),
    "transpose": lambda lib, a, b, M: M.transpose(0, 1),
    "permute": lambda lib, a, b, M: M.permute(1, 0),
    "unsqueeze": lambda lib, a, b, M: a.unsqueeze(0),
    "squeeze": lambda lib, a, b, M: a.unsqueeze(0).squeeze(0),
    "cat": lambda lib, a, b, M: lib.cat([a, b]),
    "clamp": lambda lib, a, b, M: a.clamp(0, 1),
    "softmax": lambda lib, a, b, M: lib.nn.functional.softmax(a, 0),
}


def leaves(lib):
    return (lib.tensor([1., 2.], requires_grad=True), lib.tensor([3., 4.], requires_grad=True),
            lib.tensor([[1., 2.], [3., 4.]], requires_grad=True))


def describe(value, a, b, M):
    if hasattr(value, "shape"):
        return ("tensor", value.tolist(), str(value.dtype), value is a, value is b, value is M)
    return value


@pytest.mark.parametrize("expr", list(EXPRESSIONS))
def test_saved_attributes_match_torch(expr):
    def prog(lib):
        a, b, M = leaves(lib)
        gf = EXPRESSIONS[expr](lib, a, b, M).grad_fn
        names = [n for n in dir(gf) if n.startswith("_saved_")]
        return gf.name(), names, [describe(getattr(gf, n), a, b, M) for n in names]
    assert_same_result(prog, torch, tol=1e-6)


def test_saved_tensors_raise_after_backward_but_sizes_survive():
    def prog(lib):
        a, _, M = leaves(lib)
        y = (a ** 2).sum()
        z = M.view(4)
        (y + z.sum()).backward()
        out = [y.grad_fn._saved_self_sym_sizes, z.grad_fn._saved_self_sym_sizes]
        try:
            out.append(y.grad_fn.next_functions[0][0]._saved_self)
        except RuntimeError as e:
            out.append(str(e))
        return out
    assert_same_result(prog, torch)


def test_name_next_functions_and_metadata():
    def prog(lib):
        a, b, _ = leaves(lib)
        y = (a * b).sum()
        mul = y.grad_fn.next_functions[0][0]
        acc = mul.next_functions[0][0]
        mul.metadata["tag"] = "mine"
        return (y.grad_fn.name(), mul.name(), acc.name(), acc.next_functions,
                [nr for _, nr in mul.next_functions], acc.variable is a, mul.metadata,
                type(mul.metadata).__name__, a.grad_fn is None, mul.requires_grad)
    assert_same_result(prog, torch)


def test_node_hooks_replace_gradients_and_handles_remove_them():
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 3
        pre = y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        post = y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, None))
        y.sum().backward()
        first = x.grad.clone()
        pre.remove()
        post.remove()
        x.grad = None
        y = x * 3
        y.sum().backward()
        return first, x.grad
    assert_same_result(prog, torch)


def test_node_post_hook_sees_inputs_and_outputs_grads():
    def prog(lib):
        log = []
        u = lib.tensor([1., 2.], requires_grad=True)
        v = lib.tensor([3., 4.], requires_grad=True)
        w = u * v
        w.grad_fn.register_hook(lambda gi, go: log.append(("post", gi, go)))
        w.grad_fn.register_prehook(lambda go: log.append(("pre", go)))
        w.sum().backward()
        return log
    assert_same_result(prog, torch)


def test_node_hook_runs_on_every_backward_with_retain_graph():
    def prog(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * x
        y.grad_fn.register_hook(lambda gi, go: log.append("post"))
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return log, x.grad
    assert_same_result(prog, torch)


RETURNS = {
    "int": lambda lib: (5,),
    "list": lambda lib: [lib.ones(2)],
    "too many": lambda lib: (lib.ones(2), None, None),
    "empty": lambda lib: (),
    "double": lambda lib: (lib.ones(2, dtype=lib.float64),),
    "double pair": lambda lib: (lib.ones(2, dtype=lib.float64), None),
    "wrong size": lambda lib: (lib.ones(3),),
    "wrong size pair": lambda lib: (lib.ones(3), None),
    "nones": lambda lib: (None, None),
    "none": lambda lib: (None,),
}


@pytest.mark.parametrize("kind", ["prehook", "posthook"])
@pytest.mark.parametrize("returned", list(RETURNS))
def test_what_node_hooks_return_is_checked(kind, returned):
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 3
        value = RETURNS[returned](lib)
        if kind == "prehook":
            y.grad_fn.register_prehook(lambda go: value)
        else:
            y.grad_fn.register_hook(lambda gi, go: value)
        y.sum().backward()
        return x.grad
    assert_same_result(prog, torch)


def test_hook_order_for_non_leaf_and_leaf():
    def prog(lib):
        log = []
        a = lib.tensor([1., 2.], requires_grad=True, dtype=lib.float64)
        b = a * 2
        c = b.sin()
        b.retain_grad()
        b.register_hook(lambda g: log.append(("tensor hook", g.tolist())))
        b.grad_fn.register_prehook(lambda go: log.append(("node prehook", go)))
        b.grad_fn.register_hook(lambda gi, go: log.append(("node posthook", gi, go)))
        b.register_hook(lambda g: log.append(("tensor hook 2", g.tolist())) or g * 10)
        a.register_hook(lambda g: log.append(("leaf tensor hook", g.tolist())))
        acc = b.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: log.append(("accumulate prehook", go)))
        acc.register_hook(lambda gi, go: log.append(("accumulate posthook", gi, go)))
        a.register_post_accumulate_grad_hook(lambda t: log.append(("post accumulate",
                                                                   t.grad.tolist())))
        c.sum().backward()
        return log, b.grad, a.grad
    assert_same_result(prog, torch)


def test_retain_grad_sees_tensor_hooks_but_not_node_prehooks():
    def prog(lib):
        log = []
        p = lib.tensor([1.], requires_grad=True)
        q = p * 1
        q.retain_grad()
        q.register_hook(lambda g: g * 2)
        q.grad_fn.register_prehook(lambda go: log.append(go[0].tolist()) or (go[0] * 3,))
        (q * 5).sum().backward()
        return log, q.grad, p.grad
    assert_same_result(prog, torch)


def test_raw_saved_register_hooks_packs_one_saved_value():
    def prog(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * x
        raw = y.grad_fn._raw_saved_self
        raw.register_hooks(lambda t: log.append("pack") or t * 1,
                           lambda t: log.append("unpack") or t)
        log.append("registered")
        y.sum().backward()
        return log, x.grad
    assert_same_result(prog, torch)


def _register_twice(lib, x):
    y = x * x
    raw = y.grad_fn._raw_saved_self
    raw.register_hooks(lambda t: t, lambda t: t)
    raw.register_hooks(lambda t: t, lambda t: t)


def _register_on(name, y_of, backward=False):
    def case(lib, x):
        y = y_of(x)                      # kept alive: torch's SavedTensor needs its node
        if backward:
            y.sum().backward()
        getattr(y.grad_fn, name).register_hooks(lambda t: t, lambda t: t)
        return "registered"
    return case


def _listing(lib, x):
    y, s, z = x ** 2, x.sum(), x * x
    return ([n for n in dir(y.grad_fn) if "raw" in n], [n for n in dir(s.grad_fn) if "raw" in n],
            z.grad_fn._raw_saved_self.unpack() is x)


RAW_ERRORS = {
    "twice": _register_twice,
    "none": _register_on("_raw_saved_self", lambda x: x * 2),
    "wrapped number": _register_on("_raw_saved_other", lambda x: x * 2),
    "freed": _register_on("_raw_saved_self", lambda x: x * x, backward=True),
    "listed": _listing,
}


@pytest.mark.parametrize("case", list(RAW_ERRORS))
def test_raw_saved_errors_and_listing(case):
    def prog(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        return RAW_ERRORS[case](lib, x)
    assert_same_result(prog, torch)
