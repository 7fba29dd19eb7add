import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from fairlatent.exceptions import ConfigError, DataError, NotFittedError
from fairlatent.samplers import SyntheticSource
from fairlatent.samplers.outlier_balanced import OutlierBalancedResampler
from fairlatent.samplers.synthesis import CellBalancingResampler, cell_targets
from tests.conftest import GAN_FAST, VAE_FAST, make_biased_frame


@pytest.fixture(scope="module")
def xy():
    frame = make_biased_frame(500, seed=4)
    return frame.drop(columns=["label"]), (frame["label"] == "yes").astype(int)


def test_cell_targets_modes():
    cells = pd.DataFrame(
        {"group": ["a", "a", "b", "b"], "label": [0, 1, 0, 1], "rows": [60, 40, 90, 10]}
    )
    assert cell_targets(cells, "parity")["target"].tolist() == [75, 25, 75, 25]
    assert cell_targets(cells, "largest")["target"].tolist() == [90] * 4
    assert cell_targets(cells, {("b", 1): 30})["target"].tolist() == [60, 40, 90, 30]
    with pytest.raises(ConfigError, match="not a \\(group, label\\) cell"):
        cell_targets(cells, {("c", 1): 5})
    with pytest.raises(ConfigError, match="unknown"):
        cell_targets(cells, "everything")


@pytest.mark.parametrize("cls", [CellBalancingResampler, OutlierBalancedResampler])
def test_fit_resample_balances_cells_and_flags_synthetic_rows(xy, cls):
    X, y = xy
    extra = {"vae_params": VAE_FAST, "vae_epochs": 2} if cls is OutlierBalancedResampler else {}
    sampler = cls(
        sensitive=["group"], epochs=2, gan_params=GAN_FAST, device="cpu", random_state=0, **extra
    )
    X_res, y_res = sampler.fit_resample(X, y)
    assert list(X_res.columns) == list(X.columns)
    assert (X_res.dtypes == X.dtypes).all()
    assert len(X_res) == len(X)  # parity keeps every group's size
    rates = pd.Series(np.asarray(y_res)).groupby(X_res["group"].to_numpy()).mean()
    assert abs(rates["A"] - rates["B"]) < 0.02
    synthetic = sampler.is_synthetic_
    assert synthetic.sum() == sampler.cells_["added"].sum() > 0
    assert (sampler.sample_indices_[synthetic] == -1).all()
    real_pos = sampler.sample_indices_[~synthetic]
    pd.testing.assert_frame_equal(
        X_res[~synthetic].reset_index(drop=True), X.iloc[real_pos].reset_index(drop=True)
    )
    # honest conditioning: synthetic rows carry the group they were generated for
    assert set(X_res.loc[synthetic, "group"]) <= {"A", "B"}
    assert set(X_res.loc[synthetic, "job"]) <= set(X["job"])
    assert sampler.n_features_in_ == X.shape[1]
    assert list(sampler.feature_names_in_) == list(X.columns)
    clone(sampler)


def test_same_seed_same_rows(xy):
    X, y = xy
    a = CellBalancingResampler(
        sensitive=["group"], epochs=2, gan_params=GAN_FAST, device="cpu", random_state=1
    )
    b = clone(a)
    pd.testing.assert_frame_equal(a.fit_resample(X, y)[0], b.fit_resample(X, y)[0])


def test_add_only_and_bad_input(xy):
    X, y = xy
    sampler = CellBalancingResampler(
        sensitive=["group"],
        keep_size=False,
        target_sizes="largest",
        epochs=1,
        gan_params=GAN_FAST,
        device="cpu",
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == 4 * sampler.cells_["rows"].max()
    with pytest.raises(DataError, match="DataFrame"):
        sampler.fit_resample(X.to_numpy(), y)
    with pytest.raises(ConfigError, match="needs groups"):
        CellBalancingResampler(epochs=1).fit_resample(X, y)


def test_in_an_imblearn_pipeline(xy):
    from imblearn.pipeline import Pipeline

    from fairlatent.classifiers import make_classifier

    X, y = xy
    pipe = Pipeline(
        [
            (
                "balance",
                CellBalancingResampler(
                    sensitive=["group"], epochs=1, gan_params=GAN_FAST, device="cpu", random_state=0
                ),
            ),
            (
                "model",
                make_classifier(
                    "logreg", numeric=["age", "hours", "score"], categorical=["job", "city"]
                ),
            ),
        ]
    )
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (len(X),)


def test_synthetic_source_shows_the_generator_in_readable_columns(xy):
    X, y = xy
    sampler = CellBalancingResampler(
        sensitive=["group"], epochs=1, gan_params=GAN_FAST, device="cpu", random_state=0
    )
    with pytest.raises(NotFittedError, match="not fitted"):
        sampler.synthetic_source()
    sampler.fit_resample(X, y)
    source = sampler.synthetic_source(target_name="income")
    assert isinstance(source, SyntheticSource)
    features = [c for c in X.columns if c != "group"]
    assert source.columns == [*features, "[group]", "[income]"]
    assert (source.group_column, source.label_column) == ("[group]", "[income]")
    real = source.real_frame(X, y, X["group"])
    assert list(real.columns) == source.columns
    assert set(real["[group]"]) == {"A", "B"} and set(real["[income]"]) == {"0", "1"}
    pd.testing.assert_frame_equal(real[features], X[features])
    fake = source.sample(50, random_state=3)
    assert list(fake.columns) == source.columns and len(fake) == 50
    pd.testing.assert_frame_equal(fake, source.sample(50, random_state=3))
    # one GAN, one identity: a sampler reusing the fitted GAN hands over an equal source
    reuse = clone(sampler)
    reuse.fit_resample(X, y, fitted_gan=sampler.gan_)
    assert reuse.synthetic_source().identity == source.identity
    other = clone(sampler)
    other.fit_resample(X, y)  # a GAN of its own
    assert other.synthetic_source().identity != source.identity
