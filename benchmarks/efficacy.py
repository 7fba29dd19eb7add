"""Efficacy: every fairlatent strategy (tuned on validation rows) against classical references.

One audit per data set with ``--repeats`` seeded splits (tuning on, the default), then the classical
references fitted on exactly the same training rows of each split and scored on the same test rows:
Kamiran-Calders reweighing, fairlearn's ExponentiatedGradient and ThresholdOptimizer (demographic
parity and equalized odds), CorrelationRemover, and, when the ``ctgan`` package is installed, CTGAN
cell balancing (every group x label cell oversampled to the largest). Prints one table of mean test
accuracy / DP difference / EO difference per (method, classifier), marks every fairlatent row that a
reference dominates (at least as good on all three and better by more than 0.005 on one), and checks
the audit's recommended strategy: on the front against every reference and within the accuracy
budget of the baseline.

    .venv/bin/python benchmarks/efficacy.py --data ../shared/datasets/adult.csv --target income \\
        --sensitive sex --positive-label '>50K' --repeats 3
    .venv/bin/python benchmarks/efficacy.py --data ../shared/datasets/bank.csv --target y \\
        --sensitive age:25,60 --positive-label yes --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import fairlatent
from fairlatent.classifiers import make_classifier
from fairlatent.data import GROUP_COLUMN, read_table
from fairlatent.engine.units import make_split
from fairlatent.strategies import STRATEGIES

#: A reference must beat a row by more than this on one metric to dominate it.
MARGIN = 0.005


def _scores(y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    return (
        float((pred == y).mean()),
        float(demographic_parity_difference(y, pred, sensitive_features=groups)),
        float(equalized_odds_difference(y, pred, sensitive_features=groups)),
    )


def _kc_weights(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"g": groups, "y": y})
    n = len(frame)
    pg = frame["g"].map(frame["g"].value_counts() / n)
    py = frame["y"].map(frame["y"].value_counts() / n)
    pgy = frame.groupby(["g", "y"])["g"].transform("size") / n
    return (pg * py / pgy).to_numpy(float)


class _Split:
    """One classifier's preprocessed training and test rows of one audit split."""

    def __init__(self, plan, split, clf: str) -> None:
        cfg, features = plan.cfg, plan.features
        cols = features.columns
        self.seed, self.clf = split.seed, clf
        self.y_tr = split.train[cfg.target].to_numpy(int)
        self.y_te = split.test[cfg.target].to_numpy(int)
        self.g_tr = split.train[GROUP_COLUMN].to_numpy()
        self.g_te = split.test[GROUP_COLUMN].to_numpy()
        pipe = make_classifier(clf, numeric=features.numeric, categorical=features.categorical,
                               random_state=split.seed)
        prep = pipe.named_steps["preprocess"].fit(split.train[cols])
        self.X_tr = np.asarray(prep.transform(split.train[cols]), dtype=float)
        self.X_te = np.asarray(prep.transform(split.test[cols]), dtype=float)
        self.model = pipe.named_steps["model"]

    def fresh(self):
        from sklearn.base import clone

        return clone(self.model)

    def reweighing(self) -> np.ndarray:
        weights = _kc_weights(self.g_tr, self.y_tr)
        return self.fresh().fit(self.X_tr, self.y_tr, sample_weight=weights).predict(self.X_te)

    def expgrad(self, constraint) -> np.ndarray:
        from fairlearn.reductions import ExponentiatedGradient

        model = ExponentiatedGradient(self.fresh(), constraint, max_iter=30)
        model.fit(self.X_tr, self.y_tr, sensitive_features=self.g_tr)
        return model.predict(self.X_te, random_state=self.seed)

    def thresholds(self, constraint: str) -> np.ndarray:
        from fairlearn.postprocessing import ThresholdOptimizer

        model = ThresholdOptimizer(estimator=self.fresh(), constraints=constraint,
                                   predict_method="predict_proba")
        model.fit(self.X_tr, self.y_tr, sensitive_features=self.g_tr)
        return model.predict(self.X_te, sensitive_features=self.g_te, random_state=self.seed)

    def correlation_remover(self) -> np.ndarray:
        from fairlearn.preprocessing import CorrelationRemover
        from sklearn.impute import SimpleImputer

        levels = sorted(set(self.g_tr))[1:]
        onehot = lambda g: np.stack([g == level for level in levels], axis=1).astype(float)  # noqa: E731
        imputer = SimpleImputer().fit(self.X_tr)
        train = np.hstack([onehot(self.g_tr), imputer.transform(self.X_tr)])
        test = np.hstack([onehot(self.g_te), imputer.transform(self.X_te)])
        remover = CorrelationRemover(sensitive_feature_ids=list(range(len(levels)))).fit(train)
        model = self.fresh().fit(remover.transform(train), self.y_tr)
        return model.predict(remover.transform(test))


