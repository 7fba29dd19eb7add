import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from fairlatent.exceptions import ConfigError, DataError, NotFittedError, SchemaError
from fairlatent.samplers import LatentDensityResampler, effective_sample_size, group_labels
from tests.conftest import FAST, VAE_FAST


def make_frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n, p=[0.3, 0.7])
    age = rng.integers(18, 80, n).astype(float)
    frame = pd.DataFrame(
        {
            "age": age,
            "hours": rng.normal(40, 8, n),
            "sex": pd.array(sex, dtype="string"),
            "job": rng.choice(["clerk", "sales", "tech"], n),
        }
    )
    frame.loc[::17, "age"] = np.nan
    y = pd.Series(((age > 45) & (sex == "M") | (rng.random(n) < 0.1)).astype(int), name="label")
    return frame, y


def sampler(**params) -> LatentDensityResampler:
    """The global product rule (the paper's), whose machinery these tests exercise."""
    base = {"sensitive": ["sex"], "epochs": FAST["epochs"], "vae_params": VAE_FAST, "device": "cpu",
            "random_state": 0, "scope": "global", "rule": "product"}
    return LatentDensityResampler(**{**base, **params})


def test_library_defaults_equal_the_vae_strategy_defaults():
    from fairlatent.strategies import get_strategy

    library = LatentDensityResampler().get_params()
    strategy = get_strategy("vae")
    assert (library["scope"], library["rule"], library["alpha"]) == (
        strategy.scope, strategy.rule, strategy.alpha
    ) == ("group", "max", 0.01)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_frame()
    s = sampler()
    X_res, y_res = s.fit_resample(X, y)
    return X, y, s, X_res, y_res


def test_fit_resample_keeps_columns_dtypes_and_traces_rows(fitted):
    X, y, s, X_res, y_res = fitted
    assert list(X_res.columns) == list(X.columns)
    assert (X_res.dtypes == X.dtypes).all()
    assert y_res.dtype == y.dtype and y_res.name == "label"
    assert len(X_res) == len(X) == len(s.sample_indices_)
    pd.testing.assert_frame_equal(X_res, X.iloc[s.sample_indices_].reset_index(drop=True))
    np.testing.assert_array_equal(y_res.to_numpy(), y.to_numpy()[s.sample_indices_])
    assert isinstance(X_res.index, pd.RangeIndex)


def test_fitted_attributes(fitted):
    X, _, s, _, _ = fitted
    assert s.weights_.shape == s.rarity_.shape == (len(X),)
    assert np.isclose(s.weights_.mean(), 1.0) and (s.weights_ > 0).all()
    assert ((s.rarity_ >= 0) & (s.rarity_ <= 1)).all()
    assert s.latent_means_.shape == (len(X), 4)
    assert s.vae_.history_ and s.density_.n_features_in_ == 4
    # the latent model re-scores the same rows consistently
    np.testing.assert_allclose(s.latent_model_.encode(X, fitted[1]), s.latent_means_, rtol=1e-5)
    assert s.latent_model_.reconstruction_error(X, fitted[1]).shape == (len(X),)
    # rarer rows get larger weights
    rank_w = pd.Series(s.weights_).rank()
    assert np.corrcoef(rank_w, pd.Series(s.rarity_).rank())[0, 1] > 0.5


def test_same_seed_same_output_and_other_seed_differs(fitted):
    X, y, s, X_res, _ = fitted
    again = sampler()
    X_again, _ = again.fit_resample(X, y)
    np.testing.assert_array_equal(again.sample_indices_, s.sample_indices_)
    np.testing.assert_array_equal(again.weights_, s.weights_)
    pd.testing.assert_frame_equal(X_again, X_res)
    other = sampler(random_state=1)
    other.fit_resample(X, y)
    assert not np.array_equal(other.sample_indices_, s.sample_indices_)


def test_group_scope_keeps_group_sizes_and_size_option():
    X, y = make_frame()
    s = sampler(scope="group", density="gmm", n_components=2)
    X_res, _ = s.fit_resample(X, y)
    pd.testing.assert_series_equal(
        X_res["sex"].value_counts().sort_index(), X["sex"].value_counts().sort_index()
    )
    assert set(s.density_) == {"F", "M"}
    for group in ("F", "M"):
        assert np.isclose(s.weights_[s.groups_ == group].mean(), 1.0)
    sized = sampler(scope="group", size=100)
    X_small, y_small = sized.fit_resample(X, y.to_numpy())
    assert len(X_small) == 100 and isinstance(y_small, np.ndarray)
    share = (X_small["sex"] == "F").mean()
    assert abs(share - (X["sex"] == "F").mean()) < 0.011


