"""torch's ``grad_fn._saved_<key>`` readers exist class-wide on nodes but answer only for
node types that have ``<key>``; a custom Function's ctx may still keep its own attributes
under such names, as in torch."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _ctx_attributes(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx._saved_self = 5.0
            ctx._saved_result = 7
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * ctx._saved_self

    x = lib.ones(2, requires_grad=True)
    y = Scale.apply(x)
    y.sum().backward()
    return x.grad.tolist(), y.grad_fn._saved_result


def test_function_ctx_keeps_attributes_named_like_saved_values():
    assert _ctx_attributes(tg) == _ctx_attributes(torch)


def _missing(lib):
    x = lib.ones(2, requires_grad=True)
    gf = x.exp().grad_fn
    out = []
    for name in ("_saved_self", "_raw_saved_self", "_saved_nonsense"):
        try:
            getattr(gf, name)
            out.append("found")
        except AttributeError as e:
            out.append(str(e))
    return out, hasattr(gf, "_saved_result"), sorted(n for n in dir(gf) if n.startswith("_saved_"))


def test_saved_attribute_of_another_node_type_is_missing_as_in_torch():
    assert _missing(tg) == _missing(torch)
