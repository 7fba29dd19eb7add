import numpy as np
import pytest
from sklearn.base import clone

from fairlatent.exceptions import ConfigError, DataError, NotFittedError
from fairlatent.models.density import (
    GaussianMixtureDensity,
    HistogramDensity,
    make_density,
)


def one_dim(n_common: int = 190, n_rare: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(0, 0.3, n_common), rng.normal(5, 0.3, n_rare)][:, None]


def two_dim(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 0.5, (300, 2))
    rare = rng.normal(0, 0.5, (12, 2)) + [4.0, -4.0]
    return np.vstack([common, rare])


@pytest.mark.parametrize("rule", ["product", "max"])
def test_histogram_upweights_rare_points_1d(rule):
    z = one_dim()
    density = HistogramDensity(bins=10, alpha=0.01, rule=rule).fit(z)
    w = density.sampling_weights(z)
    assert w.shape == (200,)
    assert np.isclose(w.mean(), 1.0)
    assert (w > 0).all()
    assert w[190:].min() > 3 * np.median(w[:190])
    assert density.rarity(z)[190:].min() > density.rarity(z)[:190].max() - 1e-12


def test_histogram_product_matches_formula():
    z = np.array([[0.0], [0.0], [0.0], [1.0]])
    density = HistogramDensity(bins=2, alpha=0.5).fit(z)
    np.testing.assert_allclose(density.masses_, [[0.75, 0.25]])
    w = density.sampling_weights(z)
    expected = np.array([1 / 1.25, 1 / 1.25, 1 / 1.25, 1 / 0.75])
    np.testing.assert_allclose(w, expected / expected.mean())


def test_histogram_max_rule_matches_lab_code():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(50, 3))
    alpha = 0.001
    density = HistogramDensity(bins=10, alpha=alpha, rule="max").fit(z)
    ref = np.zeros(len(z))
    for i in range(3):
        hist, edges = np.histogram(z[:, i], bins=10)
        hist = hist / hist.sum() + alpha
        hist = hist / hist.sum()
        edges[0], edges[-1] = -np.inf, np.inf
        idx = np.digitize(z[:, i], edges)
        p = 1.0 / hist[idx - 1]
        ref = np.maximum(ref, p / p.sum())
    np.testing.assert_allclose(density.sampling_weights(z), ref / ref.mean())


def test_histogram_outer_edges_are_open():
    z = one_dim()
    density = HistogramDensity().fit(z)
    far = np.array([[-100.0], [100.0]])
    assert np.isfinite(density.log_density(far)).all()
    assert np.isfinite(density.sampling_weights(far)).all()
    assert density.rarity(far).max() <= 1.0


@pytest.mark.parametrize("kind", ["histogram", "gmm"])
def test_large_alpha_gives_uniform_weights(kind):
    z = two_dim()
    w = make_density(kind, alpha=1e9, n_components=2, random_state=0).fit(z).sampling_weights(z)
    np.testing.assert_allclose(w, 1.0, atol=1e-6)


def test_product_rule_in_log_space_does_not_underflow_with_64_dims():
    rng = np.random.default_rng(1)
    z = rng.standard_t(df=2, size=(400, 64))
    density = HistogramDensity(bins=10, alpha=1e-4).fit(z)
    w = density.sampling_weights(z)
    log_d = density.log_density(z)
    assert np.isfinite(w).all() and np.isfinite(log_d).all()
    assert (w > 0).all()
    assert np.isclose(w.mean(), 1.0)
    # naive product of 64 masses would be ~1e-64 or less: the log density must still be ordered
    assert log_d.min() < -64 * np.log(10) / 2
    assert np.corrcoef(np.log(w), -log_d)[0, 1] > 0.9


def test_gmm_upweights_rare_points_2d():
    z = two_dim()
    density = GaussianMixtureDensity(n_components=2, random_state=0).fit(z)
    w = density.sampling_weights(z)
    assert np.isclose(w.mean(), 1.0)
    assert w[300:].mean() > 3 * w[:300].mean()
    rarity = density.rarity(z)
    assert rarity[300:].mean() > 0.8
    assert ((rarity >= 0) & (rarity <= 1)).all()


def test_gmm_is_deterministic_and_caps_components():
    z = two_dim()[:5]
    a = GaussianMixtureDensity(n_components=8, random_state=0).fit(z)
    b = GaussianMixtureDensity(n_components=8, random_state=0).fit(z)
    assert a.mixture_.n_components == 5
    np.testing.assert_array_equal(a.log_density(z), b.log_density(z))


def test_rarity_is_relative_to_fitted_rows():
    z = one_dim()
    density = HistogramDensity().fit(z)
    single = density.rarity(z[195:196])
    assert single[0] == density.rarity(z)[195]


def test_clone_and_errors():
    density = HistogramDensity(bins=4, alpha=0.1, rule="max")
    assert clone(density).get_params() == density.get_params()
    with pytest.raises(NotFittedError):
        density.sampling_weights(one_dim())
    with pytest.raises(ConfigError, match="bins"):
        HistogramDensity(bins=1).fit(one_dim())
    with pytest.raises(ConfigError, match="alpha"):
        HistogramDensity(alpha=0).fit(one_dim())
    with pytest.raises(ConfigError, match="rule"):
        HistogramDensity(rule="sum").fit(one_dim())
    with pytest.raises(ConfigError, match="density"):
        make_density("kde")
    with pytest.raises(DataError, match="2-D"):
        HistogramDensity().fit(np.zeros(5))
    with pytest.raises(DataError, match="NaN"):
        HistogramDensity().fit(np.array([[np.nan], [1.0]]))
    fitted = HistogramDensity().fit(two_dim())
    with pytest.raises(DataError, match="dimension"):
        fitted.log_density(one_dim())
