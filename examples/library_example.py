"""fairlatent as a library: an audit, then a debiasing sampler inside an imbalanced-learn pipeline.

Run from the repository root (takes a minute or two on a laptop CPU):

    .venv/bin/python examples/library_example.py
"""

from __future__ import annotations

from imblearn.pipeline import Pipeline

import fairlatent
from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data import GROUP_COLUMN, prepare, read_table
from fairlatent.metrics import evaluate_predictions
from fairlatent.samplers import LatentDensityResampler

frame = read_table("examples/adult.csv.gz")

# 1. The audit: the baseline, reweighing and the latent equalized-odds strategy, each strategy's
#    strength tuned on validation rows carved out of the training rows, every model scored on the
#    same real test rows; the verdict recommends the strategy that validation picked.
result = fairlatent.audit(
    frame,
    target="income",
    sensitive="sex",
    positive_label=">50K",
    strategies=["none", "reweigh", "latent-eo"],
    classifiers=["logreg"],
    n_boot=100,
)
print(result.summary()[["accuracy", "dp_difference", "eo_difference"]].round(3))
print(result.verdict()[0]["recommendation"]["strategy"], result.verdict()[0]["recommendation"]["strengths"])
fairlatent.write_report(result, "reports/library_example")

# 2. The DB-VAE sampler inside an imbalanced-learn pipeline, against the same pipeline without it.
#    Its defaults are the `vae` strategy's (density within each group, the `max` rule, alpha 0.01).
data = prepare(frame, target="income", sensitive=["sex"])
train, test = stratified_split(data.frame, target="income", test_size=0.3, random_state=0)
features = data.schema.features + data.schema.sensitive  # the sampler needs `sex` as a column ...
numeric, categorical = split_feature_kinds(train, data.schema.features)  # ... the model does not


def scores(predicted) -> dict[str, float]:
    summary = evaluate_predictions(test["income"], predicted, test[GROUP_COLUMN], n_boot=0).summary
    return {k: round(summary[k], 3) for k in ("accuracy", "dp_difference", "eo_difference")}


baseline = make_classifier("logreg", numeric=numeric, categorical=categorical)
baseline.fit(train[features], train["income"])
print("baseline          ", scores(baseline.predict(test[features])))

sampler = LatentDensityResampler(sensitive=["sex"], epochs=20, random_state=0)
pipeline = Pipeline(
    [("debias", sampler), ("model", make_classifier("logreg", numeric=numeric,
                                                    categorical=categorical))]
)
pipeline.fit(train[features], train["income"])
print("DB-VAE, resampled ", scores(pipeline.predict(test[features])))

# The same weights as `sample_weight` (what the `vae` strategy does by default): no duplicated rows.
weights = LatentDensityResampler(sensitive=["sex"], epochs=20, random_state=0).compute_sample_weight(
    train[features], train["income"]
)
weighted = make_classifier("logreg", numeric=numeric, categorical=categorical)
weighted.fit(train[features], train["income"], model__sample_weight=weights)
print("DB-VAE, weighted  ", scores(weighted.predict(test[features])))
