"""W3: 20 elementwise ops (mul, add, tanh, exp, sigmoid) on 1,000,000 float32, sum, backward.

Bound by memory traffic and allocation: the hand-written NumPy backward reuses one buffer.
"""

from __future__ import annotations

import os

from _harness import Table, measure_each, np, parse_args, rerun_one_thread, tapegrad, torch

N = 1_000_000
N_ROUNDS = 4      # 5 ops per round


def chain(lib, x):
    for _ in range(N_ROUNDS):
        x = x * 0.5
        x = x + 0.1
        x = lib.tanh(x)
        x = lib.exp(x)
        x = lib.sigmoid(x)
    return x


def autograd_iter(lib, data):
    x = lib.from_numpy(data).requires_grad_()
    chain(lib, x).sum().backward()
    return x.grad


def numpy_iter(data):
    saved = []
    x = data
    for _ in range(N_ROUNDS):
        x = x * np.float32(0.5)
        x += np.float32(0.1)
        np.tanh(x, out=x)
        saved.append(x)                 # tanh result
        x = np.exp(x)
        saved.append(x)                 # exp result
        x = 1 / (1 + np.exp(-x))
        saved.append(x)                 # sigmoid result
    g = np.ones_like(data)
    tmp = np.empty_like(data)
    for i in range(len(saved) - 1, -1, -3):
        s, e, t = saved[i], saved[i - 1], saved[i - 2]
        np.subtract(1, s, out=tmp)      # sigmoid' = s (1 - s)
        tmp *= s
        g *= tmp
        g *= e                          # exp' = result
        np.multiply(t, t, out=tmp)      # tanh' = 1 - t^2
        np.subtract(1, tmp, out=tmp)
        g *= tmp
        g *= np.float32(0.5)
    return g


def run(quick: bool, label: str = "") -> Table:
    reps = 3 if quick else 20
    table = Table(f"W3: 20 elementwise ops on 1e6 float32 + backward{label}", "ms/iter", 1e3)
    data = np.random.default_rng(0).standard_normal(N).astype(np.float32)
    impls = {"tapegrad": lambda: autograd_iter(tapegrad, data)}
    if torch is not None:
        impls["torch"] = lambda: autograd_iter(torch, data)
    impls["numpy"] = lambda: numpy_iter(data)
    for name, times in measure_each(impls, reps).items():
        table.add("fwd+sum+bwd", name, times)
    return table


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick, " (1 thread)" if args.one_thread else " (default threads)").render())
    if not args.one_thread:
        print(rerun_one_thread(os.path.abspath(__file__), args.quick))
