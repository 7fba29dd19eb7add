"""The group-conditional VAE with the MMD penalty, and InvariantEncoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairlatent.exceptions import DataError
from fairlatent.metrics.leakage import leakage_probe
from fairlatent.models.vae import TabularVAE
from fairlatent.models.vae.invariant import InvariantEncoder
from fairlatent.models.vae.networks import mmd_penalty, random_features


def proxy_frame(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    return pd.DataFrame({
        "proxy": (sex == "M") * 1.5 + rng.normal(0, 1, n),
        "other": rng.normal(0, 1, n),
        "job": rng.choice(["a", "b", "c"], n),
    }), sex


@parametrize_with_checks([InvariantEncoder(epochs=2, latent_dim=2, hidden_dims=(8,),
                                           device="cpu", random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's own checks; none is expected to fail (missing values are allowed)."""
    check(estimator)


def test_leakage_falls_as_strength_grows():
    frame, sex = proxy_frame()
    aucs = []
    for strength in (0.0, 30.0, 300.0):
        enc = InvariantEncoder(strength=strength, epochs=30, latent_dim=4, hidden_dims=(32,),
                               device="cpu", random_state=0).fit(frame, sensitive_features=sex)
        codes = pd.DataFrame(enc.transform(frame), columns=[f"z{i}" for i in range(4)])
        auc = leakage_probe(codes, numeric=list(codes.columns), categorical=[], groups=sex,
                            n_boot=0)[0]["auc"]
        aucs.append(auc)
    assert aucs[0] > 0.75  # the proxy carries the group into a plain conditional code
    assert aucs[2] < aucs[0] - 0.15
    assert aucs[2] < 0.65


def test_repaired_rows_keep_the_schema_and_lose_the_proxy():
    frame, sex = proxy_frame()
    enc = InvariantEncoder(strength=300.0, epochs=30, latent_dim=4, hidden_dims=(32,),
                           device="cpu", random_state=0).fit(frame, sensitive_features=sex)
    repaired = enc.repair(frame)
    assert list(repaired.columns) == list(frame.columns)
    assert set(repaired["job"].unique()) <= {"a", "b", "c"}
    real = leakage_probe(frame, numeric=["proxy", "other"], categorical=["job"], groups=sex,
                         n_boot=0)[0]["auc"]
    fixed = leakage_probe(repaired, numeric=["proxy", "other"], categorical=["job"], groups=sex,
                          n_boot=0)[0]["auc"]
    assert fixed < real - 0.1
    reference = enc.set_params(decode="reference").repair(frame.head(5))
    assert len(reference) == 5 and enc.reference_group_ in {"F", "M"}


def test_named_sensitive_columns_are_left_out():
    frame, sex = proxy_frame(300)
    frame["sex"] = sex
    enc = InvariantEncoder(sensitive=["sex"], epochs=2, latent_dim=2, device="cpu",
                           random_state=0).fit(frame)
    assert enc.columns_ == ["proxy", "other", "job"]
    assert enc.transform(frame).shape == (300, 2)
    with pytest.raises(DataError, match="not columns of X"):
        InvariantEncoder(sensitive=["race"], epochs=1).fit(frame)


def test_conditional_vae_decode_api_and_persistence(tmp_path):
    frame, sex = proxy_frame(400)
    vae = TabularVAE(epochs=3, latent_dim=3, hidden_dims=(16,), device="cpu", mmd_weight=50.0,
                     random_state=0).fit(frame, groups=sex)
    assert vae.conditional and list(vae.group_levels_) == ["F", "M"]
    z, _ = vae.encode(frame)
    as_f = vae.decode(z, "F")
    per_row = vae.decode(z, sex)
    averaged = vae.decode(z)
    assert len(as_f) == len(per_row) == len(averaged) == 400
    assert list(vae.sample(7, groups="M", random_state=0).columns) == list(frame.columns)
    with pytest.raises(DataError, match="not seen in fit"):
        vae.decode(z[:2], ["F", "X"])
    loaded = TabularVAE.load(vae.save(tmp_path / "vae"))
    np.testing.assert_allclose(
        loaded.decode(z, "M")["proxy"].to_numpy(), vae.decode(z, "M")["proxy"].to_numpy(),
        rtol=1e-5,
    )
    plain = TabularVAE(epochs=1, latent_dim=3, device="cpu", random_state=0).fit(frame)
    with pytest.raises(DataError, match="without groups"):
        plain.decode(z, "F")


def test_random_feature_mmd_tracks_the_exact_one():
    import torch

    gen = torch.Generator().manual_seed(0)
    z = torch.randn(400, 4, generator=gen)
    onehot = torch.zeros(400, 2)
    onehot[:200, 0] = 1
    onehot[200:, 1] = 1
    shifted = z.clone()
    shifted[:200] += 1.5
    feats = random_features(4, gen)
    same = float(mmd_penalty(z, onehot, feats))
    apart = float(mmd_penalty(shifted, onehot, feats))
    exact = float(mmd_penalty(shifted, onehot))
    assert apart > 5 * same
    assert abs(apart - exact) < 0.5 * exact
