"""nn.functional's losses, norms, embedding and dropout print torch's grad_fn names, in
every reduction mode, with the values and gradients torch gives."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from torch_compare import assert_close, backward_both, tensor_pair

import tapegrad as tg
from tapegrad import viz

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 3))
PROB = RNG.uniform(0.05, 0.95, (4, 3))
TARGET_PROB = RNG.uniform(0, 1, (4, 3))
CLASSES = np.array([0, 2, 1, 0])
WEIGHT = RNG.uniform(0.5, 1.5, 3)


def _args(lib, arrays, grads):
    """Tensors of ``lib`` for each array; the first ``grads`` of them require grad."""
    return [lib.tensor(a, requires_grad=i < grads and a.dtype.kind == "f")
            for i, a in enumerate(arrays)]


# (function name, inputs, how many of them require grad, keyword arguments)
LOSSES = [
    ("mse_loss", (X, TARGET_PROB), 2, {}),
    ("l1_loss", (X, TARGET_PROB), 1, {}),
    ("smooth_l1_loss", (X, TARGET_PROB), 1, {}),
    ("smooth_l1_loss", (X, TARGET_PROB), 1, {"beta": 0.0}),
    ("huber_loss", (X, TARGET_PROB), 1, {"delta": 0.5}),
    ("cross_entropy", (X, CLASSES), 1, {}),
    ("cross_entropy", (X, CLASSES, WEIGHT), 1, {}),
    ("cross_entropy", (X, CLASSES), 1, {"label_smoothing": 0.1}),
    ("cross_entropy", (X, TARGET_PROB), 1, {}),
    ("cross_entropy", (X, TARGET_PROB, WEIGHT), 1, {}),
    ("cross_entropy", (X[0], CLASSES[0]), 1, {}),
    ("cross_entropy", (RNG.standard_normal((2, 3, 4)), RNG.integers(0, 3, (2, 4))), 1, {}),
    ("nll_loss", (X, CLASSES), 1, {}),
    ("nll_loss", (RNG.standard_normal((2, 3, 2, 2)), RNG.integers(0, 3, (2, 2, 2))), 1, {}),
    ("nll_loss", (RNG.standard_normal((2, 3, 2, 1, 2)), RNG.integers(0, 3, (2, 2, 1, 2))), 1,
     {}),
    ("binary_cross_entropy", (PROB, TARGET_PROB), 1, {}),
    ("binary_cross_entropy", (PROB, TARGET_PROB, WEIGHT), 1, {}),
    ("binary_cross_entropy_with_logits", (X, TARGET_PROB), 1, {}),
    ("binary_cross_entropy_with_logits", (X, TARGET_PROB), 1, {"pos_weight": WEIGHT}),
    ("kl_div", (X, TARGET_PROB), 1, {}),
    ("kl_div", (X, X * 0.5), 1, {"log_target": True}),
]


def _call(lib, name, arrays, grads, kwargs, reduction):
    args = _args(lib, arrays, grads)
    kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # kl_div's 'mean' warning
        return args, getattr(lib.nn.functional, name)(*args, reduction=reduction, **kw)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name, arrays, grads, kwargs", LOSSES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_loss_grad_fn_name_value_and_gradient_match_torch(name, arrays, grads, kwargs,
                                                          reduction):
    args_t, out_t = _call(torch, name, arrays, grads, kwargs, reduction)
    args_g, out_g = _call(tg, name, arrays, grads, kwargs, reduction)
    assert type(out_g.grad_fn).__name__ == type(out_t.grad_fn).__name__
    assert_close(out_g, out_t)
    backward_both(out_t, out_g)
    for a_t, a_g in zip(args_t, args_g):
        if a_t.requires_grad:
            assert_close(a_g.grad, a_t.grad)


def test_kl_div_batchmean_grad_fn_matches_torch():
    (xt, tt), (xg, tgt) = _args(torch, (X, TARGET_PROB), 1), _args(tg, (X, TARGET_PROB), 1)
    out_t = torch.nn.functional.kl_div(xt, tt, reduction="batchmean")
    out_g = tg.nn.functional.kl_div(xg, tgt, reduction="batchmean")
    assert out_g.grad_fn.name() == out_t.grad_fn.name() == "DivBackward0"


XB = RNG.standard_normal((4, 6, 5))
CH = RNG.uniform(0.5, 1.5, 6)


def _norms(lib):
    """(label, function of (input, weight, bias)) for each norm, in both libraries."""
    F = lib.nn.functional
    zeros, ones = lib.zeros(6, dtype=lib.float64), lib.ones(6, dtype=lib.float64)
    return {
        "layer_norm": lambda x, w, b: F.layer_norm(x, (5,)),
        "layer_norm_affine": lambda x, w, b: F.layer_norm(x.transpose(1, 2), (6,), w, b),
        "batch_norm_train": lambda x, w, b: F.batch_norm(x, zeros.clone(), ones.clone(), w, b,
                                                         training=True),
        "batch_norm_eval": lambda x, w, b: F.batch_norm(x, zeros + 0.1, ones * 2, w, b),
        "batch_norm_no_stats": lambda x, w, b: F.batch_norm(x, None, None, training=True),
        "group_norm": lambda x, w, b: F.group_norm(x, 2),
        "group_norm_affine": lambda x, w, b: F.group_norm(x, 3, w, b),
    }


@pytest.mark.parametrize("case", list(_norms(tg)))
@pytest.mark.parametrize("grad_of", ["input", "weight"])
def test_norm_grad_fn_name_value_and_gradient_match_torch(case, grad_of):
    results = []
    for lib in (torch, tg):
        x, w, b = (lib.tensor(a, requires_grad=(grad_of == "input") == (i == 0))
                   for i, a in enumerate((XB, CH, CH * 0.3)))
        out = _norms(lib)[case](x, w, b)
        results.append(((x, w, b), out))
    (ins_t, out_t), (ins_g, out_g) = results
    if out_t.grad_fn is None:
        assert out_g.grad_fn is None
        return
    assert out_g.grad_fn.name() == out_t.grad_fn.name()
    assert_close(out_g, out_t)
    backward_both(out_t, out_g)
    for a_t, a_g in zip(ins_t, ins_g):
        if a_t.grad is not None:
            assert_close(a_g.grad, a_t.grad)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_grad_fn_is_embedding_backward(padding_idx):
    wt, wg = tensor_pair(torch, RNG.standard_normal((5, 3)))
    idx = np.array([[1, 2], [4, 1]])
    out_t = torch.nn.functional.embedding(torch.tensor(idx), wt, padding_idx)
    out_g = tg.nn.functional.embedding(tg.tensor(idx), wg, padding_idx)
    assert out_g.grad_fn.name() == out_t.grad_fn.name() == "EmbeddingBackward0"
    backward_both(out_t, out_g)
    assert_close(wg.grad, wt.grad)
    assert type(tg.nn.Embedding(5, 3)(tg.tensor(idx)).grad_fn).__name__ == "EmbeddingBackward0"


@pytest.mark.parametrize("p, training, inplace", [(0.5, True, False), (1.0, True, False),
                                                  (0.5, True, True), (0.5, False, False),
                                                  (0.0, True, False)])
def test_dropout_grad_fn_matches_torch(p, training, inplace):
    names = []
    for lib in (torch, tg):
        x = lib.ones(3, 4, requires_grad=True)
        src = x * 1 if inplace else x
        out = lib.nn.functional.dropout(src, p, training, inplace)
        names.append(None if out.grad_fn is None else out.grad_fn.name())
        if inplace:
            assert out is src
    assert names[1] == names[0]


def test_named_loss_node_passes_gradients_to_any_order():
    x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    t = tg.tensor([0.0, 1.0, 1.0], dtype=tg.float64)
    loss = tg.nn.functional.mse_loss(x ** 2, t, reduction="sum")
    (g,) = tg.autograd.grad(loss, x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    xa, ta = x.detach().numpy(), t.numpy()
    np.testing.assert_allclose(g.detach().numpy(), 4 * xa * (xa ** 2 - ta))
    np.testing.assert_allclose(h.numpy(), 12 * xa ** 2 - 4 * ta)



def test_explain_shows_a_fused_node_sending_gradients_to_its_inputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    text = viz.explain(tg.nn.functional.mse_loss(x * 2, tg.tensor([0.0, 1.0])),
                       file=io.StringIO())
    assert ("1. MseLossBackward0\n   incoming gradient: 1\n   local rule:        the backward "
            "of the ops that compute it, run as one step\n   sends [2., 3.] -> MulBackward0"
            in text)
