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


def _fit_predict(clf: str, frame: pd.DataFrame, weights, features, test: pd.DataFrame, seed: int):
    pipe = make_classifier(clf, numeric=features.numeric, categorical=features.categorical,
                           random_state=seed)
    fit_params = {} if weights is None else {"model__sample_weight": np.asarray(weights, float)}
    pipe.fit(frame[features.columns], frame[features.target].astype(int), **fit_params)
    return pipe


def _reference_setup(name: str, clf: str, train: pd.DataFrame, test: pd.DataFrame, features,
                     seed: int) -> np.ndarray:
    """CorrelationRemover or ThresholdOptimizer(EO) for one setup (features as the setup reads)."""
    y = train[features.target].to_numpy(int)
    g_tr, g_te = train[GROUP_COLUMN].to_numpy(), test[GROUP_COLUMN].to_numpy()
    pipe = make_classifier(clf, numeric=features.numeric, categorical=features.categorical,
                           random_state=seed)
    prep = pipe.named_steps["preprocess"].fit(train[features.columns])
    X_tr = np.asarray(prep.transform(train[features.columns]), dtype=float)
    X_te = np.asarray(prep.transform(test[features.columns]), dtype=float)
    from sklearn.base import clone

    model = clone(pipe.named_steps["model"])
    if name == "ThresholdOptimizer(EO)":
        from fairlearn.postprocessing import ThresholdOptimizer

        opt = ThresholdOptimizer(estimator=model, constraints="equalized_odds",
                                 predict_method="predict_proba")
        opt.fit(X_tr, y, sensitive_features=g_tr)
        return np.asarray(opt.predict(X_te, sensitive_features=g_te, random_state=seed), int)
    from fairlearn.preprocessing import CorrelationRemover
    from sklearn.impute import SimpleImputer

    levels = sorted(set(g_tr))[1:]
    onehot = lambda g: np.stack([g == level for level in levels], axis=1).astype(float)  # noqa: E731
    imputer = SimpleImputer().fit(X_tr)
    train_x = np.hstack([onehot(g_tr), imputer.transform(X_tr)])
    test_x = np.hstack([onehot(g_te), imputer.transform(X_te)])
    remover = CorrelationRemover(sensitive_feature_ids=list(range(len(levels)))).fit(train_x)
    return np.asarray(model.fit(remover.transform(train_x), y).predict(remover.transform(test_x)),
                      int)


