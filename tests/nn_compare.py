"""Helpers for nn tests: run the same computation in torch and tapegrad from equal values."""

from __future__ import annotations

import numpy as np

import tapegrad as tg

RTOL = 1e-10
ATOL = 1e-12


def pair(torch, array, requires_grad=True):
    """The same float64 values as a torch tensor and a tapegrad tensor."""
    a = np.asarray(array)
    t = torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    g = tg.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    return t, g


def copy_params(torch_module, tg_module):
    """Copy torch's parameters and buffers into the tapegrad module (same names)."""
    state = {k: tg.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    tg_module.load_state_dict(state)


def close(tg_value, torch_value):
    np.testing.assert_allclose(np.asarray(tg_value.detach().numpy()),
                               torch_value.detach().numpy(), rtol=RTOL, atol=ATOL)


def backward_both(out_t, out_g, rng=None):
    """Backpropagate the same random upstream gradient through both outputs."""
    rng = rng or np.random.default_rng(0)
    upstream = rng.standard_normal(tuple(out_t.shape))
    import torch
    out_t.backward(torch.tensor(upstream, dtype=out_t.dtype))
    out_g.backward(tg.tensor(upstream, dtype=out_g.dtype))
