"""Regenerate the pictures of docs/visualization.md (docs/images/viz_*.svg) and print the
explanations shown there: ``python tools/make_viz_docs.py``."""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import tapegrad as torch  # noqa: E402
from tapegrad import viz  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def square() -> str:
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    out = io.StringIO()
    viz.explain(y, file=out)
    viz.draw(y).save(IMAGES / "viz_square.svg")
    return out.getvalue()


def logistic() -> str:
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(-0.2, requires_grad=True)
    t = 1.0
    p = torch.sigmoid(w * 6.7 + b)
    loss = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    out = io.StringIO()
    viz.explain(loss, file=out)
    viz.draw(loss, params={"w": w, "b": b}).save(IMAGES / "viz_logistic.svg")
    return out.getvalue()


def mlp() -> str:
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    w1 = torch.randn(3, 5, requires_grad=True)
    b1 = torch.zeros(5, requires_grad=True)
    w2 = torch.randn(5, 1, requires_grad=True)
    b2 = torch.zeros(1, requires_grad=True)
    h = torch.relu(torch.matmul(x, w1) + b1)
    out = torch.tanh(torch.matmul(h, w2) + b2)
    loss = (out * out).mean()
    params = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
    viz.draw(loss, params=params).save(IMAGES / "viz_mlp.svg")
    viz.draw(loss, params=params, show_saved=True).save(IMAGES / "viz_mlp_saved.svg")
    text = io.StringIO()
    viz.explain(loss, params=params, file=text)
    viz.draw(loss, params=params).save(IMAGES / "viz_mlp_after_backward.svg")
    return text.getvalue()


def chain() -> None:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(120):
        y = y * 1.01
    y = torch.sin(y)
    viz.draw(y).save(IMAGES / "viz_chain.svg")


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    for make in (square, logistic, mlp):
        print(f"== {make.__name__}\n{make()}")
    chain()
