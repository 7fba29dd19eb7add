"""Thread policy: seconds per epoch of the VAE and the GAN at the policy's default thread count,
at one thread and at every usable core, on a quiet machine and next to a busy neighbour.

Usage (from the repository root)::

    .venv/bin/python benchmarks/threads.py --epochs 3 --rounds 2 --json /tmp/threads.json

Data: Adult (the bundled ``examples/adult.csv.gz``, or ``--data PATH``), all 48,842 rows, with
each model's default network and batch size (VAE: 10% of the rows held out for validation, whose
pass counts in the epoch; GAN: conditioned on ``["sex", "income"]``).

Conditions:

* ``quiet``: nothing started by this script runs next to the fits (other users of a shared
  machine may; the 1-minute load average is recorded before and after);
* ``busy``: a neighbour process runs a second fit (the VAE on Adult, at ``--neighbour-threads``,
  default 1: a second fairlatent job under the default policy) for the whole condition.

In each round every thread count fits each model for ``--epochs`` epochs, in rotating order; the
figure is the median seconds of epochs 2..E (epoch 1 pays one-off set-up) over the rounds. A fit
that has run longer than ``--cap`` seconds is stopped after its second epoch (its epochs are
complete, there are just fewer of them; such figures are marked ``*``). ``--wait-quiet L`` waits
(up to ``--max-wait`` seconds) before each round of the quiet condition until the machine's
1-minute load average is below ``L``, for a shared machine that is rarely idle.

The policy default is resolved as a fresh process without ``FAIRLATENT_THREADS`` or
``OMP_NUM_THREADS`` would resolve it (this script removes both from its own environment).
"""

from __future__ import annotations

import os

for _name in ("FAIRLATENT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.pop(_name, None)  # before torch is imported: the policy default, not an override

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from harness import ADULT, load_avg, md_table, read_adult, run_meta  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from fairlatent.models.gan import TabularGAN  # noqa: E402
from fairlatent.models.threads import (  # noqa: E402
    apply_thread_policy,
    cgroup_cpu_limit,
    resolve_threads,
    usable_cores,
)
from fairlatent.models.vae import TabularVAE  # noqa: E402


class _Cut(Exception):
    """Raised by the epoch callback to stop a fit that exceeded the time cap."""


def set_count(n: int) -> None:
    torch.set_num_threads(n)
    threadpool_limits(limits=n)


def fit_seconds(model: str, frame: pd.DataFrame, epochs: int, cap: float) -> tuple[list[float], bool]:
    """Seconds of each epoch of one fit (cut after epoch 2 when over ``cap``)."""
    seconds: list[float] = []
    started = time.perf_counter()

    def mark(epoch: int, total: int, metrics: Any) -> None:
        seconds.append(float(metrics["seconds"]))
        if epoch >= 2 and epoch < total and time.perf_counter() - started > cap:
            raise _Cut

    if model == "vae":
        estimator: Any = TabularVAE(epochs=epochs, patience=None, device="cpu", random_state=0)
    else:
        estimator = TabularGAN(
            condition_columns=["sex", "income"], epochs=epochs, device="cpu", random_state=0
        )
    try:
        estimator.fit(frame, callbacks=[mark])
    except _Cut:
        return seconds, True
    return seconds, False


def neighbour(data: Path, threads: int) -> None:
    """The busy neighbour: one long VAE fit; prints ``ready`` after its first epoch."""
    apply_thread_policy(threads)
    frame = read_adult(data)

    def ready(epoch: int, epochs: int, metrics: Any) -> None:
        if epoch == 1:
            print("ready", flush=True)

    TabularVAE(epochs=10**6, patience=None, device="cpu", random_state=1).fit(
        frame, callbacks=[ready]
    )


def start_neighbour(data: Path, threads: int) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--neighbour", "--data", str(data),
           "--neighbour-threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the neighbour process did not start")
    return proc


