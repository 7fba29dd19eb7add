from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from fairlatent.exceptions import ConfigError, ModelFileError, NotFittedError, SchemaError
from fairlatent.models import TabularVAE
from fairlatent.models.vae import training as vae_training
from tests.conftest import FAST, make_biased_frame
from tests.conftest import VAE_FAST as TINY_VAE

VAE_FAST = {**FAST, **TINY_VAE, "batch_size": 64, "device": "cpu"}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_biased_frame(200, seed=3)


@pytest.fixture(scope="module")
def fitted(frame: pd.DataFrame) -> TabularVAE:
    return TabularVAE(**VAE_FAST, random_state=0).fit(frame)


def test_fit_and_encode_shapes(fitted: TabularVAE, frame: pd.DataFrame) -> None:
    means, log_vars = fitted.encode(frame)
    assert means.shape == log_vars.shape == (len(frame), 4)
    assert means.dtype == np.float32 and np.isfinite(means).all() and np.isfinite(log_vars).all()
    assert len(fitted.history_) == 2
    assert set(fitted.history_[0]) == {
        "epoch", "train_loss", "val_loss", "recon", "kl", "loss", "seconds", "elapsed_seconds"
    }
    assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_loss"]) for h in fitted.history_)
    assert fitted.best_epoch_ in (1, 2)
    assert list(fitted.feature_names_in_) == list(frame.columns)
    assert fitted.encoder_.spans_ == fitted.spans_
    assert not fitted.module_.training


@pytest.mark.slow
def test_default_network_reconstructs_held_out_rows() -> None:
    """The library defaults (one hidden layer of 128) learn the table, not just run.

    The former default, two hidden layers of 128, fails this test: held-out city 0.53, job 0.75.
    """
    rows = make_biased_frame(2400, seed=11, with_missing=False)
    train, held_out = rows.iloc[:2000], rows.iloc[2000:].reset_index(drop=True)
    vae = TabularVAE(device="cpu", random_state=0).fit(train)
    linears = [m for m in vae.module_.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (vae.encoder_.output_dim_, 128),
        (128, 2 * 16),
    ]
    rebuilt = vae.reconstruct(held_out)
    for column in ("job", "city", "group", "label"):
        accuracy = (rebuilt[column].astype(str) == held_out[column].astype(str)).mean()
        assert accuracy >= 0.9, (column, accuracy)
    for column in ("age", "hours", "score"):
        assert np.corrcoef(rebuilt[column], held_out[column])[0, 1] >= 0.8, column


def test_same_seed_same_numbers_and_global_rng_untouched(frame: pd.DataFrame) -> None:
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()
    first = TabularVAE(**VAE_FAST, random_state=7).fit(frame)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    second = TabularVAE(**VAE_FAST, random_state=7).fit(frame)
    np.testing.assert_array_equal(first.encode(frame)[0], second.encode(frame)[0])
    assert [h["train_loss"] for h in first.history_] == [h["train_loss"] for h in second.history_]
    pd.testing.assert_frame_equal(first.sample(30), second.sample(30))
    other = TabularVAE(**VAE_FAST, random_state=8).fit(frame)
    assert not np.array_equal(first.encode(frame)[0], other.encode(frame)[0])


def test_sample_gives_valid_rows(fitted: TabularVAE, frame: pd.DataFrame) -> None:
    rows = fitted.sample(300, random_state=1)
    assert list(rows.columns) == list(frame.columns)
    assert (rows.dtypes == frame.dtypes).all()
    assert len(rows) == 300
    for column in ["job", "city", "group", "label"]:
        assert set(rows[column].dropna()) <= set(frame[column].dropna())
    for column in ["age", "hours", "score"]:
        values = rows[column].dropna()
        assert values.between(frame[column].min(), frame[column].max()).all()
    pd.testing.assert_frame_equal(rows, fitted.sample(300, random_state=1))
    assert not rows.equals(fitted.sample(300, random_state=2))
    assert len(fitted.sample(0)) == 0


def test_reconstruct_and_error(fitted: TabularVAE, frame: pd.DataFrame) -> None:
    rebuilt = fitted.reconstruct(frame)
    assert rebuilt.shape == frame.shape and (rebuilt.dtypes == frame.dtypes).all()
    errors = fitted.reconstruction_error(frame)
    assert errors.shape == (len(frame),) and errors.dtype == np.float64
    assert np.isfinite(errors).all() and (errors >= 0).all()
    # extra columns are ignored, missing ones are a schema error
    assert fitted.encode(frame.assign(extra=1))[0].shape == (len(frame), 4)
    with pytest.raises(SchemaError, match="label"):
        fitted.encode(frame.drop(columns="label"))


def test_callbacks_get_every_epoch(frame: pd.DataFrame) -> None:
    calls = []

    def record(epoch, epochs, metrics):
        calls.append((epoch, epochs, dict(metrics)))

    TabularVAE(**VAE_FAST, random_state=0).fit(frame, callbacks=[record])
    assert [(c[0], c[1]) for c in calls] == [(1, 2), (2, 2)]
    assert "val_loss" in calls[0][2]


