"""W6: ``import tapegrad`` time in a fresh interpreter, net of bare Python start-up, beside
NumPy's own import time; and the installed size of tapegrad with its dependencies."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from _harness import SRC, parse_args


def start_time(code: str) -> float:
    env = dict(os.environ, PYTHONPATH=SRC)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - t0


def tree_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            fp = os.path.join(root, f)
            if not os.path.islink(fp):
                total += os.path.getsize(fp)
    return total


def run(quick: bool) -> str:
    reps = 3 if quick else 15
    rows = {}
    for name, code in (("bare python", "pass"), ("import numpy", "import numpy"),
                       ("import tapegrad", "import tapegrad")):
        rows[name] = [start_time(code) for _ in range(reps)]
    bare = statistics.median(rows["bare python"])
    lines = ["== W6: import time (fresh interpreter, median of "
             f"{reps}) ==", f"{'what':<20}{'total ms':>10}{'net of bare ms':>16}  (min-max ms)"]
    for name, ts in rows.items():
        med = statistics.median(ts)
        lines.append(f"{name:<20}{med * 1e3:>10.1f}{(med - bare) * 1e3:>16.1f}  "
                     f"({min(ts) * 1e3:.1f}-{max(ts) * 1e3:.1f})")
    net_np = statistics.median(rows["import numpy"]) - bare
    net_tg = statistics.median(rows["import tapegrad"]) - bare
    lines.append(f"tapegrad beyond numpy: {(net_tg - net_np) * 1e3:.1f} ms (target <= 50 ms)")
    import numpy
    np_dir = os.path.dirname(numpy.__file__)
    sizes = {"tapegrad (src/tapegrad)": tree_size(os.path.join(SRC, "tapegrad")),
             "numpy (with numpy.libs)": tree_size(np_dir)
             + tree_size(np_dir.rstrip("/") + ".libs" if os.path.isdir(np_dir + ".libs")
                         else os.path.join(os.path.dirname(np_dir), "numpy.libs"))}
    lines.append("installed size:")
    for k, v in sizes.items():
        lines.append(f"  {k:<28}{v / 2**20:>8.2f} MiB")
    lines.append(f"  {'total':<28}{sum(sizes.values()) / 2**20:>8.2f} MiB")
    return "\n".join(lines)


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick))
