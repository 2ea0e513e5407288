"""tapegrad in two parts: the autograd basics in a few lines, then a small convolutional
network trained on the shipped 8x8 handwritten digits, saved, reloaded and checked.

Run: python examples/demo.py [--epochs 6] [--plot loss_curve.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import TextIO

# The matrices here are small (at most 2048 x 144): OpenBLAS's worker threads cost more
# than they save, and on a busy machine far more (measured: one thread trains 4-8x faster
# on two shared cores). Set before NumPy loads; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import tapegrad as torch  # noqa: E402
from tapegrad import nn  # noqa: E402
from tapegrad.datasets import load_digits  # noqa: E402
from tapegrad.utils.data import DataLoader, TensorDataset, random_split  # noqa: E402
from tapegrad.viz import save_line_chart  # noqa: E402


def autograd_tour() -> None:
    """A graph is recorded as code runs; backward() walks it; in-place edits are caught."""
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    print(f"y = x**2 at x = 3:           {y!r}")
    y.backward()
    print(f"after y.backward(): x.grad = {x.grad!r}   (dy/dx = 2x)")
    print(f"y.grad_fn.next_functions:    {y.grad_fn.next_functions}")
    a = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    b = a.sin()                     # sin saves its input for backward ...
    a.add_(1)                       # ... which this line then changes
    try:
        b.sum().backward()
    except RuntimeError as e:
        print(f"changing a saved value in place is caught:\n  RuntimeError: {e}")


def digits_cnn() -> nn.Sequential:
    """Two conv blocks (8x8 -> 4x4 -> 2x2) and a linear classifier: 6,090 weights."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


class ProgressBar:
    """One line redrawn with \\r on a terminal; on a pipe (CI logs) a plain line every
    ``every`` updates and at the end of each epoch, so logs stay readable."""

    def __init__(self, total: int, out: TextIO = sys.stdout, width: int = 28,
                 every: int = 20) -> None:
        self.total, self.out, self.width, self.every = total, out, width, every
        self.tty = out.isatty()
        self.updates = 0

    def update(self, epoch: str, done: int, loss: float, final: bool = False) -> None:
        self.updates += 1
        filled = self.width * done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"epoch {epoch} [{bar}] {done:4d}/{self.total} loss {loss:.4f}"
        if self.tty:
            self.out.write("\r" + line + ("\n" if final else ""))
        elif final or self.updates % self.every == 0:
            self.out.write(line + "\n")
        self.out.flush()


@dataclass
class TrainResult:
    model: nn.Module
    test_x: torch.Tensor
    test_y: torch.Tensor
    accuracy: float
    seconds: float
    losses: list[float] = field(default_factory=list)    # one per training step


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1).numpy()


def train(epochs: int = 6, seed: int = 0, batch_size: int = 32, lr: float = 1e-2,
          out: TextIO = sys.stdout) -> TrainResult:
    """Train ``digits_cnn`` on 80% of the digits (seeded split and shuffle), Adam with a
    cosine learning-rate decay; test accuracy is measured on the other 20%."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images, labels = load_digits()
    x = images.float().unsqueeze(1) / 16.0                          # (N, 1, 8, 8) in [0, 1]
    train_set, test_set = random_split(TensorDataset(x, labels), [0.8, 0.2],
                                       generator=generator)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    test_x, test_y = next(iter(DataLoader(test_set, batch_size=len(test_set))))

    model = digits_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    bar = ProgressBar(len(train_set), out)
    losses: list[float] = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for batch_x, batch_y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(batch_x), batch_y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            running += losses[-1] * len(batch_y)
            seen += len(batch_y)
            bar.update(f"{epoch}/{epochs}", seen, running / seen, final=seen == len(train_set))
    seconds = time.perf_counter() - start
    accuracy = float((predict(model, test_x) == test_y.numpy()).mean())
    return TrainResult(model, test_x, test_y, accuracy, seconds, losses)


def save_and_reload(result: TrainResult, directory: str) -> tuple[str, bool]:
    """Save the weights with tapegrad.save, load them into a fresh model; whether the two
    models predict exactly the same classes on the test set."""
    path = os.path.join(directory, "digits_cnn.safetensors")
    torch.save(result.model.state_dict(), path)
    fresh = digits_cnn()
    fresh.load_state_dict(torch.load(path))
    same = bool(np.array_equal(predict(fresh, result.test_x),
                               predict(result.model, result.test_x)))
    return path, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="loss_curve.png", help="where to write the loss curve")
    args = parser.parse_args()

    print("1. Autograd in a few lines")
    autograd_tour()

    print(f"\n2. A convolutional network on the 8x8 digits ({args.epochs} epochs)")
    print(digits_cnn())
    result = train(args.epochs, args.seed)
    steps = len(result.losses)
    print(f"trained in {result.seconds:.1f} s ({1000 * result.seconds / steps:.1f} ms per "
          f"step of 32 images); test accuracy {100 * result.accuracy:.1f}% "
          f"on {len(result.test_y)} held-out digits")

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path, same = save_and_reload(result, tmp)
    print(f"saved to {os.path.basename(path)} and reloaded into a fresh model in "
          f"{1000 * (time.perf_counter() - start):.0f} ms: identical predictions: {same}")

    save_line_chart(args.plot, result.losses)
    print(f"loss curve ({steps} steps, {result.losses[0]:.3f} -> {result.losses[-1]:.3f}) "
          f"written to {args.plot}")
    if not same or result.accuracy < 0.97:
        raise SystemExit("FAILED: reloaded predictions differ or test accuracy below 97%")


if __name__ == "__main__":
    main()