def test_early_stopping_restores_best_epoch(frame: pd.DataFrame, monkeypatch) -> None:
    losses = iter([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5])
    monkeypatch.setattr(
        vae_training, "validation_loss", lambda module, val, spans, beta, **kw: next(losses)
    )
    snapshots = {}

    def keep_weights(epoch, epochs, metrics):
        snapshots[epoch] = {k: v.clone() for k, v in vae.module_.state_dict().items()}

    vae = TabularVAE(**{**VAE_FAST, "epochs": 7, "patience": 2}, random_state=0)
    vae.fit(frame, callbacks=[keep_weights])
    assert [h["val_loss"] for h in vae.history_] == [5.0, 4.0, 3.0, 3.5, 3.2]
    assert vae.best_epoch_ == 3
    for name, value in vae.module_.state_dict().items():
        assert torch.equal(value, snapshots[3][name])
    assert not torch.equal(snapshots[3]["decoder.0.weight"], snapshots[5]["decoder.0.weight"])


def test_without_validation_trains_every_epoch(frame: pd.DataFrame) -> None:
    no_val = TabularVAE(**{**VAE_FAST, "val_fraction": 0.0}, random_state=0).fit(frame)
    assert np.isnan(no_val.history_[-1]["val_loss"]) and no_val.best_epoch_ == 2


def test_save_load_round_trip(fitted: TabularVAE, frame: pd.DataFrame, tmp_path) -> None:
    directory = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "weights.pt"]
    config = json.loads((directory / "config.json").read_text())
    assert config["fairlatent_version"] and config["params"]["latent_dim"] == 4
    loaded = TabularVAE.load(directory, device="cpu")
    np.testing.assert_array_equal(loaded.encode(frame)[0], fitted.encode(frame)[0])
    np.testing.assert_array_equal(loaded.encode(frame)[1], fitted.encode(frame)[1])
    pd.testing.assert_frame_equal(
        loaded.sample(20, random_state=5), fitted.sample(20, random_state=5)
    )
    assert loaded.history_ == fitted.history_
    assert loaded.get_params()["hidden_dims"] == (16, 16)


def test_load_bad_directories_raise_model_file_error(fitted: TabularVAE, tmp_path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        TabularVAE.load(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFileError, match="config.json"):
        TabularVAE.load(empty)
    good = fitted.save(tmp_path / "good")

    bad_json = fitted.save(tmp_path / "bad_json")
    (bad_json / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="corrupted"):
        TabularVAE.load(bad_json)

    other = fitted.save(tmp_path / "other")
    (other / "config.json").write_text(json.dumps({"format": "something.else"}))
    with pytest.raises(ModelFileError, match="not a TabularVAE"):
        TabularVAE.load(other)

    bad_weights = fitted.save(tmp_path / "bad_weights")
    (bad_weights / "weights.pt").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="weights"):
        TabularVAE.load(bad_weights)

    wrong_shape = fitted.save(tmp_path / "wrong_shape")
    config = json.loads((good / "config.json").read_text())
    config["params"]["latent_dim"] = 5
    (wrong_shape / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="weights"):
        TabularVAE.load(wrong_shape)


def test_clone_and_not_fitted(fitted: TabularVAE) -> None:
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "module_")
    fresh = TabularVAE()
    for call in (
        lambda: fresh.encode(pd.DataFrame({"a": [1]})),
        lambda: fresh.sample(3),
        lambda: fresh.reconstruct(pd.DataFrame({"a": [1]})),
        lambda: fresh.reconstruction_error(pd.DataFrame({"a": [1]})),
        lambda: fresh.save("unused"),
    ):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize(
    "params",
    [
        {"latent_dim": 0},
        {"hidden_dims": "big"},
        {"beta": -1},
        {"val_fraction": 1.0},
        {"numeric": "ranks"},
        {"device": "tpu"},
        {"patience": 0},
    ],
)
def test_invalid_parameters(params: dict, frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError):
        TabularVAE(**{**VAE_FAST, **params}).fit(frame)


def test_gmm_numeric_encoding(frame: pd.DataFrame) -> None:
    vae = TabularVAE(**VAE_FAST, numeric="gmm", random_state=0).fit(frame.head(120))
    assert any(s.kind == "mode" for s in vae.spans_)
    rows = vae.sample(50, random_state=0)
    assert rows["age"].between(frame["age"].min(), frame["age"].max()).all()


@pytest.mark.gpu
def test_fit_on_cuda(frame: pd.DataFrame) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    vae = TabularVAE(**{**VAE_FAST, "device": "cuda"}, random_state=0).fit(frame)
    assert vae.device_.type == "cuda"
    assert vae.encode(frame)[0].shape == (len(frame), 4)
    assert len(vae.sample(10)) == 10
