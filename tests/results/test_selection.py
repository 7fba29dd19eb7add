"""The do-no-harm rule: worst case over setups, refusing any option that widens a gap in one."""

from __future__ import annotations

import numpy as np
import pytest

from fairlatent.engine.tuning import Candidate, choose
from fairlatent.metrics.harm import gap_change
from fairlatent.results.selection import Option, SetupFigures, select
from fairlatent.strategies.base import OFF, Strength


def figures(setup, accuracy, objective, widened=(), base_acc=0.85, base_obj=0.20):
    return SetupFigures(setup, accuracy, objective, base_acc, base_obj, list(widened))


def test_refuses_an_option_that_widens_a_gap_in_one_setup():
    off = Option("off", [figures("excluded", 0.85, 0.20), figures("used", 0.85, 0.30,
                                                                  base_obj=0.30)], 0.015,
                 identity=True)
    # best on the setup without the column, but widens EO where the model reads the column
    harmful = Option("latent-eo λ=-1.5", [figures("excluded", 0.85, 0.05),
                                          figures("used", 0.85, 0.25, ["eo_difference"], 0.85, 0.30)],
                     0.015)
    modest = Option("reweigh λ=0.5", [figures("excluded", 0.848, 0.15),
                                      figures("used", 0.848, 0.22, base_obj=0.30)], 0.015)
    pick = select([off, harmful, modest])
    assert pick is modest
    assert not harmful.admissible
    assert harmful.refused == ["widens the EO difference beyond noise for used"]
    assert modest.admissible and off.admissible


def test_nothing_is_done_when_every_option_harms_or_costs_too_much():
    off = Option("off", [figures("a", 0.85, 0.20)], 0.015, identity=True)
    widens = Option("x", [figures("a", 0.85, 0.05, ["dp_difference"])], 0.015)
    costly = Option("y", [figures("a", 0.80, 0.02)], 0.015)
    assert select([off, widens, costly]) is off
    assert costly.refused[0].startswith("costs 5.0 accuracy points for a")


def test_the_worst_setup_decides():
    off = Option("off", [figures("a", 0.85, 0.20), figures("b", 0.85, 0.20)], 0.015,
                 identity=True)
    lopsided = Option("x", [figures("a", 0.85, 0.01), figures("b", 0.85, 0.19)], 0.015)
    even = Option("y", [figures("a", 0.85, 0.10), figures("b", 0.85, 0.10)], 0.015)
    assert select([off, lopsided, even]) is even


def test_checks_refuse_without_entering_the_ranking():
    off = Option("off", [figures("audited", 0.85, 0.20)], 0.015, identity=True)
    option = Option("x", [figures("audited", 0.85, 0.10)], 0.015,
                    checks=[figures("other", 0.85, 0.90, ["dp_difference"])])
    assert select([off, option]) is off
    assert option.holds_for == ["audited", "other"]


def test_strength_tuning_uses_the_rule():
    off = Candidate(OFF, {"accuracy": 0.85, "dp_difference": 0.2, "eo_difference": 0.1})
    strong = Candidate(Strength("1"), {"accuracy": 0.85, "dp_difference": 0.05,
                                       "eo_difference": 0.05})
    strong.setups = [figures("excluded", 0.85, 0.05),
                     figures("used", 0.85, 0.4, ["dp_difference"], base_obj=0.3)]
    assert choose([off, strong], baseline_accuracy=0.85, budget=0.015) is off
    assert strong.refused and not strong.admissible


@pytest.mark.parametrize("shift, widened", [(0.0, []), (0.3, ["dp_difference"])])
def test_gap_change_calls_a_widening_only_beyond_noise(shift, widened):
    rng = np.random.default_rng(1)
    n = 2000
    groups = np.repeat(["a", "b"], n // 2)
    y = rng.integers(0, 2, n)
    base = rng.integers(0, 2, n)
    other = base.copy()
    flip = (groups == "a") & (base == 0) & (rng.random(n) < shift)
    other[flip] = 1
    change = gap_change(y, base, other, groups, min_support=20, n_boot=200, random_state=0)
    assert change.judged
    assert [g for g in change.widened if g == "dp_difference"] == widened


def test_gap_change_does_not_judge_groups_without_support():
    y = np.array([1, 0] * 10 + [1] * 3 + [0] * 3)
    groups = np.array(["a"] * 20 + ["b"] * 6)
    change = gap_change(y, y, 1 - y, groups, min_support=5)
    assert not change.judged and change.widened == []
