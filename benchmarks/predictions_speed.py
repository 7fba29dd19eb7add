"""Speed of auditing given predictions: fairlatent on 1M rows vs fairlearn's MetricFrame bootstrap.

One seeded table of ``--rows`` rows (five groups of unequal size, a 0/1 outcome, one prediction
column, two feature columns) is audited twice on one thread:

* ``fairlatent.audit_predictions(..., n_boot=200)``: the whole audit — preparing the frame, fairlearn's
  metrics per group from confusion counts with a 200-replicate bootstrap, and the simultaneous
  (bootstrap-max) intervals and states of every group x nine rates, with the model's sanity check
  (``latent_view=False``: the VAE view is a separate, sampled analysis);
* fairlearn's ``MetricFrame(metrics={selection_rate, TPR, FPR}, n_boot=K)`` on the same rows, once
  without replicates (``t0``) and once with ``K`` (a few; default 3) replicates. The time of 200
  replicates is extrapolated linearly: ``t0 + 200 * (t_K - t0) / K`` (stated in the table).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/predictions_speed.py [--rows 1000000] [--fairlearn-boot 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from harness import load_avg, run_meta, set_threads

N_BOOT = 200


def make_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Seeded rows: five groups, a 0/1 outcome, a prediction with a planted gap, two features."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["A", "B", "C", "D", "E"]), n, p=[0.45, 0.3, 0.15, 0.07, 0.03])
    y = (rng.random(n) < np.where(group == "A", 0.35, 0.25)).astype(np.int64)
    lift = np.select([group == "A", group == "B"], [0.10, 0.0], -0.05)
    pred = (rng.random(n) < np.clip(0.15 + 0.55 * y + lift, 0, 1)).astype(np.int64)
    return pd.DataFrame({"group": group, "outcome": y, "model": pred,
                         "x1": rng.normal(size=n).round(3), "x2": rng.integers(0, 50, n)})


def time_fairlatent(frame: pd.DataFrame) -> tuple[float, float, object]:
    """Wall and CPU seconds of the whole audit (imports done before)."""
    import fairlatent
    from fairlatent import model_audit  # noqa: F401  (import time is not audit time)

    start, cpu = time.perf_counter(), time.process_time()
    result = fairlatent.audit_predictions(frame, target="outcome", sensitive="group", prediction="model",
                                          positive_label="1", n_boot=N_BOOT, latent_view=False)
    return time.perf_counter() - start, time.process_time() - cpu, result


def time_fairlearn(frame: pd.DataFrame, n_boot: int | None) -> tuple[float, float]:
    """Wall and CPU seconds of one MetricFrame."""
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=frame["outcome"].to_numpy(), y_pred=frame["model"].to_numpy(),
            sensitive_features=frame["group"], n_boot=n_boot, random_state=0 if n_boot else None,
            ci_quantiles=[0.025, 0.975] if n_boot else None,
        )
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fairlearn-boot", type=int, default=3)
    args = parser.parse_args()
    set_threads(1)
    record = run_meta(rows=args.rows, n_boot=N_BOOT, fairlearn_boot=args.fairlearn_boot, load_before=load_avg())
    frame = make_rows(args.rows)
    seconds, cpu, result = time_fairlatent(frame)
    print(f"fairlatent: {seconds:.1f} s wall, {cpu:.1f} s CPU", file=sys.stderr, flush=True)
    findings = result.findings.rows()
    t0, c0 = time_fairlearn(frame, None)
    tk, ck = time_fairlearn(frame, args.fairlearn_boot)
    k = args.fairlearn_boot
    projected = t0 + N_BOOT * (tk - t0) / k
    projected_cpu = c0 + N_BOOT * (ck - c0) / k
    record.update(
        fairlatent_seconds=round(seconds, 2),
        fairlatent_cpu_seconds=round(cpu, 2),
        findings=len(findings),
        established=sum(f["state"] == "established" for f in findings),
        fairlearn_point_seconds=round(t0, 2),
        fairlearn_point_cpu_seconds=round(c0, 2),
        fairlearn_seconds_with_boot=round(tk, 2),
        fairlearn_cpu_seconds_with_boot=round(ck, 2),
        fairlearn_projected_200=round(projected, 1),
        fairlearn_projected_200_cpu=round(projected_cpu, 1),
        ratio=round(projected / seconds, 1),
        ratio_cpu=round(projected_cpu / cpu, 1),
        load_after=load_avg(),
    )
    print(f"| rows | clock | fairlatent, {N_BOOT} replicates + simultaneous findings | fairlearn MetricFrame, "
          f"point only | fairlearn, {k} replicates | fairlearn, {N_BOOT} replicates (extrapolated) | ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for clock, (a, b, c, d) in (("wall", (seconds, t0, tk, projected)), ("CPU", (cpu, c0, ck, projected_cpu))):
        print(f"| {args.rows:,} | {clock} | {a:.1f} s | {b:.1f} s | {c:.1f} s | {d:.0f} s | {d / a:.0f}x |")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
