import numpy as np
import pytest
from scipy.stats import multivariate_normal

from fairlatent.exceptions import ConfigError, DataError, NotFittedError
from fairlatent.samplers.density_ratio import GroupDensityRatio

MEANS = {"a": np.array([0.0, 0.0]), "b": np.array([1.0, -0.5])}


def two_gaussians(n=2000, share_a=0.7, seed=0):
    """Groups a and b are unit Gaussians around MEANS: the pooled/own density ratio is known."""
    rng = np.random.default_rng(seed)
    groups = np.where(rng.random(n) < share_a, "a", "b")
    z = np.stack([rng.multivariate_normal(MEANS[g], np.eye(2)) for g in groups])
    density = {g: multivariate_normal(MEANS[g], np.eye(2)).pdf(z) for g in MEANS}
    p_a = np.mean(groups == "a")
    pooled = p_a * density["a"] + (1 - p_a) * density["b"]
    own = np.where(groups == "a", density["a"], density["b"])
    return z, groups, np.log(pooled / own)


def test_estimated_log_ratio_tracks_the_true_one_and_rebalances_group_means():
    z, groups, true_log_ratio = two_gaussians()
    ratio = GroupDensityRatio(random_state=0).fit(z, groups).ratio_
    assert np.corrcoef(true_log_ratio, np.log(ratio))[0, 1] > 0.9
    pooled_mean = z.mean(axis=0)
    for g in ("a", "b"):
        rows = groups == g
        before = np.abs(z[rows].mean(axis=0) - pooled_mean).max()
        after = np.abs(np.average(z[rows], axis=0, weights=ratio[rows]) - pooled_mean).max()
        assert after < 0.25 * before


def test_flexible_classifier_and_new_points():
    z, groups, true_log_ratio = two_gaussians(seed=1)
    model = GroupDensityRatio(estimator="hgb", random_state=0).fit(z, groups)
    assert np.corrcoef(true_log_ratio, np.log(model.ratio_))[0, 1] > 0.7
    new_z, new_groups, new_truth = two_gaussians(500, seed=2)
    predicted = GroupDensityRatio(random_state=0).fit(z, groups).predict_ratio(new_z, new_groups)
    assert np.corrcoef(new_truth, np.log(predicted))[0, 1] > 0.9


def test_strata_clip_and_unmodelled_groups():
    z, groups, _ = two_gaussians(1200, seed=3)
    strata = np.arange(len(z)) % 2
    groups = groups.copy()
    groups[:3] = "tiny"  # too few rows to model: ratio 1
    model = GroupDensityRatio(clip=2.0, random_state=0).fit(z, groups, strata)
    assert set(model.strata_) == {0, 1}
    assert np.all(model.ratio_[:3] == 1.0)
    assert model.ratio_.min() >= 0.5 and model.ratio_.max() <= 2.0
    again = GroupDensityRatio(clip=2.0, random_state=0).fit(z, groups, strata)
    np.testing.assert_array_equal(model.ratio_, again.ratio_)  # seeded folds
    assert model.predict_ratio(z[:5], np.array(["zzz"] * 5), strata[:5]).tolist() == [1.0] * 5
    one_group = GroupDensityRatio().fit(z, np.array(["a"] * len(z)))
    assert np.all(one_group.ratio_ == 1.0)


def test_errors():
    z, groups, _ = two_gaussians(100)
    with pytest.raises(ConfigError, match="n_splits"):
        GroupDensityRatio(n_splits=1).fit(z, groups)
    with pytest.raises(ConfigError, match="clip"):
        GroupDensityRatio(clip=0.5).fit(z, groups)
    with pytest.raises(ConfigError, match="estimator"):
        GroupDensityRatio(estimator="forest").fit(z, groups)
    with pytest.raises(DataError, match="groups"):
        GroupDensityRatio().fit(z, groups[:10])
    with pytest.raises(NotFittedError):
        GroupDensityRatio().predict_ratio(z, groups)
