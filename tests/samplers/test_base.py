"""The one input check every sampler shares (BaseSampler), and each sampler's own extra checks.

Every case here fails before any model is trained, so the tests are fast.
"""

import numpy as np
import pandas as pd
import pytest

from fairlatent.exceptions import ConfigError, DataError, SchemaError
from fairlatent.samplers import (
    BaseSampler,
    CellBalancingResampler,
    LatentDensityResampler,
    OutlierBalancedResampler,
    group_labels,
)
from fairlatent.samplers.base import SamplerInput
from fairlatent.samplers.latent_model import LABEL_COLUMN
from fairlatent.samplers.synthetic_source import CELL_GROUP, CELL_LABEL

SAMPLERS = [LatentDensityResampler, CellBalancingResampler, OutlierBalancedResampler]


def make_xy(n: int = 30) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"x": rng.normal(size=n), "sex": rng.choice(["F", "M"], n), "job": rng.choice(["a", "b"], n)}
    )
    return X, pd.Series(rng.integers(0, 2, n), name="label")


@pytest.mark.parametrize("cls", SAMPLERS)
def test_every_sampler_checks_its_input_in_one_style(cls):
    X, y = make_xy()
    sampler = cls(sensitive=["sex"], epochs=1, device="cpu", random_state=0)
    assert isinstance(sampler, BaseSampler)
    # an array is a frame with columns x0, x1, ...: numeric, and without the named columns
    with pytest.raises(DataError, match="could not convert string to float"):
        sampler.fit_resample(X.to_numpy(), y)
    with pytest.raises(SchemaError, match=r"\['sex'\] are not columns of X \(columns: \['x0'\]"):
        sampler.fit_resample(X[["x"]].to_numpy(), y)
    with pytest.raises(DataError, match="X has 30 rows but y has 10"):
        sampler.fit_resample(X, y[:10])
    with pytest.raises(DataError, match="one label per row"):
        sampler.fit_resample(X, np.c_[y, y])
    with pytest.raises(DataError, match="no rows"):
        sampler.fit_resample(X.iloc[:0], y.iloc[:0])
    with pytest.raises(DataError, match="2 missing label"):
        sampler.fit_resample(X, y.astype(float).mask(y.index < 2))
    with pytest.raises(SchemaError, match=r"\['race'\] are not columns of X"):
        cls(sensitive=["race"]).fit_resample(X, y)
    with pytest.raises(DataError, match="X has 30 rows but groups has 3; pass one group label"):
        sampler.fit_resample(X, y, groups=["a", "b", "c"])


@pytest.mark.parametrize(
    ("cls", "reserved"),
    [
        (LatentDensityResampler, [LABEL_COLUMN]),
        (CellBalancingResampler, [CELL_GROUP, CELL_LABEL]),
        (OutlierBalancedResampler, [CELL_GROUP, CELL_LABEL, LABEL_COLUMN]),
    ],
)
def test_reserved_column_names(cls, reserved):
    X, y = make_xy()
    for name in reserved:
        clash = X.assign(**{name: 1})
        with pytest.raises(SchemaError, match=f"{name!r}, which {cls.__name__} reserves"):
            cls(sensitive=["sex"]).fit_resample(clash, y)


def test_samplers_that_need_groups_say_so():
    X, y = make_xy()
    with pytest.raises(ConfigError, match="scope='group' needs groups"):
        LatentDensityResampler(scope="group").fit_resample(X, y)
    with pytest.raises(ConfigError, match="cell balancing needs groups"):
        CellBalancingResampler().fit_resample(X, y)


def test_cell_balancing_also_wants_0_1_labels():
    X, y = make_xy()
    with pytest.raises(SchemaError, match="0/1 labels"):
        CellBalancingResampler(sensitive=["sex"]).fit_resample(X, y + 1)


def test_validated_input_is_normalised():
    X, y = make_xy()
    X.index = X.index + 100
    sampler = CellBalancingResampler(sensitive=["sex"])
    data = sampler._validate_input(X, y.astype(bool), None)
    assert isinstance(data, SamplerInput)
    assert isinstance(data.X.index, pd.RangeIndex) and data.X.index[0] == 0
    assert data.labels.dtype.kind == "i"  # CellBalancing's own label check casts to 0/1 ints
    np.testing.assert_array_equal(data.groups, group_labels(X, ["sex"]))
    assert data.y.dtype == bool  # the caller's y, for the output type
    given = sampler._validate_input(X, y, pd.Series([1, 2] * 15))
    assert list(given.groups[:2]) == ["1", "2"]
    everyone = LatentDensityResampler(scope="global")._validate_input(X, y, None)
    assert set(everyone.groups) == {"all"}


@pytest.mark.parametrize("cls", SAMPLERS)
def test_fit_takes_only_the_samplers_own_keywords(cls):
    X, y = make_xy()
    with pytest.raises(TypeError, match=r"unexpected keyword\(s\) \['fitted_model'\]"):
        cls(sensitive=["sex"]).fit(X, y, fitted_model=None)
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(sensitive=["sex"]).fit_resample(X, y, fitted_model=None)


def test_seeds_are_derived_from_random_state_alone():
    a = LatentDensityResampler(random_state=5)._seeds(3)
    assert a == LatentDensityResampler(random_state=5)._seeds(3) and len(set(a)) == 3
    assert a != LatentDensityResampler(random_state=6)._seeds(3)
