"""Benchmark of the latent audit: planted slices, false certification, flip rates, time added.

Parts (``--parts``, default all):

``slices``
    Synthetic tables (numbers x1..x4, categories job and city, a sensitive column independent of
    everything): the label is a linear rule of x1, x2 and job with 10 % label noise everywhere,
    so a logistic regression errs on about 10 % of rows in every region. A slice ``x3 > q and
    city in {n, s}`` of a chosen share of rows gets extra label noise (+10 or +20 points of error).
    :func:`fairlatent.find_slices` runs on validation rows and certifies on test rows. Recovery is
    the Jaccard index (on the test rows) between the planted slice and the certified slice closest
    to it (0 when nothing is certified).
``clean``, ``clean-bayes``
    The same tables without a planted slice, audited for a logistic regression (whose fit is not
    perfect near the boundary, so some regions are truly worse) and for the Bayes decision (10 %
    error in every region: any certification is false). A slice's true excess error is measured on
    100,000 fresh rows, so a certified slice that is not worse in truth is counted separately.
``flips``
    :func:`fairlatent.counterfactual_flips` on tables whose features do not depend on the group:
    a model blind to the group (flip rate should be ~0), and models that read the group when the
    label has a direct effect delta of it; the planted effect is the share of rows whose Bayes
    decision changes with the group (features fixed).
``adult``
    ``examples/adult.csv.gz`` with label noise injected inside a rule (flip probability 0.25),
    through the full default ``fairlatent.audit`` (``--sensitive sex``); recovery as above on the
    audit's test rows, over every audited model's certified slices.
``time``
    Wall time and CPU time of the default ``fairlatent audit examples/adult.csv.gz --target income
    --sensitive sex`` with and without ``--no-latent-audit`` (CLI, one process each, same machine;
    the CPU time is the fairer measure on a machine shared with other jobs).

Run: ``PYTHONPATH=. python benchmarks/latent_audit.py --seeds 6 --json out.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT / "examples" / "adult.csv.gz"
#: Adult rules the label noise is injected in (column, op, value) and the flip probability.
ADULT_RULES = {
    "age <= 30 and education == Some-college": [("age", "<=", 30), ("education", "==", "Some-college")],
    "age > 45 and education == Bachelors": [("age", ">", 45), ("education", "==", "Bachelors")],
}
ADULT_FLIP = 0.25
NOISE = 0.10


def _table(n: int, rng: np.random.Generator, share: float | None, excess: float) -> tuple[pd.DataFrame, np.ndarray]:
    x1, x2, x3, x4 = rng.normal(size=(4, n))
    job = rng.choice(["a", "b", "c", "d"], n)
    city = rng.choice(["n", "s", "e", "w"], n)
    sex = rng.choice(["F", "M"], n)
    clean = (3 * x1 - 2 * x2 + 0.8 * (job == "a") > 0).astype(int)
    y = np.where(rng.random(n) < NOISE, 1 - clean, clean)
    if share is None:
        region = np.zeros(n, dtype=bool)
    else:
        region = (x3 > _cut(share)) & np.isin(city, ["n", "s"])
        extra = region & (rng.random(n) < excess / (1 - 2 * NOISE))
        y = np.where(extra, 1 - y, y)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "x4": x4, "job": job, "city": city,
                          "sex": sex, "y": y})
    return frame, region


def _cut(share: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - 2 * share))  # P(city in {n, s}) = 1/2


FEATURES = ["x1", "x2", "x3", "x4", "job", "city"]


def _model(train: pd.DataFrame, features: list[str]) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in features if c.startswith("x")]
    categorical = [c for c in features if not c.startswith("x")]
    ct = make_column_transformer((StandardScaler(), numeric),
                                 (OneHotEncoder(handle_unknown="ignore"), categorical))
    return make_pipeline(ct, LogisticRegression(max_iter=500)).fit(train[features], train.y)


def _rule_mask(conditions: list[dict[str, Any]], frame: pd.DataFrame) -> np.ndarray:
    from fairlatent.metrics.slices import Condition, SliceRule

    rule = SliceRule(tuple(Condition(c["column"], c["op"], tuple(c["value"]) if c["op"] == "in"
                                     else c["value"]) for c in conditions))
    return rule.mask(frame)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 0.0


def _bayes(frame: pd.DataFrame) -> np.ndarray:
    """The Bayes decision of the clean tables: its error is 10 % in every region."""
    return (3 * frame.x1 - 2 * frame.x2 + 0.8 * (frame.job == "a") > 0).to_numpy(dtype=int)


class _Oracle:
    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return _bayes(X)


def slice_run(seed: int, share: float | None, excess: float, epochs: int,
              oracle: bool = False) -> dict[str, Any]:
    import fairlatent

    rng = np.random.default_rng(seed)
    train, _ = _table(4000, rng, share, excess)
    val, _ = _table(3000, rng, share, excess)
    test, truth = _table(5000, rng, share, excess)
    model = _Oracle() if oracle else _model(train, FEATURES)
    started = time.perf_counter()
    report = fairlatent.find_slices(model, val, test, target="y", sensitive=["sex"],
                                    features=FEATURES, epochs=epochs, n_boot=200, device="cpu",
                                    random_state=seed)
    seconds = time.perf_counter() - started
    wrong = model.predict(test[FEATURES]) != test.y.to_numpy()
    out: dict[str, Any] = {
        "seed": seed, "share": share, "excess": excess, "seconds": seconds, "oracle": oracle,
        "n_tested": report.n_tested, "n_certified": len(report.certified),
        "planted_excess_measured": float(wrong[truth].mean() - wrong[~truth].mean())
        if truth.any() else None,
    }
    if share is not None:
        jac = [(_jaccard(_rule_mask(s.conditions, test), truth), s.rule, s.origin)
               for s in report.certified]
        best = max(jac, default=(0.0, None, None))
        out.update(recovery=best[0], best_rule=best[1], best_origin=best[2])
    else:
        fresh, _ = _table(100_000, np.random.default_rng(10_000 + seed), None, 0.0)
        wrong_f = model.predict(fresh[FEATURES]) != fresh.y.to_numpy()
        true_excess = []
        for s in report.certified:
            hit = _rule_mask(s.conditions, fresh)
            true_excess.append(float(wrong_f[hit].mean() - wrong_f[~hit].mean()))
        out.update(true_excess=true_excess,
                   wrongly_certified=int(sum(e <= 0 for e in true_excess)),
                   certified_rules=[s.rule for s in report.certified])
    return out


def flip_run(seed: int, delta: float, sees: bool, epochs: int) -> dict[str, Any]:
    import fairlatent
    from fairlatent.metrics.latent_space import fit_latent_coder

    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[pd.DataFrame, np.ndarray]:
        x1, x2 = rng.normal(size=(2, n))
        job = rng.choice(["a", "b", "c"], n)
        sex = rng.choice(["F", "M"], n)
        logit = 2 * x1 - x2 + 0.5 * (job == "a") + delta * (sex == "M")
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        return pd.DataFrame({"x1": x1, "x2": x2, "job": job, "sex": sex, "y": y}), logit

    train, _ = make(4000)
    test, logit = make(3000)
    features = ["x1", "x2", "job"] + (["sex"] if sees else [])
    model = _model(train, features)
    coder = fit_latent_coder(train, columns=["x1", "x2", "job"], sensitive=["sex"], epochs=epochs,
                             device="cpu", random_state=seed)
    out = fairlatent.counterfactual_flips(model, test, sensitive=["sex"], features=features,
                                          target="y", coder=coder, n_boot=200, random_state=seed)
    male = (test.sex == "M").to_numpy()
    without = logit - delta * male
    oracle = float(np.mean((without + delta > 0) != (without > 0)))
    swapped = test.copy()
    swapped["sex"] = np.where(male, "F", "M")
    raw = float(np.mean(model.predict(test[features]) != model.predict(swapped[features])))
    rates = {e["group"]: e["flip_rate"] for e in out["counterfactual"]}
    return {"seed": seed, "delta": delta, "sees_group": sees, "flip_rate": rates,
            "mean_flip_rate": float(np.mean(list(rates.values()))),
            "planted_effect": oracle if sees else 0.0, "raw_swap": raw}


def adult_run(rule_name: str, seed: int) -> dict[str, Any]:
    import fairlatent
    from fairlatent.data.io import read_table

    frame = read_table(ADULT)
    conditions = [{"column": c, "op": op, "value": v} for c, op, v in ADULT_RULES[rule_name]]
    region = _rule_mask(conditions, frame)
    rng = np.random.default_rng(seed)
    labels = frame["income"].astype(str).to_numpy()
    flip = region & (rng.random(len(frame)) < ADULT_FLIP)
    swap = {">50K": "<=50K", "<=50K": ">50K"}
    frame["income"] = np.where(flip, [swap.get(v, v) for v in labels], labels)
    started = time.perf_counter()
    result = fairlatent.audit(frame, target="income", sensitive="sex", positive_label=">50K",
                              seed=seed)
    seconds = time.perf_counter() - started
    latent = result.analyses["latent"]
    test = result.test_frame
    truth = _rule_mask(conditions, test)
    best = (0.0, None, None, None)
    for s in latent["slices"]:
        if s["state"] != "certified":
            continue
        j = _jaccard(_rule_mask(s["conditions"], test), truth)
        if j > best[0]:
            best = (j, s["rule"], f"{s['classifier']} / {s['strategy']}", s.get("origin"))
    excess = {}
    for rec in result.records:
        wrong = np.asarray(rec.y_pred) != test[result.config.target].to_numpy()
        excess[f"{rec.classifier} / {rec.strategy}"] = float(wrong[truth].mean() - wrong[~truth].mean())
    return {"rule": rule_name, "seed": seed, "share": float(truth.mean()),
            "planted_excess_measured": excess, "recovery": best[0], "best_rule": best[1],
            "best_model": best[2], "best_origin": best[3], "n_tested": latent["slice_family"]["n_tested"],
            "n_certified": latent["slice_family"]["n_certified"], "audit_seconds": seconds,
            "latent_seconds": latent["seconds"]}


def time_run(keep: Path | None = None, rounds: int = 1) -> dict[str, Any]:
    """Interleave ``rounds`` pairs of default CLI audits on Adult, with and without the latent audit."""
    import resource

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds: dict[str, list[float]] = {"with_latent_audit": [], "without": []}
    cpu: dict[str, list[float]] = {"with_latent_audit": [], "without": []}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(keep) if keep is not None else scratch
        for _ in range(rounds):
            for label, extra in (("with_latent_audit", []), ("without", ["--no-latent-audit"])):
                started = time.perf_counter()
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([sys.executable, "-m", "fairlatent.cli", "audit", str(ADULT),
                                "--target", "income", "--sensitive", "sex", "--out",
                                f"{tmp}/{label}", "-q", *extra], check=True, env=env)
                seconds[label].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[label].append(after.ru_utime + after.ru_stime - before.ru_utime
                                  - before.ru_stime)
    with_latent, without = np.mean(seconds["with_latent_audit"]), np.mean(seconds["without"])
    cpu_with, cpu_without = np.mean(cpu["with_latent_audit"]), np.mean(cpu["without"])
    return {"seconds": seconds, "with_latent_audit": float(with_latent), "without": float(without),
            "added_share": float(with_latent / without - 1), "cpu_seconds": cpu,
            "cpu_added_share": float(cpu_with / cpu_without - 1)}


def _mean_se(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return "–"
    se = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return f"{v.mean():.3f} ± {se:.3f}"


def _rate_se(flags: list[bool]) -> str:
    p = float(np.mean(flags)) if flags else float("nan")
    return f"{p:.3f} ± {math.sqrt(p * (1 - p) / len(flags)):.3f}" if flags else "–"


def _origins(runs: list[dict[str, Any]]) -> str:
    """How many runs' closest certified slice came from the latent mixture, from the rule search."""
    latent = sum(r.get("best_origin") in ("described", "refined") and r["recovery"] >= 0.5
                 for r in runs)
    search = sum(r.get("best_origin") == "searched" and r["recovery"] >= 0.5 for r in runs)
    return f"{latent} / {search}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="slices,clean,clean-bayes,flips,adult,time")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--shares", default="0.02,0.04,0.08",
                        help="planted slice shares of the slices part, comma-separated")
    parser.add_argument("--excesses", default="0.10,0.20",
                        help="planted error added by the slices part, comma-separated")
    parser.add_argument("--clean-seeds", type=int, default=30)
    parser.add_argument("--adult-seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--time-rounds", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the timed audits' reports in this directory")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "args": {k: str(v) for k, v in vars(args).items()}}
    if "slices" in parts:
        shares = [float(v) for v in args.shares.split(",")]
        excesses = [float(v) for v in args.excesses.split(",")]
        runs = [slice_run(seed, share, excess, args.epochs)
                for share in shares for excess in excesses for seed in range(args.seeds)]
        report["slices"] = runs
        print("\nPlanted slices (synthetic, 5,000 test rows): recovery = Jaccard of the closest certified slice")
        print("| share | error added | measured excess | recovery (mean ± MC se) "
              "| share with Jaccard >= 0.5 | closest slice found by (latent / search) | seconds |")
        print("|---|---|---|---|---|---|---|")
        for share in shares:
            for excess in excesses:
                cell = [r for r in runs if r["share"] == share and r["excess"] == excess]
                print(f"| {share:.0%} | +{excess * 100:.0f} points | "
                      f"{_mean_se([r['planted_excess_measured'] for r in cell])} | "
                      f"{_mean_se([r['recovery'] for r in cell])} | "
                      f"{_rate_se([r['recovery'] >= 0.5 for r in cell])} | "
                      f"{_origins(cell)} | {np.mean([r['seconds'] for r in cell]):.1f} |")
    for part, oracle in (("clean", False), ("clean-bayes", True)):
        if part not in parts:
            continue
        runs = [slice_run(1000 + seed, None, 0.0, args.epochs, oracle)
                for seed in range(args.clean_seeds)]
        report[part] = runs
        model = "the Bayes decision (errors 10 % everywhere)" if oracle else "logistic regression"
        print(f"\nClean data (no planted slice, homogeneous 10 % label noise), model: {model}")
        print(f"audits: {len(runs)}; audits certifying any slice: "
              f"{_rate_se([r['n_certified'] > 0 for r in runs])}; audits certifying a slice not "
              f"worse in truth (100k fresh rows): {_rate_se([r['wrongly_certified'] > 0 for r in runs])}; "
              f"candidates tested per audit: {_mean_se([r['n_tested'] for r in runs])}; true excess "
              f"of the certified slices: {_mean_se([e for r in runs for e in r['true_excess']])}")
    if "flips" in parts:
        runs = [flip_run(seed, delta, sees, args.epochs)
                for delta, sees in ((1.0, False), (0.0, True), (0.5, True), (1.0, True), (2.0, True))
                for seed in range(args.seeds)]
        report["flips"] = runs
        print("\nCounterfactual flips (features independent of the group)")
        print("| model | direct effect delta | planted flip share | measured flip rate | raw-row swap |")
        print("|---|---|---|---|---|")
        for delta, sees in ((1.0, False), (0.0, True), (0.5, True), (1.0, True), (2.0, True)):
            cell = [r for r in runs if r["delta"] == delta and r["sees_group"] == sees]
            print(f"| {'reads the group' if sees else 'blind to the group'} | {delta} | "
                  f"{_mean_se([r['planted_effect'] for r in cell])} | "
                  f"{_mean_se([r['mean_flip_rate'] for r in cell])} | "
                  f"{_mean_se([r['raw_swap'] for r in cell])} |")
    if "adult" in parts:
        runs = [adult_run(rule, seed) for rule in ADULT_RULES for seed in range(args.adult_seeds)]
        report["adult"] = runs
        print("\nAdult with label noise injected inside a rule (flip probability 0.25)")
        for r in runs:
            print(f"- {r['rule']} ({r['share']:.1%} of test rows, seed {r['seed']}): excess "
                  f"{r['planted_excess_measured']}; recovery {r['recovery']:.2f} by {r['best_rule']} "
                  f"({r['best_model']}, {r['best_origin']}); {r['n_certified']} of {r['n_tested']} certified; "
                  f"audit {r['audit_seconds']:.0f} s, latent audit {r['latent_seconds']['total']} s")
    if "time" in parts:
        report["time"] = time_run(args.keep, args.time_rounds)
        t = report["time"]
        print(f"\nDefault audit on Adult: {t['with_latent_audit']:.1f} s with the latent audit, "
              f"{t['without']:.1f} s without: +{100 * t['added_share']:.0f} % wall "
              f"(rounds: {t['seconds']}); CPU time +{100 * t['cpu_added_share']:.0f} % "
              f"(rounds: {t['cpu_seconds']})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
