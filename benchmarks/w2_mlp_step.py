"""W2: one SGD training step of a 784-512-512-10 ReLU MLP with log-softmax cross-entropy.

Batch 256, float32. Log-softmax is composed from tapegrad ops (exp, log, sum) with the
row maximum subtracted as a constant, as torch's own kernel does for stability.
"""

from __future__ import annotations

import os

from _harness import Table, measure_each, np, parse_args, rerun_one_thread, tapegrad, torch

SIZES = (784, 512, 512, 10)
BATCH = 256
LR = 0.01


def make_data(seed: int = 0, sizes: tuple = SIZES, batch: int = BATCH):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    onehot = np.zeros((batch, sizes[-1]), np.float32)
    onehot[np.arange(batch), y] = 1
    return params, x, y, onehot


def autograd_step(lib, params, x, onehot):
    """Forward, loss, backward and SGD with a torch-like library (tapegrad or torch)."""
    h = x
    n_layers = len(params) // 2
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        h = h @ w.T + b
        if i < n_layers - 1:
            h = lib.relu(h)
    shift = lib.from_numpy(h.detach().numpy().max(axis=1, keepdims=True))
    z = h - shift
    logp = z - lib.log(lib.exp(z).sum(1, keepdim=True))
    loss = -(logp * onehot).sum() / x.shape[0]
    for p in params:
        p.grad = None
    loss.backward()
    with lib.no_grad():
        for p in params:
            p.sub_(p.grad * LR)
    return loss


def numpy_step(params, x, onehot):
    """The same step by hand: forward keeping activations, backward, in-place SGD."""
    n_layers = len(params) // 2
    acts = [x]
    h = x
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        h = h @ w.T + b
        if i < n_layers - 1:
            h = np.maximum(h, 0)
        acts.append(h)
    z = h - h.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    logp = z - np.log(s)
    loss = -(logp * onehot).sum() / x.shape[0]
    g = (e / s - onehot) / x.shape[0]
    for i in reversed(range(n_layers)):
        w = params[2 * i]
        gw = g.T @ acts[i]
        gb = g.sum(axis=0)
        if i > 0:
            g = g @ w
            g *= acts[i] > 0
        w -= LR * gw
        params[2 * i + 1] -= LR * gb
    return loss


def implementations(params_np, x, onehot):
    """name -> zero-argument step function, each on its own copy of the parameters."""
    impls = {}
    tp = [tapegrad.tensor(p.copy(), requires_grad=True) for p in params_np]
    tx, toh = tapegrad.from_numpy(x), tapegrad.from_numpy(onehot)
    impls["tapegrad"] = lambda: autograd_step(tapegrad, tp, tx, toh)
    if torch is not None:
        qp = [torch.tensor(p.copy(), requires_grad=True) for p in params_np]
        qx, qoh = torch.from_numpy(x), torch.from_numpy(onehot)
        impls["torch"] = lambda: autograd_step(torch, qp, qx, qoh)
    npp = [p.copy() for p in params_np]
    impls["numpy"] = lambda: numpy_step(npp, x, onehot)
    return impls


def run(quick: bool, label: str = "") -> Table:
    reps = 3 if quick else 30
    table = Table(f"W2: MLP 784-512-512-10 train step, batch 256{label}", "ms/step", 1e3)
    params, x, _, onehot = make_data()
    for name, times in measure_each(implementations(params, x, onehot), reps).items():
        table.add("train step", name, times)
    return table


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick, " (1 thread)" if args.one_thread else " (default threads)").render())
    if not args.one_thread:
        print(rerun_one_thread(os.path.abspath(__file__), args.quick))
