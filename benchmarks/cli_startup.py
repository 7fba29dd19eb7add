"""How long ``fairlatent --help``, ``audit --help`` and ``--version`` take, and what they import.

For each command and each checkout given (default: this one), the command runs ``--repeats``
times in a fresh interpreter; the table shows the best wall time, the import time Python itself
reports (``-X importtime``: the cumulative time of every top-level import, summed) and whether
torch or scikit-learn was imported.

    OMP_NUM_THREADS=1 python benchmarks/cli_startup.py --root /path/to/older/checkout --root .

Wall times depend on the machine's load; compare rows measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
COMMANDS = (("--help",), ("audit", "--help"), ("--version",))
PROBE = """
import json, runpy, sys
sys.argv = ["fairlatent", *sys.argv[1:]]
try:
    runpy.run_module("fairlatent.cli", run_name="__main__")
except SystemExit:
    pass
heavy = [m for m in ("torch", "sklearn", "pandas") if m in sys.modules]
sys.stderr.write("PROBE " + json.dumps(heavy) + "\\n")
"""


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200", "OMP_NUM_THREADS": "1"}


def best_wall(root: Path, args: tuple[str, ...], repeats: int) -> float:
    """Best wall time of ``python -m fairlatent.cli ARGS`` over ``repeats`` fresh runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "fairlatent.cli", *args], env=_env(root), cwd=root,
            capture_output=True, check=True,
        )
        times.append(time.perf_counter() - started)
    return min(times)


def import_seconds(root: Path, args: tuple[str, ...]) -> float:
    """Python's own import time for the command: top-level cumulative entries, summed."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fairlatent.cli", *args], env=_env(root),
        cwd=root, capture_output=True, text=True, check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if found and not found.group(2).startswith(" "):  # a top-level import
            total += int(found.group(1))
    return total / 1e6


def heavy_imports(root: Path, args: tuple[str, ...]) -> list[str]:
    """Which of torch, sklearn and pandas the command imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=_env(root), cwd=root, capture_output=True,
        text=True, check=True,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", action="append", type=Path, help="checkout(s) to time")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    roots = options.root or [HERE]
    print(f"{'checkout':<28} {'command':<16} {'best wall s':>11} {'imports s':>10}  heavy imports")
    for root in roots:
        root = root.resolve()
        for args in COMMANDS:
            wall = best_wall(root, args, options.repeats)
            imports = import_seconds(root, args)
            heavy = ", ".join(heavy_imports(root, args)) or "none"
            print(f"{str(root)[-28:]:<28} {' '.join(args):<16} {wall:>11.2f} {imports:>10.2f}  {heavy}")


if __name__ == "__main__":
    main()
