"""W1: a 1-element tensor through 1,000 elementwise ops (mul, add, sin, exp), then backward.

Measures the Python overhead per recorded op: microseconds per op, forward and backward
separately. Hand-written NumPy keeps the values it needs and applies the chain rule itself.
"""

from __future__ import annotations

import time

from _harness import Table, np, parse_args, tapegrad, torch

N_OPS = 1000


def chain(lib, x):
    for _ in range(N_OPS // 4):
        x = x * 0.5
        x = x + 0.1
        x = lib.sin(x)
        x = lib.exp(x)
    return x


def numpy_forward_backward(x0: np.ndarray) -> tuple:
    saved = []
    x = x0
    for _ in range(N_OPS // 4):
        x = x * np.float32(0.5)
        x = x + np.float32(0.1)
        saved.append(x)
        x = np.sin(x)
        x = np.exp(x)
        saved.append(x)
    return x, saved


def numpy_backward(saved: list) -> np.ndarray:
    g = np.ones(1, np.float32)
    for i in range(len(saved) - 1, 0, -2):
        g = g * saved[i]                 # exp' = result
        g = g * np.cos(saved[i - 1])     # sin' = cos(input)
        g = g * np.float32(0.5)          # add' = 1, mul' = 0.5
    return g


def run(quick: bool) -> Table:
    reps = 5 if quick else 30
    table = Table("W1: 1-element tensor, chain of 1,000 ops", "us/op", 1e6)
    data = np.array([0.3], np.float32)
    impls = {}

    def tg_pair():
        x = tapegrad.tensor(data, requires_grad=True)
        return x, chain(tapegrad, x)
    impls["tapegrad"] = (tg_pair, lambda pair: pair[1].backward())
    if torch is not None:
        def th_pair():
            x = torch.tensor(data, requires_grad=True)
            return x, chain(torch, x)
        impls["torch"] = (th_pair, lambda pair: pair[1].backward())
    impls["numpy"] = (lambda: numpy_forward_backward(data), lambda pair: numpy_backward(pair[1]))

    for name, (fwd, bwd) in impls.items():
        f_times, b_times = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            pair = fwd()
            t1 = time.perf_counter()
            bwd(pair)
            t2 = time.perf_counter()
            f_times.append(t1 - t0)
            b_times.append(t2 - t1)
            del pair
        table.add("forward", name, f_times, N_OPS)
        table.add("backward", name, b_times, N_OPS)
        table.add("forward+backward", name, [a + b for a, b in zip(f_times, b_times)], N_OPS)
    return table


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick).render(reference="torch"))
