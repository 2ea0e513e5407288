"""Shared by the benchmark scripts: timing, thread settings, table printing, imports.

Scripts here are not tests: they time tapegrad, PyTorch (when installed) and the same
computation written by hand in NumPy in one run and print medians (min-max) and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

import numpy as np  # noqa: E402, F401  (re-exported to the scripts)

import tapegrad  # noqa: E402, F401

try:
    import torch
except ImportError:   # PyTorch is optional: its columns are left out
    torch = None

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None


def parse_args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="few repeats (keeps the script working)")
    p.add_argument("--one-thread", action="store_true",
                   help="(internal) set BLAS/torch to one thread")
    args = p.parse_args()
    if args.one_thread and torch is not None:
        torch.set_num_threads(1)
    return args


def thread_report() -> str:
    """Thread settings in force: torch's intra-op threads and NumPy's BLAS threads."""
    parts = [f"cpus={os.cpu_count()}"]
    if torch is not None:
        parts.append(f"torch.get_num_threads()={torch.get_num_threads()}")
    if threadpoolctl is not None:
        for info in threadpoolctl.threadpool_info():
            parts.append(f"numpy {info['internal_api']} threads={info['num_threads']}")
    else:
        env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                "MKL_NUM_THREADS")}
        parts.append("numpy BLAS env: " + ", ".join(f"{k}={v or 'unset'}" for k, v in env.items()))
    return "; ".join(parts)


def measure(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def measure_each(impls: dict[str, Callable[[], object]], repeats: int,
                 warmup: int = 2) -> dict[str, list[float]]:
    """``measure`` for each implementation, after warming up all of them first.

    The C allocator's thresholds (glibc raises its mmap and trim thresholds after large
    frees) are process-wide, so whichever implementation is timed first would otherwise
    run in a colder allocator state than the others (several times more page faults for
    the 4 MB arrays of W3). Warming every implementation first times them all alike.
    """
    for fn in impls.values():
        for _ in range(warmup):
            fn()
    return {name: measure(fn, repeats, warmup=0) for name, fn in impls.items()}


class Table:
    """Rows of (workload, implementation, times); ratios against a reference column."""

    def __init__(self, title: str, unit: str, scale: float) -> None:
        self.title, self.unit, self.scale = title, unit, scale
        self.rows: list[tuple[str, str, list[float]]] = []

    def add(self, workload: str, impl: str, times: list[float], per: float = 1.0) -> None:
        self.rows.append((workload, impl, [t / per for t in times]))

    def median(self, workload: str, impl: str) -> float | None:
        for w, i, ts in self.rows:
            if w == workload and i == impl:
                return statistics.median(ts)
        return None

    def render(self, reference: str = "numpy") -> str:
        lines = [f"== {self.title} ==", f"   {thread_report()}",
                 f"{'workload':<34}{'impl':<18}{'median ' + self.unit:>14}  {'(min-max)':<22}"
                 f"{'vs ' + reference:>10}" + (f"{'vs torch':>10}" if reference != "torch" else "")]
        for w, impl, ts in self.rows:
            med = statistics.median(ts)
            ref = self.median(w, reference)
            tref = self.median(w, "torch")
            r1 = f"{med / ref:.2f}x" if ref else "-"
            r2 = f"{med / tref:.2f}x" if tref else "-"
            span = f"({min(ts) * self.scale:.3g}-{max(ts) * self.scale:.3g})"
            tail = f"{r2:>10}" if reference != "torch" else ""
            lines.append(f"{w:<34}{impl:<18}{med * self.scale:>14.4g}  {span:<22}{r1:>10}{tail}")
        return "\n".join(lines)


def rerun_one_thread(script: str, quick: bool) -> str:
    """Run ``script`` again in a subprocess with BLAS/OpenMP pinned to one thread."""
    import subprocess
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, script, "--one-thread"] + (["--quick"] if quick else [])
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return res.stdout + (res.stderr if res.returncode else "")
