"""Run every benchmark and print all tables: ``python3 benchmarks/run_all.py [--quick]``.

Each script runs in its own interpreter so thread settings and import state do not leak
between them; large-tensor workloads print a default-threads and a one-thread table.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPTS = ("w1_scalar_chain.py", "w2_mlp_step.py", "w3_elementwise.py", "w4_hvp.py",
           "w5_scalar_mlp.py", "w6_import.py", "memory.py", "checkpoint_memory.py")


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    failed = []
    for script in SCRIPTS:
        res = subprocess.run([sys.executable, os.path.join(here, script), *extra], check=False)
        print(flush=True)
        if res.returncode:
            failed.append(script)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
