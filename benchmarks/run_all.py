"""Run every benchmark in sequence and print their tables (what `make bench` does).

Each script is also runnable on its own; see benchmarks/RESULTS.md for the recorded figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = [
    ["vae_reconstruction.py"],
    ["vae_speed.py"],
    ["gan_quality.py"],
    ["fairness_vs_peers.py", "--sensitive", "sex"],
]


def main() -> int:
    status = 0
    for script, *args in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"skip {script}: not present")
            continue
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        status |= subprocess.call([sys.executable, str(path), *args])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
