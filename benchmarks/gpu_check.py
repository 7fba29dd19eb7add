"""One prepared GPU check: VAE and GAN speed on CPU and GPU, bf16 and torch.compile on and off,
peak GPU memory, host syncs per epoch, and the full ``make demo`` audit time.

Usage (from the repository root, on a machine with one CUDA GPU; about 4 minutes on an H100/H200
class GPU)::

    .venv/bin/python benchmarks/gpu_check.py --json /tmp/gpu_check.json

    # the same script on the CPU, tiny data, no compile (well under a minute; the slow-marked
    # test tests/benchmarks/test_gpu_check.py runs this so the script cannot rot)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --rows 2000 --quick

What it measures, printed as it goes and summed up in one table at the end:

1. The environment: torch and CUDA versions, the GPU, whether it does bf16.
2. For the VAE and the GAN (default networks and batch sizes), on Adult (48,842 rows, bundled) and
   on Adult resampled with noise on the numeric columns to ``--rows`` rows (default 1,000,000):
   seconds per epoch (median of epochs 2..E; epoch 1 pays the set-up and any compilation, shown
   separately) on the CPU (``--cpu-threads``, default: the thread policy) and on the device,
   plain, with ``bf16=True`` and (on Adult: the time per step does not depend on the table's size,
   and every compiled fit pays the compilation again) with ``compile=True``; the peak GPU memory
   of each device fit; the host synchronisations during one plain fit
   (``torch.cuda.set_sync_debug_mode``), per epoch.
   The GAN on the CPU at ``--rows`` rows would take minutes per epoch: its figure is the Adult
   figure scaled by the row count (marked "est.", as both scale linearly in the rows).
3. ``fairlatent audit examples/adult.csv.gz --target income --sensitive sex --strategies
   none,reweigh,vae,gan,vae+gan --device DEVICE``: the ``make demo`` audit, timed end to end in
   a subprocess (with ``--quick``: on ``--rows`` rows with ``--epochs 1``, ``--classifiers logreg``
   and ``--n-boot 20``).

``--quick``: ``--rows`` rows stand in for both tables, 2 epochs, no compile (it costs tens of
seconds on a CPU), the audit on the small table. Nothing here changes a default: whether bf16 or
compile should become the default on GPUs is for a human to decide from these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from harness import ADULT, md_table, read_adult, resample_rows, run_meta

from fairlatent.models.device import resolve_device
from fairlatent.models.gan import TabularGAN
from fairlatent.models.threads import apply_thread_policy
from fairlatent.models.vae import TabularVAE

ROOT = Path(__file__).resolve().parent.parent
DEMO = ["--target", "income", "--sensitive", "sex", "--strategies", "none,reweigh,vae,gan,vae+gan"]


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def build(model: str, device: str, epochs: int, **options: Any) -> Any:
    common = {"epochs": epochs, "device": device, "random_state": 0, **options}
    if model == "vae":
        return TabularVAE(patience=None, **common)
    return TabularGAN(condition_columns=["sex", "income"], **common)


def timed_fit(model: str, frame: pd.DataFrame, device: str, epochs: int, **options: Any) -> dict:
    """Fit once; seconds per epoch (median after the first), first epoch, peak GPU memory."""
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    estimator = build(model, device, epochs, **options).fit(frame)
    seconds = [float(h["seconds"]) for h in estimator.history_]
    figures = {
        "s_epoch": float(np.median(seconds[1:])) if len(seconds) > 1 else seconds[0],
        "first_epoch_s": seconds[0],
        "fit_s": time.perf_counter() - started,
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "loss": float(estimator.history_[-1]["loss"]),
    }
    del estimator
    if cuda:
        torch.cuda.empty_cache()
    return figures


def syncs_per_epoch(model: str, frame: pd.DataFrame, device: str, epochs: int) -> float | None:
    """Host synchronisations of one plain fit, per epoch (None off CUDA)."""
    if not device.startswith("cuda"):
        return None
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build(model, device, epochs).fit(frame)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught) / epochs


def environment(device: str) -> dict[str, Any]:
    info = run_meta(
        torch=torch.__version__,
        cuda_build=torch.version.cuda,
        device=device,
        cpu_count=os.cpu_count(),
    )
    if device.startswith("cuda"):
        index = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(index)
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            capability=f"{props.major}.{props.minor}",
            bf16=torch.cuda.is_bf16_supported(),
        )
    return info


def demo_audit(
    device: str, data: Path, epochs: int | None, threads: int | None, extra: list[str]
) -> dict:
    """The ``make demo`` audit in a fresh process, timed end to end."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "fairlatent.cli", "audit", str(data), *DEMO,
               "--device", device, "--out", str(Path(tmp) / "report"), "-q", *extra]
        if epochs is not None:
            cmd += ["--epochs", str(epochs)]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        metrics = Path(tmp) / "report" / "metrics.json"
        fit = {}
        if done.returncode == 0 and metrics.is_file():
            info = json.loads(metrics.read_text()).get("strategies", {})
            # seconds spent fitting and transforming per strategy (the models train in either)
            fit = {k: round(sum(v.get("fit_seconds", [])) + sum(v.get("transform_seconds", [])), 1)
                   for k, v in info.items()}
    return {"seconds": seconds, "returncode": done.returncode, "strategy_seconds": fit,
            "command": " ".join(cmd[1:]), "stderr_tail": done.stderr[-1500:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda", help="the device under test (cuda, cuda:1, cpu)")
    parser.add_argument("--data", type=Path, default=ADULT)
    parser.add_argument("--rows", type=int, default=1_000_000, help="the large table's rows")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each fit on Adult")
    parser.add_argument("--big-epochs", type=int, default=2, help="epochs at --rows rows")
    parser.add_argument("--cpu-threads", type=int, help="CPU threads (default: the policy)")
    parser.add_argument("--quick", action="store_true", help="tiny: --rows rows only, no compile")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    threads = apply_thread_policy(args.cpu_threads)
    device = str(resolve_device(args.device))  # a bad or absent device fails here, before work
    on_gpu = device.startswith("cuda")
    info = environment(device)
    info["cpu_threads"] = threads
    say("gpu_check:", json.dumps(info))
    started = time.perf_counter()

    adult = read_adult(args.data)
    if args.quick:
        small = resample_rows(adult, args.rows, seed=0)
        tables = {f"{args.rows:,} rows": (small, 2)}
    else:
        tables = {"Adult": (adult, args.epochs),
                  f"{args.rows:,} rows": (resample_rows(adult, args.rows, seed=0),
                                          args.big_epochs)}
    variants: dict[str, dict[str, Any]] = {"plain": {}, "bf16": {"bf16": True}}
    if not args.quick:
        variants["compile"] = {"compile": True}

    results: list[dict[str, Any]] = []
    rows_out = []
    cpu_rate: dict[str, float] = {}  # s per row per epoch on the CPU, from the first table
    for label, (frame, epochs) in tables.items():
        for model in ("vae", "gan"):
            entry: dict[str, Any] = {"table": label, "rows": len(frame), "model": model}
            estimate = model == "gan" and len(frame) > 200_000 and model in cpu_rate
            if estimate:
                entry["cpu_s_epoch"] = cpu_rate[model] * len(frame)
                entry["cpu_estimated"] = True
            elif not on_gpu:
                pass  # the device under test is the CPU: its plain fit is the CPU figure
            else:
                cpu = timed_fit(model, frame, "cpu", epochs if len(frame) <= 200_000 else 2)
                entry["cpu_s_epoch"] = cpu["s_epoch"]
                cpu_rate.setdefault(model, cpu["s_epoch"] / len(frame))
            if on_gpu:
                say(f"  {label} {model}: cpu {entry['cpu_s_epoch']:.3f} s/epoch"
                    f"{' (est.)' if estimate else ''}")
                for name, options in variants.items():
                    if name == "compile" and label != "Adult":
                        continue
                    fit = timed_fit(model, frame, device, epochs, **options)
                    entry[name] = fit
                    say(f"  {label} {model}: {device} {name} {fit['s_epoch']:.3f} s/epoch "
                        f"(epoch 1 {fit['first_epoch_s']:.1f} s), peak "
                        f"{fit['peak_gpu_mib']:.0f} MiB, loss {fit['loss']:.4g}")
                entry["syncs_per_epoch"] = syncs_per_epoch(model, adult.head(20_000), device, 2)
                say(f"  {model}: host syncs per epoch {entry['syncs_per_epoch']}")
            else:
                for name, options in variants.items():
                    entry[name] = timed_fit(model, frame, device, epochs, **options)
                    say(f"  {label} {model}: {device} {name} {entry[name]['s_epoch']:.3f} s/epoch")
                entry["cpu_s_epoch"] = entry["plain"]["s_epoch"]
            results.append(entry)
            plain = entry["plain"]["s_epoch"]

            def cell(name: str, entry: dict[str, Any] = entry) -> Any:
                return entry[name]["s_epoch"] if name in entry else "not run"

            rows_out.append([
                label, model.upper(),
                ("~" if entry.get("cpu_estimated") else "") + f"{entry['cpu_s_epoch']:.3g}",
                plain, cell("bf16"), cell("compile"),
                entry["cpu_s_epoch"] / plain,
                entry["plain"]["peak_gpu_mib"],
                entry.get("syncs_per_epoch"),
            ])

    demo = None
    if not args.skip_demo:
        if args.quick:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "small.csv"
                resample_rows(adult, args.rows, seed=1).to_csv(path, index=False)
                quick = ["--classifiers", "logreg", "--n-boot", "20"]
                demo = demo_audit(device, path, 1, args.cpu_threads, quick)
        else:
            demo = demo_audit(device, args.data, None, args.cpu_threads, [])
        say(f"  demo audit: {demo['seconds']:.1f} s (exit {demo['returncode']}); "
            f"per strategy (fit + transform) {demo['strategy_seconds']}")
        if demo["returncode"]:
            say(demo["stderr_tail"])

    headers = ["table", "model", "CPU s/epoch", f"{device} s/epoch", "bf16 s/epoch",
               "compile s/epoch", "CPU / device", "peak GPU MiB", "host syncs / epoch"]
    say()
    say(md_table(headers, rows_out))
    if demo is not None:
        say(f"\n`make demo` audit on {device}: {demo['seconds']:.1f} s "
            f"(exit {demo['returncode']})")
    say(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"environment": info, "fits": results, "demo": demo},
                                        indent=1, default=str), encoding="utf-8")
    if demo is not None and demo["returncode"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
