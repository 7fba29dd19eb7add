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


def time_fairlatent(frame: pd.DataFrame) -> tuple[float, object]:
    import fairlatent

    start = time.perf_counter()
    result = fairlatent.audit_predictions(frame, target="outcome", sensitive="group", prediction="model",
                                          positive_label="1", n_boot=N_BOOT, latent_view=False)
    return time.perf_counter() - start, result


def time_fairlearn(frame: pd.DataFrame, n_boot: int | None) -> float:
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=frame["outcome"].to_numpy(), y_pred=frame["model"].to_numpy(),
            sensitive_features=frame["group"], n_boot=n_boot, random_state=0 if n_boot else None,
            ci_quantiles=[0.025, 0.975] if n_boot else None,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fairlearn-boot", type=int, default=3)
    args = parser.parse_args()
    set_threads(1)
    record = run_meta(rows=args.rows, n_boot=N_BOOT, fairlearn_boot=args.fairlearn_boot, load_before=load_avg())
    frame = make_rows(args.rows)
    seconds, result = time_fairlatent(frame)
    print(f"fairlatent: {seconds:.1f} s", file=sys.stderr, flush=True)
    findings = result.findings.rows()
    t0 = time_fairlearn(frame, None)
    tk = time_fairlearn(frame, args.fairlearn_boot)
    per_replicate = (tk - t0) / args.fairlearn_boot
    projected = t0 + N_BOOT * per_replicate
    record.update(
        fairlatent_seconds=round(seconds, 2),
        findings=len(findings),
        established=sum(f["state"] == "established" for f in findings),
        fairlearn_point_seconds=round(t0, 2),
        fairlearn_seconds_with_boot=round(tk, 2),
        fairlearn_seconds_per_replicate=round(per_replicate, 2),
        fairlearn_projected_200=round(projected, 1),
        ratio=round(projected / seconds, 1),
        load_after=load_avg(),
    )
    print(f"| rows | fairlatent, {N_BOOT} replicates + simultaneous findings | fairlearn MetricFrame, "
          f"point only | fairlearn, {args.fairlearn_boot} replicates | fairlearn per replicate | "
          f"fairlearn 200 replicates (extrapolated) | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.rows:,} | {seconds:.1f} s | {t0:.1f} s | {tk:.1f} s | {per_replicate:.1f} s | "
          f"{projected:.0f} s | {projected / seconds:.0f}x |")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
