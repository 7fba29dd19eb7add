"""Tunable strategies on Adult / Bank: every grid point on validation rows, the tuned pick on test.

Mirrors the audit engine's protocol without importing it: per seed, a stratified 70/30 train/test
split, then a 75/25 fitting/validation split of the training rows; each strategy is fitted once on
the fitting part, every strength of its grid is scored on the validation rows, the strength is
chosen per classifier with the engine's rule (least max(DP, EO) among strengths whose validation
accuracy is within the budget of the baseline's -- 1.5 points, or the strategy's own
``max_accuracy_loss`` -- ties to higher accuracy, ``off`` unless something beats it), and the chosen
and the default strengths are then trained on the whole training rows (pre/in-processing) or on the
fitting part with the post-processor fitted on validation (post-processing) and evaluated once on
the test rows. Test rows never influence a choice.

Usage (one thread, as in RESULTS.md)::

    OMP_NUM_THREADS=1 python benchmarks/strategy_tuning.py --data adult --seeds 0 1 2 \
        --strategies reweigh vae --json /tmp/tuning_adult.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.metrics.fairness import evaluate_predictions
from fairlatent.strategies import StrategyContext, get_strategy
from fairlatent.strategies.base import OFF, StrategyOutput

DATA = {
    "adult": {"path": "/work/shared/datasets/adult.csv", "target": "income",
              "sensitive": ["sex"], "positive_label": ">50K", "drop": ["split"]},
    "bank": {"path": "/work/shared/datasets/bank.csv", "target": "y",
             "sensitive": ["age:25,60"], "positive_label": "yes", "drop": []},
}
BUDGET = 0.015
TIE = 1e-9


def objective(summary: dict[str, float]) -> float:
    values = [summary.get("dp_difference", math.nan), summary.get("eo_difference", math.nan)]
    return max(1.0 if not math.isfinite(v) else float(v) for v in values)


def choose(rows: list[dict[str, Any]], budget: float) -> dict[str, Any]:
    """The engine's rule (fairlatent.engine.tuning.choose), on dicts."""
    base = next(r for r in rows if r["identity"])
    admissible = [r for r in rows if r["identity"] or r["accuracy"] >= base["accuracy"] - budget - TIE]
    best = admissible[0]
    for r in admissible[1:]:
        if r["objective"] < best["objective"] - TIE or (
            abs(r["objective"] - best["objective"]) <= TIE and r["accuracy"] > best["accuracy"] + TIE
        ):
            best = r
    return best if best["objective"] < base["objective"] - TIE else base


def train(clf: str, output: StrategyOutput, features: list[str], kinds, target: str, seed: int,
          validation: pd.DataFrame | None):
    pipeline = make_classifier(clf, numeric=kinds[0], categorical=kinds[1], random_state=seed)
    frame = output.frame
    X, y = frame[features], frame[target].astype(int).to_numpy()
    w = None if output.sample_weight is None else np.asarray(output.sample_weight, float)
    if output.wrap_estimator is not None:
        est = output.wrap_estimator(pipeline)
        kw: dict[str, Any] = {"sensitive_features": frame[GROUP_COLUMN].to_numpy()}
        if w is not None:
            kw["sample_weight"] = w
        est.fit(X, y, **kw)
        return lambda f: np.asarray(est.predict(f[features], sensitive_features=f[GROUP_COLUMN].to_numpy()), int)
    pipeline.fit(X, y, **({} if w is None else {"model__sample_weight": w}))
    if output.postprocessor is not None:
        post = output.postprocessor.fit(pipeline, validation[features],
                                        validation[target].astype(int).to_numpy(),
                                        validation[GROUP_COLUMN].to_numpy())
        return lambda f: np.asarray(post.predict(f[features], f[GROUP_COLUMN].to_numpy(), seed), int)
    return lambda f: (pipeline.predict_proba(f[features])[:, 1] >= 0.5).astype(int)


