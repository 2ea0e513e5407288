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
from tapegrad.viz import examples  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def _names_by_id(names: dict) -> dict:
    """explain()'s ``names``: the example's tensors by id."""
    return {id(t): n for n, t in names.items()}


def square() -> str:
    y, leaves = examples.square()
    names = {"y": y, **leaves}
    out = io.StringIO()
    viz.explain(y, names=_names_by_id(names), file=out)
    viz.draw(y, names=names).save(IMAGES / "viz_square.svg")
    return out.getvalue()


def logistic() -> str:
    loss, params = examples.logistic()
    out = io.StringIO()
    viz.explain(loss, names=_names_by_id({"loss": loss, **params}), file=out)
    viz.draw(loss, params=params).save(IMAGES / "viz_logistic.svg")
    return out.getvalue()


def mlp() -> str:
    loss, params = examples.mlp()
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
