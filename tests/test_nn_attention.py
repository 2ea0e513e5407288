"""scaled_dot_product_attention and MultiheadAttention against torch (float64)."""

import numpy as np
import pytest
from torch_compare import assert_close, backward_both, copy_params, tensor_pair

import tapegrad as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("mask_kind", [None, "bool", "float", "causal"])
def test_sdpa_matches_torch(mask_kind):
    q, k, v = (RNG.standard_normal((2, 3, 4, 5)) for _ in range(3))
    mask = {None: None, "bool": RNG.random((4, 4)) > 0.3, "float": RNG.standard_normal((4, 4)),
            "causal": None}[mask_kind]
    if mask_kind == "bool":
        mask[:, 0] = True
    outs = []
    for lib in (torch, tg):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        m = lib.tensor(mask) if mask is not None else None
        out = lib.nn.functional.scaled_dot_product_attention(
            *ts, attn_mask=m, is_causal=mask_kind == "causal")
        out.backward(lib.tensor(np.ones((2, 3, 4, 5))))
        outs.append([out] + [t.grad for t in ts])
    for a, b in zip(outs[1], outs[0]):
        assert_close(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", [None, "key_padding", "attn_bool", "attn_float"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, masks, average):
    tm = torch.nn.MultiheadAttention(6, 2, batch_first=batch_first).double()
    gm = tg.nn.MultiheadAttention(6, 2, batch_first=batch_first).double()
    assert repr(gm) == repr(tm)
    assert list(gm.state_dict()) == list(tm.state_dict())
    with torch.no_grad():
        tm.in_proj_bias.normal_()
        tm.out_proj.bias.normal_()
    copy_params(tm, gm)
    shape = (2, 4, 6) if batch_first else (4, 2, 6)
    kv_shape = (2, 5, 6) if batch_first else (5, 2, 6)
    qt, qg = tensor_pair(torch, RNG.standard_normal(shape))
    kt, kg = tensor_pair(torch, RNG.standard_normal(kv_shape))
    kwargs_t, kwargs_g = {}, {}
    if masks == "key_padding":
        kp = np.array([[False] * 4 + [True], [False] * 5])
        kwargs_t["key_padding_mask"], kwargs_g["key_padding_mask"] = torch.tensor(kp), tg.tensor(kp)
    elif masks == "attn_bool":
        am = RNG.random((4, 5)) > 0.6
        am[:, 0] = False
        kwargs_t["attn_mask"], kwargs_g["attn_mask"] = torch.tensor(am), tg.tensor(am)
    elif masks == "attn_float":
        am = RNG.standard_normal((4, 5))
        kwargs_t["attn_mask"], kwargs_g["attn_mask"] = torch.tensor(am), tg.tensor(am)
    ot, wt = tm(qt, kt, kt, average_attn_weights=average, **kwargs_t)
    og, wg = gm(qg, kg, kg, average_attn_weights=average, **kwargs_g)
    assert_close(og, ot)
    assert_close(wg, wt)
    backward_both(ot, og)
    assert_close(qg.grad, qt.grad)
    assert_close(kg.grad, kt.grad)
    for pt, pg in zip(tm.parameters(), gm.parameters()):
        assert_close(pg.grad, pt.grad)