def test_weights_path(fitted):
    X, y, s, _, _ = fitted
    w = sampler(sampling="weights").compute_sample_weight(X, y)
    np.testing.assert_array_equal(w, s.weights_)
    with pytest.raises(ConfigError, match="compute_sample_weight"):
        sampler(sampling="weights").fit_resample(X, y)
    model = make_pipeline(
        ColumnTransformer([("num", SimpleImputer(), ["age", "hours"]),
                           ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex", "job"])]),
        LogisticRegression(max_iter=200),
    )
    model.fit(X, y, logisticregression__sample_weight=w)


def test_imblearn_pipeline_and_clone():
    X, y = make_frame()
    model = make_pipeline(
        ColumnTransformer([("num", SimpleImputer(), ["age", "hours"]),
                           ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex", "job"])]),
        LogisticRegression(max_iter=200),
    )
    pipe = Pipeline([("resample", sampler()), ("model", model)])
    pipe.fit(X, y)
    pred = pipe.predict(X)
    assert pred.shape == (len(X),)
    fitted_sampler = pipe.named_steps["resample"]
    assert len(fitted_sampler.sample_indices_) == len(X)
    twin = clone(sampler(scope="group", alpha=0.1))
    assert twin.get_params() == sampler(scope="group", alpha=0.1).get_params()
    assert not hasattr(twin, "weights_")


def test_errors():
    X, y = make_frame(60)
    with pytest.raises(DataError, match="DataFrame"):
        sampler().fit(X.to_numpy(), y)
    with pytest.raises(DataError, match="rows"):
        sampler().fit(X, y[:10])
    with pytest.raises(SchemaError, match="race"):
        sampler(sensitive=["race"]).fit(X, y)
    with pytest.raises(ConfigError, match="scope='group'"):
        sampler(sensitive=(), scope="group").fit(X, y)
    with pytest.raises(ConfigError, match="scope"):
        sampler(scope="local").fit(X, y)
    with pytest.raises(ConfigError, match="size"):
        sampler(size=0).fit(X, y)
    with pytest.raises(ConfigError, match="vae_params"):
        sampler(vae_params={"device": "cpu"}).fit(X, y)
    with pytest.raises(ConfigError, match="alpha"):
        sampler(alpha=-1).fit(X, y)
    with pytest.raises(NotFittedError):
        sampler().draw_indices()


def test_helpers():
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == 1.0
    frame = pd.DataFrame({"a": pd.array(["x", None], dtype="string"), "b": ["1", "2"]})
    assert list(group_labels(frame, ["a", "b"])) == ["x × 1", "(missing) × 2"]
    assert list(group_labels(frame, [])) == ["all", "all"]


def test_latent_model_maps_unseen_values(fitted):
    X, y, s, _, _ = fitted
    new = X.head(5).copy()
    new["job"] = ["pilot", None, "clerk", "tech", "sales"]  # unseen category and unseen NaN
    new.loc[new.index[0], "hours"] = np.nan  # 'hours' had no NaN in training
    z = s.latent_model_.encode(new, y.head(5))
    assert np.isfinite(z).all() and z.shape == (5, 4)
    assert new["job"].iloc[0] == "pilot"  # caller's frame untouched


def test_groups_argument_overrides_sensitive_columns():
    X, y = make_frame()
    groups = np.where(X["age"].fillna(0) > 50, "old", "young")
    s = sampler(sensitive=(), scope="group").fit(X, y, groups=groups)
    assert set(s.density_) == {"old", "young"}
    with pytest.raises(DataError, match="group label"):
        sampler().fit(X, y, groups=groups[:5])


def test_collapsed_weights_are_logged(caplog):
    X, y = make_frame()
    with caplog.at_level("WARNING", logger="fairlatent.samplers.latent_density"):
        s = sampler(alpha=1e-6, bins=20).fit(X, y)
    assert effective_sample_size(s.weights_) < 0.05 * len(X)
    assert "effective sample size" in caplog.text
    with caplog.at_level("WARNING", logger="fairlatent.samplers.latent_density"):
        caplog.clear()
        sampler(alpha=1e6).fit(X, y)
    assert "effective sample size" not in caplog.text


def test_latent_model_column_kinds_come_from_data_kinds():
    from fairlatent.data.kinds import is_numeric
    from fairlatent.samplers.latent_model import LatentModel

    X = pd.DataFrame({"n": [1, 2, 3, None], "flag": [True, False, True, True],
                      "c": pd.array(["a", "b", "b", None], dtype="string")})
    info = LatentModel.describe_columns(X)
    for column in X.columns:
        assert (info[column]["categories"] is None) == is_numeric(X[column])
    assert info["n"]["value"] == 2.0 and info["n"]["has_nan"]
    assert info["flag"]["categories"] == {True, False} and bool(info["flag"]["value"])
    assert info["c"]["value"] == "b" and info["c"]["has_nan"]