def debias_mode(args: argparse.Namespace) -> None:
    """``debias`` as a user takes it home: every (classifier, setup) cell on the test rows.

    For each seeded split, ``debias --strategy auto`` (and ``invariant`` at fixed strengths) runs
    on the training rows only, tuned for the family {classifiers} x {sensitive column used, not
    used}; every member is then trained on the written rows and scored on the real test rows
    against the same member trained on the real rows, with a paired bootstrap of the DP and EO
    changes (widened beyond noise = the 95 % interval above 0) and the accuracy cost.
    CorrelationRemover and ThresholdOptimizer(EO) are fitted per setup as references. Leakage:
    probe AUCs of the written rows against the real rows'.
    """
    import dataclasses

    from fairlatent.api import audit_plan, prepare_data
    from fairlatent.config import AuditConfig
    from fairlatent.engine.debias import debias_rows
    from fairlatent.engine.units import setup_features
    from fairlatent.metrics.harm import gap_change

    frame = read_table(args.data)
    if args.sample and len(frame) > args.sample:
        frame = frame.sample(args.sample, random_state=0).reset_index(drop=True)
    classifiers = args.classifiers.split(",")
    pool = (args.strategies or "reweigh,vae,latent-eo,invariant").split(",")
    options: dict = {"epochs": args.epochs} if args.epochs else {}
    records, tuning = [], []
    for repeat in range(args.repeats):
        cfg = AuditConfig.from_mapping(
            {}, target=args.target, sensitive=args.sensitive, positive_label=args.positive_label,
            strategies=pool, classifiers=classifiers, seed=args.seed + repeat, device="cpu",
            **options,
        ).validate()
        plan = audit_plan(cfg, prepare_data(frame, cfg))
        split = make_split(plan, 0)
        on_train = dataclasses.replace(plan, frame=split.train)
        runs = {}
        start = time.perf_counter()
        runs["auto"] = debias_rows(on_train, "auto", classifiers, include_sensitive=None)
        print(f"seed {cfg.seed}: auto -> {runs['auto'].strategy} {runs['auto'].strength} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        tuning.append({"seed": cfg.seed, "options": runs["auto"].tuning})
        for label in args.invariant_strengths.split(","):
            if not label:
                continue
            start = time.perf_counter()
            runs[f"invariant {label}"] = debias_rows(
                on_train, "invariant", classifiers, include_sensitive=None, strength=label
            )
            print(f"seed {cfg.seed}: invariant {label} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
        test = split.test
        y_te, g_te = test[cfg.target].to_numpy(int), test[GROUP_COLUMN].to_numpy()
        for clf in classifiers:
            for include in (False, True):
                features = setup_features(plan, include)
                setup = f"{clf}, sensitive {'used' if include else 'not used'}"
                base_pred = _fit_predict(clf, split.train, None, features, test,
                                         cfg.seed).predict(test[features.columns])
                base = _scores(y_te, base_pred, g_te)
                methods = {
                    name: (run.output.frame, run.output.sample_weight, run)
                    for name, run in runs.items()
                }
                for name, (rows, weights, run) in methods.items():
                    pred = _fit_predict(clf, rows, weights, features, test,
                                        cfg.seed).predict(test[features.columns])
                    change = gap_change(y_te, base_pred, pred, g_te, min_support=20,
                                        n_boot=500, random_state=cfg.seed)
                    written = {e["probe"]: e["auc"] for e in run.leakage if e["rows"] == "written"}
                    real = {e["probe"]: e["auc"] for e in run.leakage if e["rows"] == "real"}
                    records.append({
                        "seed": cfg.seed, "classifier": clf, "setup": setup, "method": name,
                        "picked": f"{run.strategy} {run.strength}",
                        **dict(zip(("accuracy", "dp", "eo"), _scores(y_te, pred, g_te),
                                   strict=True)),
                        **dict(zip(("base_accuracy", "base_dp", "base_eo"), base, strict=True)),
                        "widened": change.widened, "changes": change.changes,
                        "leak_linear": written.get("linear"), "leak_boosting": written.get("boosting"),
                        "real_linear": real.get("linear", written.get("linear")),
                        "real_boosting": real.get("boosting", written.get("boosting")),
                    })
                for name in ("CorrelationRemover", "ThresholdOptimizer(EO)"):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        pred = _reference_setup(name, clf, split.train, test, features, cfg.seed)
                    change = gap_change(y_te, base_pred, pred, g_te, min_support=20, n_boot=500,
                                        random_state=cfg.seed)
                    records.append({
                        "seed": cfg.seed, "classifier": clf, "setup": setup, "method": name,
                        "picked": "reference",
                        **dict(zip(("accuracy", "dp", "eo"), _scores(y_te, pred, g_te),
                                   strict=True)),
                        **dict(zip(("base_accuracy", "base_dp", "base_eo"), base, strict=True)),
                        "widened": change.widened, "changes": change.changes,
                    })
        if args.json:
            args.json.write_text(json.dumps({"records": records, "tuning": tuning}, indent=1,
                                            default=float))
    table = pd.DataFrame(records)
    table["cost_points"] = (table["base_accuracy"] - table["accuracy"]) * 100
    table["n_widened"] = table["widened"].map(len)
    print(f"\n{args.data} sensitive={args.sensitive}, {args.repeats} seeds: mean ± std over seeds")
    print("| classifier, setup | method | picks | accuracy | DP diff | EO diff | cost (points) "
          "| cells widened | leakage AUC lin / gbm (real) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (setup, method), part in table.groupby(["setup", "method"], sort=False):
        def ms(col: str, part: pd.DataFrame = part) -> str:
            return f"{part[col].mean():.3f} ± {part[col].std(ddof=0):.3f}"
        leak = "—"
        if "leak_linear" in part and part["leak_linear"].notna().any():
            leak = (f"{part['leak_linear'].mean():.3f} / {part['leak_boosting'].mean():.3f} "
                    f"({part['real_linear'].mean():.3f} / {part['real_boosting'].mean():.3f})")
        picks = ", ".join(sorted(set(part["picked"])))
        print(f"| {setup} | {method} | {picks} | {ms('accuracy')} | {ms('dp')} (base "
              f"{part['base_dp'].mean():.3f}) | {ms('eo')} (base {part['base_eo'].mean():.3f}) | "
              f"{part['cost_points'].mean():+.2f} (max {part['cost_points'].max():+.2f}) | "
              f"{int((part['n_widened'] > 0).sum())}/{len(part)} | {leak} |")


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
    parser.add_argument("--mode", choices=["audit", "debias"], default="audit",
                        help="audit: the audit's strategies against references; debias: what "
                        "'debias --strategy auto' writes, per (classifier, setup) cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=None, help="debias mode: subsample rows")
    parser.add_argument("--invariant-strengths", default="mmd=100,mmd=300",
                        help="debias mode: invariant strengths written besides auto")
    args = parser.parse_args()
    if args.mode == "debias":
        debias_mode(args)
        return
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
