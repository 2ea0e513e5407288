"""The README's demo (examples/demo.py): its training run, on a reduced budget, reaches a
useful accuracy, and the saved model reloads to identical predictions. CI also runs the
full demo (.ci/run), which exits non-zero below 97% test accuracy."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("tapegrad_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module         # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(demo):
    return demo.train(epochs=2, seed=0, out=io.StringIO())


def test_two_epochs_of_the_demo_cnn_classify_most_held_out_digits(trained):
    assert trained.accuracy >= 0.9
    assert len(trained.losses) == 2 * 45                    # 1438 images / 32 per batch
    assert trained.losses[-1] < trained.losses[0] / 3


def test_demo_model_reloaded_from_file_predicts_identically(demo, trained, tmp_path):
    path, same = demo.save_and_reload(trained, str(tmp_path))
    assert same
    assert Path(path).stat().st_size > 6090 * 4             # every float32 weight is stored


def test_demo_training_is_reproducible_for_a_seed(demo, trained):
    # same seed: same initial weights, same split, same first batch (the learning-rate
    # schedule depends on the number of epochs, so only the first step is comparable)
    again = demo.train(epochs=1, seed=0, out=io.StringIO())
    assert again.losses[0] == trained.losses[0]
    other = demo.train(epochs=1, seed=1, out=io.StringIO())
    assert other.losses[0] != trained.losses[0]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_one_line_on_a_terminal(demo):
    out = _Terminal()
    bar = demo.ProgressBar(100, out, width=10)
    bar.update("1/1", 50, 0.5)
    bar.update("1/1", 100, 0.25, final=True)
    assert out.getvalue() == ("\repoch 1/1 [#####-----]   50/100 loss 0.5000"
                              "\repoch 1/1 [##########]  100/100 loss 0.2500\n")


def test_progress_bar_writes_plain_periodic_lines_to_a_log(demo):
    out = io.StringIO()
    bar = demo.ProgressBar(100, out, width=10, every=2)
    for done in (25, 50, 75):
        bar.update("1/1", done, 1.0)
    bar.update("1/1", 100, 1.0, final=True)
    assert "\r" not in out.getvalue()
    assert out.getvalue().splitlines() == ["epoch 1/1 [#####-----]   50/100 loss 1.0000",
                                           "epoch 1/1 [##########]  100/100 loss 1.0000"]
