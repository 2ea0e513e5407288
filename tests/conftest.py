"""Make ``import tapegrad`` work from a source checkout that is not installed."""

import importlib.util
import pathlib
import sys

if importlib.util.find_spec("tapegrad") is None:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "src"))
