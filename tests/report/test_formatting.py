import math

import numpy as np
import pytest

from fairlatent.report.formatting import MISSING, number, percent


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.12345, "0.123"), (np.float32(0.5), "0.500"), (3, "3.000"), (None, MISSING),
     (math.nan, MISSING), (math.inf, MISSING), ("label", "label")],
)
def test_number(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.25, 1, "25.0%"), (np.float32(0.5), 0, "50%"), (None, 1, MISSING), (math.nan, 1, MISSING),
     ("x", 1, MISSING)],
)
def test_percent(value, digits, expected):
    assert percent(value, digits) == expected
