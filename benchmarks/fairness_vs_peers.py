"""fairlatent strategies against fairlearn's mitigations on real data, side by side.

Prints accuracy, DP difference and EO difference on the same stratified 70/30 split (sensitive
columns excluded from the features, as in the audit's default), plus the price of the goal: the best
accuracy any randomised group-threshold rule on the baseline's scores reaches with DP <= 0.04 and
EO <= 0.08 on the test rows (fairlatent.metrics.frontier).

    .venv/bin/python benchmarks/fairness_vs_peers.py --data examples/adult.csv.gz --target income \
        --sensitive sex --strategies none,reweigh,vae,gan,vae+gan
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import fairlatent
from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data import GROUP_COLUMN, prepare, read_table


def peers(data, features, seed: int) -> list[tuple[str, str, float, float, float]]:
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    train, test = stratified_split(data.frame, target=data.target, test_size=0.3, random_state=seed)
    numeric, categorical = split_feature_kinds(data.frame, features)
    cols = numeric + categorical
    rows = []
    for clf in ("logreg", "hgb"):
        pipe = make_classifier(clf, numeric=numeric, categorical=categorical, random_state=seed)
        prep = pipe.named_steps["preprocess"].fit(train[cols])
        Xtr, Xte = prep.transform(train[cols]), prep.transform(test[cols])
        model = pipe.named_steps["model"]
        y, g = test[data.target].to_numpy(), test[GROUP_COLUMN].to_numpy()

        def row(name: str, pred, clf: str = clf, y=y, g=g) -> tuple[str, str, float, float, float]:
            return (
                name,
                clf,
                (pred == y).mean(),
                demographic_parity_difference(y, pred, sensitive_features=g),
                equalized_odds_difference(y, pred, sensitive_features=g),
            )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            eg = ExponentiatedGradient(model, DemographicParity(), max_iter=30)
            eg.fit(Xtr, train[data.target], sensitive_features=train[GROUP_COLUMN])
            pred = eg.predict(Xte, random_state=seed)
            rows.append(row("fairlearn ExpGrad(DP)", pred))
            to = ThresholdOptimizer(
                estimator=model, constraints="demographic_parity", predict_method="predict_proba"
            )
            to.fit(Xtr, train[data.target], sensitive_features=train[GROUP_COLUMN])
            pred = to.predict(Xte, sensitive_features=g, random_state=seed)
            rows.append(row("fairlearn ThresholdOptimizer(DP)", pred))
            print(f"  peers for {clf}: {time.perf_counter() - t0:.1f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="examples/adult.csv.gz")
    parser.add_argument("--target", default="income")
    parser.add_argument("--sensitive", default="sex")
    parser.add_argument("--strategies", default="none,reweigh,vae,gan,vae+gan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    frame = read_table(args.data)
    t0 = time.perf_counter()
    result = fairlatent.audit(
        frame,
        target=args.target,
        sensitive=args.sensitive,
        strategies=args.strategies,
        classifiers=["logreg", "hgb"],
        seed=args.seed,
        epochs=args.epochs,
        n_boot=0,
    )
    seconds = time.perf_counter() - t0
    summary = result.summary()
    print(
        f"\n{args.data} target={args.target} sensitive={args.sensitive} seed={args.seed} "
        f"(audit {seconds:.0f} s, test rows {result.data_summary['test_rows']})"
    )
    print(f"{'method':34s} {'clf':7s} {'accuracy':>8s} {'DP diff':>8s} {'EO diff':>8s}")
    for (strategy, clf), row in summary.iterrows():
        print(
            f"{'fairlatent ' + strategy:34s} {clf:7s} {row['accuracy']:8.3f} "
            f"{row['dp_difference']:8.3f} {row['eo_difference']:8.3f}"
        )
    if not args.no_peers:
        data = prepare(frame, target=args.target, sensitive=result.config.sensitive)
        for name, clf, acc, dp, eo in peers(data, data.schema.features, args.seed):
            print(f"{name:34s} {clf:7s} {acc:8.3f} {dp:8.3f} {eo:8.3f}")
    for clf, front in result.frontier.items():
        base = summary.loc[("none", clf), "accuracy"]
        print(
            f"price of the goal ({clf}): best group-threshold accuracy under DP<=0.04, EO<=0.08 = "
            f"{front['accuracy']:.3f} ({(front['accuracy'] - base) * 100:+.1f} points vs baseline)"
        )
    for name, info in result.strategy_info.items():
        print(
            f"strategy {name}: fit {np.mean(info['fit_seconds']):.1f} s, "
            f"{info['synthetic_rows'][0]} synthetic rows"
        )


if __name__ == "__main__":
    main()
