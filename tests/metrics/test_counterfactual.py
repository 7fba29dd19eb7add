"""Counterfactual flips through the group-conditional VAE: no effect, a planted direct effect."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fairlatent
from fairlatent.exceptions import DataError
from fairlatent.metrics.counterfactual import counterfactual_rows, flip_rates
from fairlatent.metrics.latent_space import fit_latent_coder

FLIP_KEYS = {"classifier", "strategy", "group", "flip_rate", "low", "high", "n"}


def _frame(n, seed, delta):
    """Features independent of sex; the label has a direct effect ``delta`` of sex."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    job = rng.choice(["a", "b", "c"], n)
    sex = rng.choice(["F", "M"], n)
    logit = 2 * x1 - x2 + 0.5 * (job == "a") + delta * (sex == "M")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "job": job, "sex": sex, "y": y}), logit


def _model(train, features):
    categorical = [c for c in ("job", "sex") if c in features]
    ct = make_column_transformer((StandardScaler(), ["x1", "x2"]),
                                 (OneHotEncoder(handle_unknown="ignore"), categorical))
    return make_pipeline(ct, LogisticRegression()).fit(train[features], train.y)


@pytest.fixture(scope="module")
def worlds():
    out = {}
    for delta in (0.0, 1.0):
        train, _ = _frame(3000, 0, delta)
        test, logit = _frame(2000, 1, delta)
        coder = fit_latent_coder(train, columns=["x1", "x2", "job"], sensitive=["sex"], epochs=30,
                                 device="cpu", random_state=0)
        out[delta] = (train, test, logit, coder)
    return out


def test_no_flips_when_the_model_does_not_see_the_group(worlds):
    train, test, _, coder = worlds[1.0]
    features = ["x1", "x2", "job"]
    out = fairlatent.counterfactual_flips(_model(train, features), test, sensitive=["sex"],
                                          features=features, target="y", coder=coder, n_boot=100)
    for entry in out["counterfactual"]:
        assert set(entry) >= FLIP_KEYS
        assert entry["flip_rate"] <= 0.02
        assert entry["n"] == int((test.sex == entry["group"]).sum())


def test_flip_rate_recovers_a_planted_direct_effect(worlds):
    train, test, logit, coder = worlds[1.0]
    features = ["x1", "x2", "job", "sex"]
    out = fairlatent.counterfactual_flips(_model(train, features), test, sensitive=["sex"],
                                          features=features, target="y", coder=coder, n_boot=100)
    male = (test.sex == "M").to_numpy()
    without = logit - 1.0 * male
    oracle = np.mean((without + 1.0 > 0) != (without > 0))  # Bayes decisions that change
    for entry in out["counterfactual"]:
        assert abs(entry["flip_rate"] - oracle) < 0.04
        assert entry["low"] <= entry["flip_rate"] <= entry["high"]
    women = next(e for e in out["counterfactual"] if e["group"] == "F")
    assert women["to_favourable"] > 0.9 * women["flip_rate"]  # as men they would be favoured


def test_decoded_rows_carry_the_group_and_compare_decoded_with_decoded(worlds):
    _, test, _, coder = worlds[0.0]
    rows = counterfactual_rows(coder, test.head(50), test.sex.head(50), group_column="_fl_group")
    assert set(rows.other) == {"F", "M"}
    assert (rows.other["M"]["sex"] == "M").all() and (rows.other["M"]["_fl_group"] == "M").all()
    assert (rows.own["sex"].to_numpy() == test.sex.head(50).to_numpy()).all()

    def constant(frame):
        return np.ones(len(frame), dtype=int)

    result = flip_rates(rows, constant, n_boot=20)
    assert all(e["flip_rate"] == 0.0 for e in result.entries)


def test_unknown_group_is_one_clear_error(worlds):
    _, test, _, coder = worlds[0.0]
    with pytest.raises(DataError, match="does not know"):
        counterfactual_rows(coder, test.head(5), ["X"] * 5)


def test_wrapped_encoder_maps_categories_it_never_saw():
    """A coder over a model fitted elsewhere encodes rows with categories only the frame holds."""
    from fairlatent.models.vae.invariant import InvariantEncoder

    train, _ = _frame(400, 3, 0.0)
    seen = train[train["job"] != "c"].reset_index(drop=True)
    encoder = InvariantEncoder(epochs=2, latent_dim=2, hidden_dims=(8,), random_state=0).fit(
        seen[["x1", "x2", "job"]], sensitive_features=seen["sex"]
    )
    coder = fit_latent_coder(train, columns=["x1", "x2", "job"], sensitive=["sex"],
                             encoder=encoder)
    codes = coder.encode(train)
    assert codes.shape == (len(train), 2)
    assert np.isfinite(codes).all()