def references(plan, repeat: int, ctgan_epochs: int) -> list[tuple[str, str, float, float, float]]:
    """Classical references on the audit's own split ``repeat``."""
    from fairlearn.reductions import DemographicParity, EqualizedOdds

    split = make_split(plan, repeat)
    rows = []
    for clf in plan.cfg.classifiers:
        setup = _Split(plan, split, clf)
        methods: list[tuple[str, Callable[[], np.ndarray]]] = [
            ("KC reweighing", setup.reweighing),
            ("fairlearn ExpGrad(DP)", lambda s=setup: s.expgrad(DemographicParity())),
            ("fairlearn ExpGrad(EO)", lambda s=setup: s.expgrad(EqualizedOdds())),
            ("fairlearn ThresholdOptimizer(DP)", lambda s=setup: s.thresholds("demographic_parity")),
            ("fairlearn ThresholdOptimizer(EO)", lambda s=setup: s.thresholds("equalized_odds")),
            ("fairlearn CorrelationRemover", setup.correlation_remover),
        ]
        if ctgan_epochs > 0 and _has_ctgan():
            methods.append(("CTGAN cell balancing", lambda c=clf: _ctgan_balanced(
                split.train, split.test, plan, c, split.seed, ctgan_epochs)))
        for name, fit_predict in methods:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = np.asarray(fit_predict(), dtype=int)
            rows.append((name, clf, *_scores(setup.y_te, pred, setup.g_te)))
            print(f"    {name} ({clf}): {time.perf_counter() - start:.1f} s", flush=True)
    return rows


def _has_ctgan() -> bool:
    try:
        import ctgan  # noqa: F401
    except ImportError:
        return False
    return True


def _ctgan_balanced(train, test, plan, clf: str, seed: int, epochs: int) -> np.ndarray:
    """CTGAN conditioned on the group x label cell; every cell oversampled to the largest."""
    from ctgan import CTGAN

    cfg, features = plan.cfg, plan.features
    cell = train[GROUP_COLUMN].astype(str) + "|" + train[cfg.target].astype(str)
    frame = train[features.columns].copy()
    frame["_cell"] = cell.to_numpy()
    discrete = [*features.categorical, "_cell"]
    model = CTGAN(epochs=epochs, verbose=False)
    model.set_random_state(seed)
    model.fit(frame.astype(dict.fromkeys(discrete, str)), discrete_columns=discrete)
    counts = cell.value_counts()
    parts = [train]
    for name, count in counts.items():
        need = int(counts.max() - count)
        if need:
            sample = model.sample(need, condition_column="_cell", condition_value=name)
            group, label = name.rsplit("|", 1)
            sample[GROUP_COLUMN], sample[cfg.target] = group, int(label)
            parts.append(sample.drop(columns="_cell"))
    balanced = pd.concat(parts, ignore_index=True)
    for column in features.numeric:
        balanced[column] = pd.to_numeric(balanced[column], errors="coerce")
    pipe = make_classifier(clf, numeric=features.numeric, categorical=features.categorical,
                           random_state=seed)
    pipe.fit(balanced[features.columns], balanced[cfg.target].astype(int))
    return pipe.predict(test[features.columns])


