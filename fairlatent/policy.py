"""The audit's policy: the numbers and names every layer reads, defined once.

This module sits at the bottom of the layer contract and imports nothing from the package. Config
defaults, metrics, findings, the report and the CLI read these values instead of restating them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Name of the baseline strategy (the real training rows as they are).
BASELINE = "none"
#: The classifier ``debias`` tunes for when neither ``--classifier`` nor a config file names one.
DEBIAS_CLASSIFIERS: tuple[str, ...] = ("logreg",)
#: Two-sided coverage of every interval the audit reports (simultaneous over a family where stated).
LEVEL = 0.95
#: Power at which the report states the smallest difference the data could have detected.
POWER = 0.80
#: Fewest favourable *and* unfavourable test rows a group needs to be judged; a rate also needs this
#: many rows in its denominator (e.g. predicted-favourable rows for PPV) in the group and the reference.
MIN_TEST_SUPPORT = 20
#: The four-fifths band: a rate ratio inside it passes (1/0.8 = 1.25 for the upper side).
FOUR_FIFTHS_BAND: tuple[float, float] = (0.8, 1.25)


@dataclass(frozen=True)
class PracticalMargin:
    """Differences too small to matter: a finding is *not detected* when its whole interval is inside.

    Parameters
    ----------
    difference : float, default 0.05
        Largest absolute difference of a rate (group minus reference) that counts as parity.
    ratio : tuple of float, default (0.8, 1.25)
        Range of the rate ratio (group over reference) that counts as parity.

    Examples
    --------
    >>> PracticalMargin().contains(-0.02, 0.04, 0.9, 1.1)
    True
    >>> PracticalMargin().contains(-0.02, 0.06, 0.9, 1.1)
    False
    """

    difference: float = 0.05
    ratio: tuple[float, float] = FOUR_FIFTHS_BAND

    def contains(self, low: float, high: float, ratio_low: float, ratio_high: float) -> bool:
        """Whether a difference interval (and its ratio interval, when defined) lies in the margin."""
        if not (-self.difference <= low and high <= self.difference):
            return False
        if ratio_low != ratio_low or ratio_high != ratio_high:  # NaN: ratio undefined
            return True
        return self.ratio[0] <= ratio_low and ratio_high <= self.ratio[1]


#: Default practical margin of the findings.
PRACTICAL_MARGIN = PracticalMargin()


@dataclass(frozen=True)
class Goal:
    """The mitigation goal the report measures strategies against.

    Parameters
    ----------
    dp_difference : float
        Largest acceptable demographic-parity difference.
    eo_difference : float
        Largest acceptable equalized-odds difference.
    accuracy_loss : float
        Largest acceptable accuracy loss against the baseline, as a fraction (0.015 = 1.5 points).
    """

    dp_difference: float = 0.04
    eo_difference: float = 0.08
    accuracy_loss: float = 0.015


#: The audit's goal: DP <= 0.04 and EO <= 0.08 within 1.5 accuracy points of the baseline.
GOAL = Goal()


@dataclass(frozen=True)
class Calibration:
    """How often the findings procedure errs, measured on data with planted truth.

    Written by ``benchmarks/calibration.py --write`` into ``fairlatent/calibration.json`` (the
    report's methods note quotes it; nothing here is typed in by hand).

    Attributes
    ----------
    false_alarm_rate, false_alarm_error : float
        Share of null datasets (no disparity) on which any finding was ``established``, and its
        Monte-Carlo standard error.
    null_datasets : int
    coverage, coverage_error : float
        Share of datasets whose simultaneous intervals all covered the true differences, and its
        Monte-Carlo standard error.
    coverage_datasets : int
    date, command : str
        When and how it was measured.
    """

    false_alarm_rate: float
    false_alarm_error: float
    null_datasets: int
    coverage: float
    coverage_error: float
    coverage_datasets: int
    date: str
    command: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


#: Where ``benchmarks/calibration.py --write`` records its measurement.
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration | None:
    """Read the measured calibration (``None`` when it was never measured)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        return Calibration(**data)
    except TypeError:
        return None


#: The false-alarm rate and coverage of the findings, as last measured.
MEASURED_CALIBRATION = load_calibration()
