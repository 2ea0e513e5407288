"""Memory: peak traced allocation of one W2 training step (tracemalloc sees NumPy's
buffers) against hand-written NumPy's, and memory over many training steps (flat = the
last reading within +-5% of the first after warm-up)."""

from __future__ import annotations

import resource
import tracemalloc

from _harness import parse_args
from w2_mlp_step import implementations, make_data

SMALL_SIZES = (64, 32, 32, 10)
WARMUP_STEPS = 5_000


def peak_of_step(step) -> int:
    step()                      # warm-up: parameters' .grad arrays exist from here on
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run(quick: bool) -> str:
    params, x, _, onehot = make_data()
    lines = ["== Memory: peak traced allocation of one W2 step ==",
             f"{'impl':<12}{'peak MiB':>10}{'vs numpy':>10}"]
    peaks = {name: peak_of_step(step) for name, step in
             implementations(params, x, onehot).items() if name != "torch"}
    for name, p in peaks.items():
        lines.append(f"{name:<12}{p / 2**20:>10.2f}{p / peaks['numpy']:>9.2f}x")
    n_steps = 500 if quick else 10_000
    every = n_steps // 10
    params, x, _, onehot = make_data(sizes=SMALL_SIZES, batch=32)
    step = implementations(params, x, onehot)["tapegrad"]
    lines.append(f"== Memory over {n_steps} training steps after {WARMUP_STEPS} warm-up, "
                 f"MLP {SMALL_SIZES}, batch 32 (tapegrad) ==")
    lines.append(f"{'step':>8}{'RSS MiB':>10}{'traced KiB':>12}")
    # NumPy keeps bounded caches of small dimension/stride and data blocks (at most 7 per
    # size) that tracemalloc counts; they fill over the first several thousand steps (the
    # fewer blocks a step allocates, the slower), so readings start after this warm-up.
    tracemalloc.start()
    for _ in range(WARMUP_STEPS):
        step()
    readings = []
    for i in range(1, n_steps + 1):
        step()
        if i % every == 0:
            cur = tracemalloc.get_traced_memory()[0]
            readings.append(cur)
            lines.append(f"{i:>8}{rss_mib():>10.1f}{cur / 1024:>12.1f}")
    tracemalloc.stop()
    drift = readings[-1] / readings[0] - 1
    lines.append(f"traced memory drift first->last reading: {drift * 100:+.1f}% "
                 f"({'flat' if abs(drift) <= 0.05 else 'NOT flat'})")
    return "\n".join(lines)


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick))