def dominated_by(row: pd.Series, refs: pd.DataFrame) -> list[str]:
    """References at least as good on accuracy, DP and EO, and better by > MARGIN on one."""
    out = []
    for name, ref in refs.iterrows():
        as_good = (ref["accuracy"] >= row["accuracy"] and ref["dp_difference"] <= row["dp_difference"]
                   and ref["eo_difference"] <= row["eo_difference"])
        better = (ref["accuracy"] > row["accuracy"] + MARGIN
                  or ref["dp_difference"] < row["dp_difference"] - MARGIN
                  or ref["eo_difference"] < row["eo_difference"] - MARGIN)
        if as_good and better:
            out.append(str(name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="examples/adult.csv.gz")
    parser.add_argument("--target", default="income")
    parser.add_argument("--sensitive", default="sex")
    parser.add_argument("--positive-label", default=None)
    parser.add_argument("--strategies", default=None, help="default: every registered strategy")
    parser.add_argument("--classifiers", default="logreg,hgb")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--ctgan-epochs", type=int, default=0,
                        help="train CTGAN cell balancing for this many epochs (0: skip)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    strategies = args.strategies or ",".join(STRATEGIES.names())
    frame = read_table(args.data)
    start = time.perf_counter()
    result = fairlatent.audit(
        frame, target=args.target, sensitive=args.sensitive, positive_label=args.positive_label,
        strategies=strategies, classifiers=args.classifiers, repeats=args.repeats,
        epochs=args.epochs, n_boot=0, jobs=args.jobs,
    )
    print(f"audit: {time.perf_counter() - start:.0f} s", flush=True)
    from fairlatent.api import audit_plan, prepare_data

    plan = audit_plan(result.config, prepare_data(frame, result.config))
    ref_rows = []
    for repeat in range(args.repeats):
        print(f"  references, repeat {repeat}", flush=True)
        ref_rows += references(plan, repeat, args.ctgan_epochs)
    refs = (pd.DataFrame(ref_rows, columns=["method", "classifier", "accuracy", "dp_difference",
                                            "eo_difference"])
            .groupby(["method", "classifier"], sort=False).mean())
    summary = result.summary()
    recommended = {v["classifier"]: v["recommendation"] for v in result.verdict()}
    lines, table = [], []
    header = "| method | classifier | accuracy | DP diff | EO diff | dominated by |"
    lines += [header, "|---|---|---|---|---|---|"]
    for clf in result.config.classifiers:
        clf_refs = refs.xs(clf, level="classifier")
        rec = recommended.get(clf) or {}
        for strategy in result.config.strategies:
            row = summary.loc[(strategy, clf)]
            beaten = dominated_by(row, clf_refs)
            mark = " (recommended)" if rec.get("strategy") == strategy else ""
            lines.append(f"| fairlatent {strategy}{mark} | {clf} | {row['accuracy']:.3f} | "
                         f"{row['dp_difference']:.3f} | {row['eo_difference']:.3f} | "
                         f"{', '.join(beaten) or '—'} |")
            table.append({"method": f"fairlatent {strategy}", "classifier": clf,
                          "accuracy": row["accuracy"], "dp_difference": row["dp_difference"],
                          "eo_difference": row["eo_difference"], "dominated_by": beaten,
                          "recommended": bool(mark)})
        for name, ref in clf_refs.iterrows():
            lines.append(f"| {name} | {clf} | {ref['accuracy']:.3f} | {ref['dp_difference']:.3f} | "
                         f"{ref['eo_difference']:.3f} | reference |")
            table.append({"method": name, "classifier": clf, **ref.to_dict(), "reference": True})
    print(f"\n{args.data} sensitive={args.sensitive}, {args.repeats} seeds, mean test figures")
    print("\n".join(lines))
    print()
    for clf in result.config.classifiers:
        rec = recommended.get(clf)
        if rec is None:
            continue
        row = summary.loc[(rec["strategy"], clf)]
        base = summary.loc[("none", clf)]
        beaten = dominated_by(row, refs.xs(clf, level="classifier"))
        loss = base["accuracy"] - row["accuracy"]
        print(f"{clf}: recommended {rec['strategy']} (strengths {', '.join(rec['strengths'])}): "
              f"{'dominated by ' + ', '.join(beaten) if beaten else 'on the front'}; accuracy "
              f"{row['accuracy']:.3f} vs baseline {base['accuracy']:.3f} ({-loss * 100:+.1f} points, "
              f"{'within' if loss <= result.config.accuracy_budget + 1e-9 else 'OUTSIDE'} the budget); "
              f"test agrees with validation: {rec['agrees']}")
        front = result.frontier.get(clf, {})
        if front.get("feasible"):
            print(f"    price of the goal (first split): {front['accuracy']:.3f} "
                  f"({(front['accuracy'] - base['accuracy']) * 100:+.1f} points)")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2, default=float))


if __name__ == "__main__":
    main()
