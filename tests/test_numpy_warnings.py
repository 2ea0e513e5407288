"""tapegrad, like torch, computes nan and inf quietly; the user's own NumPy code still warns.

Run in a fresh interpreter: pytest resets the warning filters around collection, which would
hide what a user's script sees.
"""

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = """
import sys
sys.path.insert(0, {src!r})
import numpy as np
import tapegrad as tg
print(repr(tg.log(tg.tensor([-1.0, 0.0]))), repr(tg.sqrt(tg.tensor(-1.0))))
print(repr(tg.tensor([1.0, 0.0]) / 0), repr(tg.exp(tg.tensor(1000.0))))
x = tg.tensor([0.0, -1.0], requires_grad=True)
tg.sqrt(x).sum().backward()
print(repr(x.grad))
{user_code}
"""


def _run(user_code: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "default", "-c",
                           SCRIPT.format(src=str(SRC), user_code=user_code)],
                          capture_output=True, text=True, timeout=60)


def test_nan_and_inf_are_computed_quietly_forward_and_backward() -> None:
    done = _run()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["tensor([nan, -inf]) tensor(nan)",
                                        "tensor([inf, nan]) tensor(inf)",
                                        "tensor([inf, nan])"]
    assert done.stderr == ""


def test_numpy_code_of_the_user_keeps_its_warnings() -> None:
    done = _run("np.log(np.array(-1.0))")
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning: invalid value encountered in log" in done.stderr
    assert "tapegrad" not in done.stderr