def score(predict, frame: pd.DataFrame, target: str, seed: int) -> dict[str, float]:
    s = evaluate_predictions(frame[target].to_numpy(), predict(frame), frame[GROUP_COLUMN].to_numpy(),
                             n_boot=0, random_state=seed, min_support=20).summary
    out = {k: float(s[k]) for k in ("accuracy", "dp_difference", "eo_difference")}
    out["objective"] = objective(out)
    return out


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    spec = DATA[args.data]
    raw = pd.read_csv(spec["path"]).drop(columns=spec["drop"])
    if args.sample:
        raw = raw.sample(n=min(args.sample, len(raw)), random_state=0).reset_index(drop=True)
    data = prepare(raw, target=spec["target"], sensitive=spec["sensitive"],
                   positive_label=spec["positive_label"])
    target = spec["target"]
    features = data.schema.features
    kinds = split_feature_kinds(data.frame, features)
    records = []
    for seed in args.seeds:
        train_rows, test = stratified_split(data.frame, target=target, test_size=0.3, random_state=seed)
        fitting, validation = stratified_split(train_rows, target=target, test_size=0.25,
                                               random_state=seed)
        context = StrategyContext(target=target, sensitive=data.schema.sensitive,
                                  group_column=GROUP_COLUMN, random_state=seed, device="cpu",
                                  epochs=args.epochs)
        for name in args.strategies:
            options = json.loads(args.options.get(name, "{}")) if args.options else {}
            strategy = get_strategy(name.split("@")[0], **options)
            t0 = time.perf_counter()
            fitted = strategy.fit(fitting, context)
            fit_s = time.perf_counter() - t0
            grid = fitted.grid()
            if not any(s.identity for s in grid):
                grid = [OFF] + grid
            budget = min(BUDGET, strategy.max_accuracy_loss or BUDGET)
            post = strategy.kind == "post"
            cache: dict[str, StrategyOutput] = {}

            def on(frame_name: str, strength, _cache=cache, _fitted=fitted,
                   _frames={"fitting": fitting, "train": train_rows}):  # noqa: B006
                key = frame_name + "|" + strength.label
                if key not in _cache:
                    frame = _frames[frame_name]
                    _cache[key] = (StrategyOutput(frame=frame) if strength.identity and
                                   strength not in _fitted.grid() else _fitted.transform(frame, strength))
                return _cache[key]

            for clf in args.classifiers:
                rows = []
                for strength in grid:
                    t1 = time.perf_counter()
                    predict = train(clf, on("fitting", strength), features, kinds, target, seed,
                                    validation)
                    rows.append({"strength": strength.label, "identity": strength.identity,
                                 **score(predict, validation, target, seed),
                                 "seconds": round(time.perf_counter() - t1, 2)})
                chosen = choose(rows, budget)
                tests = {}
                for label in dict.fromkeys([chosen["strength"], fitted.default().label, "off"]):
                    strength = next(s for s in [*grid, fitted.default()] if s.label == label)
                    output = on("fitting" if post else "train", strength)
                    predict = train(clf, output, features, kinds, target, seed, validation)
                    tests[label] = score(predict, test, target, seed)
                rec = {"data": args.data, "seed": seed, "strategy": name, "classifier": clf,
                       "budget": budget, "fit_seconds": round(fit_s, 1), "validation": rows,
                       "chosen": chosen["strength"], "default": fitted.default().label,
                       "test": tests}
                records.append(rec)
                print(json.dumps(rec), flush=True)
    return records


def summarise(records: list[dict[str, Any]]) -> str:
    lines = ["| data | strategy | clf | seed | chosen | val acc / DP / EO (chosen) | val Δacc |"
             " test acc / DP / EO (chosen) | test Δacc | test default acc / DP / EO | test Δacc default |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        v = next(x for x in r["validation"] if x["strength"] == r["chosen"])
        v0 = next(x for x in r["validation"] if x["identity"])
        t, t0, td = r["test"][r["chosen"]], r["test"]["off"], r["test"][r["default"]]
        fmt = lambda m: f"{m['accuracy']:.4f} / {m['dp_difference']:.3f} / {m['eo_difference']:.3f}"  # noqa: E731
        lines.append(
            f"| {r['data']} | {r['strategy']} | {r['classifier']} | {r['seed']} | {r['chosen']} | "
            f"{fmt(v)} | {100 * (v['accuracy'] - v0['accuracy']):+.2f} | {fmt(t)} | "
            f"{100 * (t['accuracy'] - t0['accuracy']):+.2f} | {fmt(td)} | "
            f"{100 * (td['accuracy'] - t0['accuracy']):+.2f} |")
    return "\n".join(lines)


METRICS = ("accuracy", "dp_difference", "eo_difference")


def _trio(rows: list[dict[str, float]]) -> str:
    return " / ".join(f"{np.mean([m[k] for m in rows]):.3f}" for k in METRICS)


def aggregate(records: list[dict[str, Any]]) -> str:
    """Mean over seeds per (data, strategy, classifier): the tuned pick and the default on test."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["data"], r["strategy"], r["classifier"]), []).append(r)
    lines = ["| data | strategy | clf | picks (per seed) | val Δacc | test Δacc (worst) |"
             " test acc / DP / EO, tuned | test acc / DP / EO, off | test acc / DP / EO, default"
             " (Δacc) |", "|---|---|---|---|---|---|---|---|---|"]
    for (data, name, clf), rs in groups.items():
        dval, dtest, ddef = [], [], []
        for r in rs:
            val = {v["strength"]: v for v in r["validation"]}
            off = next(v for v in r["validation"] if v["identity"])
            dval.append(val[r["chosen"]]["accuracy"] - off["accuracy"])
            dtest.append(r["test"][r["chosen"]]["accuracy"] - r["test"]["off"]["accuracy"])
            ddef.append(r["test"][r["default"]]["accuracy"] - r["test"]["off"]["accuracy"])
        tuned = _trio([r["test"][r["chosen"]] for r in rs])
        base = _trio([r["test"]["off"] for r in rs])
        default = _trio([r["test"][r["default"]] for r in rs])
        lines.append(
            f"| {data} | {name} | {clf} | {', '.join(r['chosen'] for r in rs)} | "
            f"{100 * np.mean(dval):+.2f} | {100 * np.mean(dtest):+.2f} ({100 * min(dtest):+.2f}) | "
            f"{tuned} | {base} | {default} ({100 * np.mean(ddef):+.2f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATA), default="adult")
    parser.add_argument("--strategies", nargs="+", default=["reweigh", "vae"])
    parser.add_argument("--classifiers", nargs="+", default=["logreg", "hgb"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="VAE/GAN epochs (default: theirs)")
    parser.add_argument("--sample", type=int, default=0, help="rows to subsample (0: all)")
    parser.add_argument("--options", type=lambda s: dict(kv.split("=", 1) for kv in s.split(";")),
                        default=None, help='per-strategy JSON options: "vae={...};gan={...}"')
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--aggregate", type=Path, nargs="+", default=None,
                        help="only print the mean-over-seeds table of these --json outputs")
    args = parser.parse_args()
    if args.aggregate:
        print(aggregate([r for path in args.aggregate for r in json.loads(path.read_text())]))
        return
    records = run(args)
    print(summarise(records))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    sys.exit(main())
