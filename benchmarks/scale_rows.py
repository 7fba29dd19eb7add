"""A full ``fairlatent audit`` on Adult resampled to 10k, 100k and 1M rows: wall time, peak memory.

Usage (from the repository root)::

    .venv/bin/python benchmarks/scale_rows.py --json /tmp/scale_rows.json
    .venv/bin/python benchmarks/scale_rows.py --sizes 10000,100000 --configs models

Data: Adult (bundled ``examples/adult.csv.gz`` or ``--data``; 15 columns) resampled with
replacement to each size, with noise on the numeric columns (``harness.resample_rows``), written
to a CSV in a temporary directory.

Two audits per size, each in a fresh process with the library's defaults otherwise (classifiers
logreg and hgb, tuning on, 200 bootstrap replicates, one repeat, one process, the thread policy):

* ``baseline``: ``--strategies none,reweigh``;
* ``models``: ``--strategies vae,gan --epochs E --fit-sample 50000`` (the models train on a
  stratified sample of at most 50,000 rows; classifiers and metrics use every row).

Each audit runs in a child of this script that times itself, samples its own resident memory
every 0.2 s and reads its peak (``VmHWM``) at the end, so the figure is the audit's alone (this
parent's memory is not inherited into it). The child also records the audit's progress steps
(reading the file, each strategy and classifier, the report) with the time and memory at each, so
that a peak can be pinned to the step that caused it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(report: Path, argv: list[str]) -> None:
    """Run ``fairlatent <argv>`` in this process; write time, memory and steps to ``report``."""
    started = time.perf_counter()
    samples: list[tuple[float, int]] = []
    steps: list[dict[str, Any]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - started, _status_kib("VmRSS")))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    import fairlatent.api as api
    import fairlatent.data.io as io
    from fairlatent.cli import app

    def mark(step: str) -> None:
        steps.append({"t": time.perf_counter() - started, "step": step,
                      "rss_mib": _status_kib("VmRSS") / 1024})

    read_table = io.read_table

    def traced_read(path: Any) -> Any:
        mark("read file")
        frame = read_table(path)
        mark(f"file read: {len(frame):,} rows")
        return frame

    io.read_table = traced_read  # type: ignore[assignment]
    load_and_audit = api.load_and_audit

    def traced_audit(path: Any, config: Any, progress: Any = None, callbacks: Any = None) -> Any:
        def step(description: str, done: int, total: int) -> None:
            if not steps or steps[-1]["step"] != description:
                mark(description)
            if progress:
                progress(description, done, total)

        result = load_and_audit(path, config, progress=step, callbacks=callbacks)
        mark("writing report")
        return result

    api.load_and_audit = traced_audit  # type: ignore[assignment]
    code = 0
    try:
        app(argv, standalone_mode=False)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    except Exception as err:  # noqa: BLE001 - reported, not hidden
        code = 1
        steps.append({"t": time.perf_counter() - started, "step": f"error: {err!r}"[:300],
                      "rss_mib": _status_kib("VmRSS") / 1024})
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - started
    mark("exit")
    for i, entry in enumerate(steps):  # the peak from this step's start to the next step's
        end = steps[i + 1]["t"] if i + 1 < len(steps) else seconds
        window = [kib / 1024 for t, kib in samples if entry["t"] <= t <= end]
        entry["peak_mib"] = max([entry["rss_mib"], *window])
    report.write_text(json.dumps({
        "seconds": seconds, "exit": code, "peak_rss_mib": _status_kib("VmHWM") / 1024,
        "steps": steps,
    }), encoding="utf-8")


def run_audit(data: Path, rows: int, config: str, args: argparse.Namespace) -> dict[str, Any]:
    common = ["audit", str(data), "--target", "income", "--sensitive", "sex", "-q"]
    if config == "baseline":
        extra = ["--strategies", "none,reweigh"]
    else:
        extra = ["--strategies", "vae,gan", "--epochs", str(args.epochs),
                 "--fit-sample", str(args.fit_sample)]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "child.json"
        argv = [*common, *extra, "--out", str(Path(tmp) / "report")]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, __file__, "--child", str(report), "--", *argv]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=args.timeout, check=False)
        if not report.is_file():
            return {"rows": rows, "config": config, "exit": done.returncode,
                    "stderr": done.stderr[-2000:]}
        figures = json.loads(report.read_text())
    figures.update(rows=rows, config=config, command="fairlatent " + " ".join(argv[:2])
                   + " " + " ".join(argv[2:-2]))
    if figures["exit"]:
        figures["stderr"] = done.stderr[-2000:]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--configs", default="baseline,models")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fit-sample", type=int, default=50_000)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per audit")
    parser.add_argument("--json", type=Path)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, [a for a in rest if a != "--"])
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import load_avg, md_table, read_adult, resample_rows, run_meta

    adult = read_adult(args.data)
    meta = run_meta(cpu_count=os.cpu_count(), load_before=load_avg())
    print(f"scale_rows: load {meta['load_before']}", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"adult_{rows}.csv"
            tick = time.perf_counter()
            resample_rows(adult, rows, seed=0).to_csv(path, index=False)
            mib = path.stat().st_size / 2**20
            print(f"  {rows:,} rows: {mib:.0f} MiB CSV written in "
                  f"{time.perf_counter() - tick:.1f} s", flush=True)
            for config in args.configs.split(","):
                figures = run_audit(path, rows, config, args)
                figures["load_after"] = load_avg()
                figures["csv_mib"] = mib
                results.append(figures)
                print(f"    {config}: exit {figures['exit']}, "
                      f"{figures.get('seconds', float('nan')):.1f} s, peak "
                      f"{figures.get('peak_rss_mib', float('nan')):.0f} MiB, "
                      f"load {figures['load_after'][0]}", flush=True)
                for step in figures.get("steps", []):
                    print(f"      {step['t']:8.1f} s  {step['peak_mib']:7.0f} MiB  {step['step']}",
                          flush=True)
                if figures["exit"]:
                    print(figures.get("stderr", ""), flush=True)

    table = []
    base: dict[str, float] = {}
    for r in results:
        if r["exit"]:
            table.append([f"{r['rows']:,}", r["config"], "failed", None, None, None])
            continue
        per_row = r["seconds"] / r["rows"] * 1e6
        base.setdefault(r["config"], per_row)
        table.append([f"{r['rows']:,}", r["config"], r["seconds"], per_row,
                      per_row / base[r["config"]], r["peak_rss_mib"]])
    text = md_table(["rows", "audit", "wall s", "µs per row", "per row vs smallest",
                     "peak RSS MiB"], table)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results, "table": text},
                                        indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
