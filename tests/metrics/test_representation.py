import json

import numpy as np
import pandas as pd
import pytest

from fairlatent.exceptions import DataError, SchemaError
from fairlatent.metrics.representation import representation_audit
from fairlatent.samplers import LatentDensityResampler
from tests.conftest import FAST, VAE_FAST

GROUP = "_fl_group"


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.25, 0.75])
    age = rng.integers(18, 90, n).astype(float)
    frame = pd.DataFrame(
        {
            "age": age,
            "hours": np.where(sex == "Female", rng.normal(30, 5, n), rng.normal(45, 5, n)),
            "sex": pd.array(sex, dtype="string"),
            "job": rng.choice(["clerk", "sales", "tech"], n),
        }
    )
    frame.loc[::19, "hours"] = np.nan
    frame["income"] = ((age > 45) & (sex == "Male") | (rng.random(n) < 0.1)).astype(int)
    frame[GROUP] = frame["sex"]
    return frame


@pytest.fixture(scope="module")
def setup():
    train, test = make_frame(300, 0), make_frame(160, 1)
    X = train.drop(columns=["income", GROUP])
    sampler = LatentDensityResampler(sensitive=["sex"], epochs=FAST["epochs"], vae_params=VAE_FAST, device="cpu",
                                     random_state=0).fit(X, train["income"])
    rng = np.random.default_rng(2)
    predictions = {
        ("none", "logreg"): rng.integers(0, 2, len(test)),
        ("vae", "logreg"): test["income"].to_numpy(),
    }
    rep = representation_audit(sampler.latent_model_, train=train, test=test, target="income",
                               group_column=GROUP, predictions=predictions, random_state=0)
    return sampler, train, test, predictions, rep


def test_audit_is_json_and_has_all_parts(setup):
    _, _, test, _, rep = setup
    json.dumps(rep, allow_nan=False)
    assert rep["n_test"] == len(test) and rep["latent_dim"] == 4
    assert set(rep) >= {"map", "rare_groups", "error_by_decile", "rare_regions", "reconstruction",
                        "training"}
    m = rep["map"]
    assert len(m["x"]) == len(m["y"]) == len(m["group"]) == len(test)
    assert len(m["contour"]["density"]) == len(m["contour"]["y"])
    assert max(max(row) for row in m["contour"]["density"]) == pytest.approx(1.0)
    assert rep["training"]["epoch"] == [1, 2]


def test_rare_group_shares_and_deciles(setup):
    _, _, test, _, rep = setup
    groups = rep["rare_groups"]["groups"]
    assert {g["group"] for g in groups} == {"Female", "Male"}
    for key in ("share_overall", "share_rarest_10", "share_rarest_20"):
        assert sum(g[key] for g in groups) == pytest.approx(1.0)
    dec = rep["error_by_decile"]
    assert dec["deciles"] == list(range(1, 11))
    assert sum(dec["rows"]) == len(test)
    perfect = next(s for s in dec["series"] if s["strategy"] == "vae")
    assert perfect["error"] == [0.0] * 10 and perfect["overall"] == 0.0
    recon = rep["reconstruction"]
    assert sum(g["share_top"] for g in recon["groups"]) == pytest.approx(1.0)


def test_rare_regions_are_described(setup):
    _, _, test, _, rep = setup
    regions = rep["rare_regions"]
    assert regions["n_rare"] == 16
    assert sum(c["rows"] for c in regions["clusters"]) == 16
    for c in regions["clusters"]:
        assert c["conditions"] and "% of rows" in c["description"]
        assert "baseline error" in c["description"]
        assert {e["strategy"] for e in c["errors"]} == {"none", "vae"}


def test_same_seed_same_audit(setup):
    sampler, train, test, predictions, rep = setup
    again = representation_audit(sampler.latent_model_, train=train, test=test, target="income",
                                 group_column=GROUP, predictions=predictions, random_state=0)
    assert json.dumps(again) == json.dumps(rep)


def test_input_errors(setup):
    sampler, train, test, predictions, _ = setup
    with pytest.raises(SchemaError, match="income"):
        representation_audit(sampler.latent_model_, train=train, test=test.drop(columns="income"),
                             target="income", group_column=GROUP, predictions={})
    with pytest.raises(DataError, match="one prediction per test row"):
        representation_audit(sampler.latent_model_, train=train, test=test, target="income",
                             group_column=GROUP, predictions={("none", "logreg"): [0, 1]})