def measure(
    frame: pd.DataFrame, counts: list[int], args: argparse.Namespace, quiet_gate: float | None
) -> dict[str, dict[int, dict[str, Any]]]:
    """{model: {threads: {"epochs": [...], "cut": bool}}} over the rounds."""
    out: dict[str, dict[int, dict[str, Any]]] = {
        m: {n: {"epochs": [], "cut": False} for n in counts} for m in ("vae", "gan")
    }
    for r in range(args.rounds):
        if quiet_gate is not None:
            waited = time.perf_counter()
            while load_avg()[0] >= quiet_gate and time.perf_counter() - waited < args.max_wait:
                time.sleep(10)
            print(f"    round {r + 1}: load {load_avg()[0]} after waiting "
                  f"{time.perf_counter() - waited:.0f} s", flush=True)
        order = counts[r % len(counts):] + counts[: r % len(counts)]
        for model in ("vae", "gan"):
            for n in order:
                set_count(n)
                seconds, cut = fit_seconds(model, frame, args.epochs, args.cap)
                cell = out[model][n]
                cell["epochs"] += seconds[1:]
                cell["cut"] = cell["cut"] or cut
                print(f"    round {r + 1} {model} {n} thread(s): "
                      f"{', '.join(f'{s:.3f}' for s in seconds)} s/epoch"
                      f"{' (cut)' if cut else ''}; load {load_avg()[0]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ADULT)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cap", type=float, default=30.0, help="seconds before a fit is cut")
    parser.add_argument("--conditions", default="quiet,busy")
    parser.add_argument("--neighbour-threads", type=int, default=1)
    parser.add_argument("--wait-quiet", type=float, help="quiet rounds wait for load below this")
    parser.add_argument("--max-wait", type=float, default=600.0)
    parser.add_argument("--neighbour", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.neighbour:
        neighbour(args.data, args.neighbour_threads)
        return

    cores = usable_cores()
    default = resolve_threads(None)
    counts = sorted({default, 1, cores})
    meta = run_meta(
        cpu_count=os.cpu_count(), affinity=len(os.sched_getaffinity(0)),
        cgroup_cpu_limit=cgroup_cpu_limit(), usable_cores=cores, policy_default=default,
        counts=counts, epochs=args.epochs, rounds=args.rounds, python=platform.python_version(),
        torch=torch.__version__,
    )
    frame = read_adult(args.data)
    print(f"threads: {len(frame):,} rows, usable cores {cores}, policy default {default}, "
          f"counts {counts}", flush=True)
    set_count(1)
    fit_seconds("vae", frame.head(2000), 1, args.cap)  # torch's one-off set-up, untimed
    fit_seconds("gan", frame.head(2000), 1, args.cap)

    results: dict[str, Any] = {}
    for condition in args.conditions.split(","):
        proc = start_neighbour(args.data, args.neighbour_threads) if condition == "busy" else None
        before = load_avg()
        print(f"  {condition}: load before {before}", flush=True)
        try:
            gate = args.wait_quiet if condition == "quiet" else None
            figures = measure(frame, counts, args, gate)
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
        results[condition] = {"load_before": before, "load_after": load_avg(), "fits": figures}

    rows = []
    for condition, block in results.items():
        for model in ("vae", "gan"):
            med = {n: float(np.median(block["fits"][model][n]["epochs"])) for n in counts}
            cut = {n: block["fits"][model][n]["cut"] for n in counts}
            best = min(med, key=lambda n: med[n])

            def cell(n: int, med: dict[int, float] = med, cut: dict[int, bool] = cut) -> str:
                return f"{med[n]:.3g}" + ("*" if cut[n] else "")

            rows.append([model.upper(), condition, cell(default), cell(1), cell(cores),
                         f"{best}", f"{med[default] / med[best]:.2f}",
                         f"{block['load_before'][0]} -> {block['load_after'][0]}"])
            block[f"{model}_median"] = med
    headers = ["model", "machine", f"policy default ({default}) s/epoch", "1 thread s/epoch",
               f"all {cores} cores s/epoch", "fastest (threads)", "default / fastest",
               "load 1 min"]
    table = md_table(headers, rows)
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results, "table": table},
                                        indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
