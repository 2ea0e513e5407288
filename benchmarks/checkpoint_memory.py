"""Checkpoint memory: peak traced allocation (tracemalloc sees NumPy's buffers) of one
forward + backward of a deep tanh MLP, plain and with utils.checkpoint (non-reentrant),
and the time each takes. Checkpointing should cut the peak (activations are recomputed
in backward instead of kept) for roughly one more forward's worth of time."""

from __future__ import annotations

import statistics

from _harness import measure, np, parse_args, tapegrad
from memory import peak_of_step

from tapegrad.utils.checkpoint import checkpoint, checkpoint_sequential


def make_model(depth: int, width: int, batch: int) -> tuple:
    rng = np.random.default_rng(0)
    weights = [tapegrad.tensor(rng.standard_normal((width, width)) / np.sqrt(width),
                               dtype=tapegrad.float32, requires_grad=True)
               for _ in range(depth)]
    x = tapegrad.tensor(rng.standard_normal((batch, width)), dtype=tapegrad.float32)
    return weights, x


def layer(w: tapegrad.Tensor):
    def f(h: tapegrad.Tensor) -> tapegrad.Tensor:
        return (h @ w).tanh().sin()      # two saved activations per layer
    return f


def variants(weights: list, x: tapegrad.Tensor) -> dict:
    layers = [layer(w) for w in weights]
    segments = max(1, round(len(layers) ** 0.5))

    def plain() -> None:
        h = x
        for f in layers:
            h = f(h)
        h.sum().backward()

    def per_layer() -> None:
        h = x
        for f in layers:
            h = checkpoint(f, h, use_reentrant=False)
        h.sum().backward()

    def sequential() -> None:
        checkpoint_sequential(layers, segments, x, use_reentrant=False).sum().backward()

    return {"plain": plain, "checkpoint each layer": per_layer,
            f"checkpoint_sequential({segments})": sequential}


def peak_and_time(step, repeats: int) -> tuple[int, float]:
    # peak_of_step warms up first, so .grad arrays exist and are accumulated in place.
    return peak_of_step(step), statistics.median(measure(step, repeats))


def run(quick: bool) -> str:
    depth, width, batch = (16, 128, 512) if quick else (32, 256, 2048)
    weights, x = make_model(depth, width, batch)
    lines = [f"== Checkpoint memory: tanh-sin MLP, {depth} layers of {width}, batch {batch}, "
             "one forward + backward ==",
             f"{'variant':<28}{'peak MiB':>10}{'vs plain':>10}{'median s':>9}{'vs plain':>10}"]
    repeats = 3 if quick else 15
    results = {name: peak_and_time(step, repeats) for name, step in variants(weights, x).items()}
    base_peak, base_time = results["plain"]
    for name, (peak, seconds) in results.items():
        lines.append(f"{name:<28}{peak / 2**20:>10.2f}{peak / base_peak:>9.2f}x"
                     f"{seconds:>9.3f}{seconds / base_time:>9.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick))
