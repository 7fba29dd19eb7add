import math

import pytest

from fairlatent.exceptions import ConfigError
from fairlatent.models.params import check_choice, check_number, check_positive_int, check_widths
from fairlatent.models.seeding import derive_seeds


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", None])
def test_positive_int_rejects(value):
    with pytest.raises(ConfigError, match=r"^epochs must be an integer >= 1, got "):
        check_positive_int("epochs", value)


def test_widths():
    check_widths("hidden_dims", (8, 4))
    check_widths("hidden_dims", ())
    with pytest.raises(ConfigError, match="hidden_dims must be a tuple of ints"):
        check_widths("hidden_dims", "64")
    with pytest.raises(ConfigError, match="each of hidden_dims must be an integer >= 1, got 0"):
        check_widths("hidden_dims", (8, 0))


@pytest.mark.parametrize(
    ("kwargs", "value", "expected"),
    [
        ({}, 0.0, "a number > 0"),
        ({"inclusive": True}, -0.1, "a number >= 0"),
        ({"inclusive": True}, math.inf, "a number >= 0"),
        ({"inclusive": True}, math.nan, "a number >= 0"),
        ({"inclusive": True}, True, "a number >= 0"),
        ({"inclusive": True, "below": 1.0}, 1.0, "a number in [0, 1)"),
        ({"below": 1.0}, 0.0, "a number in (0, 1)"),
    ],
)
def test_number_rejects_with_the_expected_range(kwargs, value, expected):
    with pytest.raises(ConfigError) as info:
        check_number("x", value, **kwargs)
    assert str(info.value) == f"x must be {expected}, got {value!r}"


def test_number_accepts_and_choice():
    check_number("beta", 0.0, inclusive=True)
    check_number("lr", 1e-3)
    check_number("fraction", 0.0, inclusive=True, below=1.0)
    check_choice("numeric", "gmm", ("quantile", "gmm"))
    with pytest.raises(ConfigError, match="numeric must be 'quantile' or 'gmm', got 'gauss'"):
        check_choice("numeric", "gauss", ("quantile", "gmm"))


def test_derive_seeds_is_reproducible_and_distinct():
    assert derive_seeds(3, 4) == derive_seeds(3, 4)
    assert len(set(derive_seeds(3, 4))) == 4


def test_settings_from_converts_declared_scalar_types():
    import dataclasses

    import numpy as np

    from fairlatent.models.params import settings_from

    @dataclasses.dataclass
    class Settings:
        epochs: int
        rate: float
        bf16: bool
        patience: int | None
        spare: int = 7

    class Model:
        epochs = np.int64(3)
        rate = 1
        bf16 = np.bool_(True)
        patience = None

    settings = settings_from(Settings, Model())
    assert (settings.epochs, settings.rate, settings.bf16) == (3, 1.0, True)
    assert type(settings.epochs) is int and type(settings.rate) is float
    assert type(settings.bf16) is bool
    assert settings.patience is None and settings.spare == 7
