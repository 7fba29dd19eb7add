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

# 1. The audit: classifiers trained on the original and reweighed data, evaluated on real test rows.
result = fairlatent.audit(
    frame,
    target="income",
    sensitive="sex",
    strategies=["none", "reweigh"],
    classifiers=["logreg"],
    n_boot=100,
)
print(result.summary()[["accuracy", "dp_difference", "eo_difference"]].round(3))
fairlatent.write_report(result, "reports/library_example")

# 2. The DB-VAE sampler in a pipeline: rows from rare latent regions are drawn more often during fit.
data = prepare(frame, target="income", sensitive=["sex"])
train, test = stratified_split(data.frame, target="income", test_size=0.3, random_state=0)
features = data.schema.features + data.schema.sensitive  # the sampler needs `sex` as a column ...
numeric, categorical = split_feature_kinds(
    train, data.schema.features
)  # ... the classifier does not use it
pipeline = Pipeline(
    [
        ("debias", LatentDensityResampler(sensitive=["sex"], epochs=20, random_state=0)),
        ("model", make_classifier("logreg", numeric=numeric, categorical=categorical)),
    ]
)
pipeline.fit(train[features], train["income"])
evaluation = evaluate_predictions(
    test["income"], pipeline.predict(test[features]), test[GROUP_COLUMN], n_boot=0
)
print(
    {
        k: round(v, 3)
        for k, v in evaluation.summary.items()
        if k in ("accuracy", "dp_difference", "eo_difference")
    }
)
