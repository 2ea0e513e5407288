"""W4: Hessian-vector product of f(x) = sum(tanh(W @ x)**2), W 256x256, by double backward.

grad(f, x, create_graph=True), then grad(g . v, x): the backward pass is itself recorded.
"""

from __future__ import annotations

import os

from _harness import Table, measure_each, np, parse_args, rerun_one_thread, tapegrad, torch

DIM = 256


def hvp(lib, w, x_data, v):
    x = lib.from_numpy(x_data).requires_grad_()
    f = (lib.tanh(w @ x) ** 2).sum()
    (g,) = lib.autograd.grad(f, x, create_graph=True)
    (hv,) = lib.autograd.grad((g * v).sum(), x)
    return hv


def numpy_hvp(w, x, v):
    """By hand: H = W^T diag(d2) W with d2 = d^2/du^2 tanh(u)^2 = 2(1 - t^2)(1 - 3 t^2)."""
    t = np.tanh(w @ x)
    t2 = t * t
    d2 = 2 * (1 - t2) * (1 - 3 * t2)
    return w.T @ (d2 * (w @ v))


def run(quick: bool, label: str = "") -> Table:
    reps = 5 if quick else 100
    table = Table(f"W4: Hessian-vector product, W 256x256{label}", "ms/hvp", 1e3)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)).astype(np.float32)
    x = rng.standard_normal(DIM).astype(np.float32)
    v = rng.standard_normal(DIM).astype(np.float32)
    impls = {"tapegrad": lambda: hvp(tapegrad, tapegrad.from_numpy(w), x, tapegrad.from_numpy(v))}
    if torch is not None:
        tw, tv = torch.from_numpy(w), torch.from_numpy(v)
        impls["torch"] = lambda: hvp(torch, tw, x, tv)
    impls["numpy"] = lambda: numpy_hvp(w, x, v)
    for name, times in measure_each(impls, reps).items():
        table.add("hvp", name, times)
    return table


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick, " (1 thread)" if args.one_thread else " (default threads)").render(
        reference="torch"))
    if not args.one_thread:
        print(rerun_one_thread(os.path.abspath(__file__), args.quick))
