"""The verdict rests on well-supported groups, carries intervals and lists thin groups apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairlatent
from fairlatent.metrics.fairness import compared_groups, evaluate_predictions, group_support
from fairlatent.results.comparison import change_mark, comparison_rows, reference_grid


def recidivism_like(seed: int = 0) -> pd.DataFrame:
    """Two large groups with a moderate real gap, two tiny groups with extreme rates."""
    rng = np.random.default_rng(seed)
    spec = {"Large-A": (3000, 0.55), "Large-B": (2000, 0.75), "Tiny-X": (14, 0.95),
            "Tiny-Y": (30, 0.05)}
    parts = []
    for group, (n, rate) in spec.items():
        y = (rng.random(n) < rate).astype(int)
        parts.append(pd.DataFrame({
            "race": group,
            "priors": rng.poisson(np.where(y == 1, 1.0, 4.0)),
            "age": rng.integers(18, 70, n),
            "charge": rng.choice(["F", "M"], n),
            "outcome": np.where(y == 1, "no", "yes"),
        }))
    return pd.concat(parts).sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def result():
    return fairlatent.audit(recidivism_like(), target="outcome", sensitive="race",
                            positive_label="no", classifiers=["logreg"], min_group_size=10,
                            n_boot=100)


def test_verdict_names_the_large_pair_and_lists_tiny_groups_as_too_small(result):
    verdict = result.verdicts()[0]
    head = verdict.headline
    assert head.state == "established"
    top = head.finding
    assert {top.group, top.reference} == {"Large-A", "Large-B"}
    assert top.low <= top.difference <= top.high and (top.low > 0 or top.high < 0)
    assert {t.group for t in head.thin} == {"Tiny-X", "Tiny-Y"}
    text = verdict.text
    assert "Large-A" in text and "Large-B" in text and "Too few test rows to judge" in text
    headline_part = text.split("Too few test rows")[0]
    assert "Tiny-X" not in headline_part and "Tiny-Y" not in headline_part
    assert "[" in headline_part  # every figure carries its interval
    # the pair's own simultaneous interval is quoted, not another statistic's
    assert f"[{top.low * 100:+.1f}, {top.high * 100:+.1f}]" in headline_part
    assert result.headline()[0].startswith("Favourable outcome: outcome = 'no' (as given)")
    assert not head.green


def test_headline_metrics_leave_out_thin_groups(result):
    first = next(r.evaluation for r in result.records if r.strategy == "none")
    assert set(first.compared) == {"Large-A", "Large-B"}
    rates = first.by_group["selection_rate"]
    assert first.summary["dp_difference"] == pytest.approx(abs(rates["Large-A"] - rates["Large-B"]))
    assert first.reference == "Large-A"
    statuses = first.reference_view.set_index(["group", "metric"])["status"]
    assert statuses[("Tiny-X", "selection_rate")] == "too small"
    assert statuses[("Large-B", "selection_rate")] in {"pass", "fail"}


def test_merging_small_groups_keeps_the_favourable_label():
    frame = recidivism_like(2)
    result = fairlatent.audit(frame, target="outcome", sensitive="race", positive_label="no",
                              classifiers=["logreg"], strategies=["none"], min_group_size=20,
                              n_boot=0)
    assert result.schema.merged_groups  # Tiny-X (14 rows) was merged
    assert (result.schema.positive_label, result.schema.negative_label) == ("no", "yes")
    assert result.headline()[0].startswith("Favourable outcome: outcome = 'no'")


def test_reference_grid_and_choice_of_reference():
    frame = recidivism_like(1)
    chosen = fairlatent.audit(frame, target="outcome", sensitive="race", positive_label="no",
                              classifiers=["logreg"], strategies=["none"], min_group_size=10,
                              n_boot=50, reference="Large-B")
    grid = reference_grid(chosen)["logreg"]
    assert grid["reference"] == "Large-B"
    assert [r["group"] for r in grid["rows"]] == ["Large-A", "Tiny-X", "Tiny-Y"]
    cell = grid["rows"][0]["cells"][0]
    assert cell["metric"] == "selection_rate" and cell["ratio_low"] <= cell["ratio"] <= cell["ratio_high"]
    with pytest.raises(fairlatent.FairlatentError, match="reference group 'Nope'"):
        fairlatent.audit(frame, target="outcome", sensitive="race", positive_label="no",
                         strategies=["none"], min_group_size=10, reference="Nope")


def test_support_rule_needs_positives_and_negatives():
    y = np.array([1] * 30 + [0] * 30 + [1] * 25 + [0] * 5 + [1, 0])
    g = np.array(["a"] * 60 + ["b"] * 30 + ["c"] * 2)
    compared, small = compared_groups(group_support(y, g), 20)
    assert compared == [] and small == ["a", "b", "c"]  # fewer than two: nothing is judged
    compared, small = compared_groups(group_support(y, g), 5)
    assert compared == ["a", "b"] and small == ["c"]


def test_paired_marks_need_an_interval_that_excludes_zero():
    rng = np.random.default_rng(0)
    n = 4000
    g = rng.choice(["a", "b"], n)
    y = rng.integers(0, 2, n)
    base = np.where(g == "a", rng.random(n) < 0.6, rng.random(n) < 0.3).astype(int)
    fairer = base.copy()
    flip = (g == "b") & (base == 0) & (rng.random(n) < 0.3)
    fairer[flip] = 1
    tiny = base.copy()
    tiny[np.flatnonzero(g == "b")[:3]] = 1
    ev = {name: evaluate_predictions(y, p, g, n_boot=200, random_state=5)
          for name, p in {"base": base, "fairer": fairer, "tiny": tiny}.items()}
    assert ev["base"].bootstrap_key == ev["fairer"].bootstrap_key
    from fairlatent.metrics.bootstrap import paired_interval

    delta, low, high = paired_interval(ev["base"].replicates["dp_difference"],
                                       ev["fairer"].replicates["dp_difference"])
    assert high < 0 and change_mark("dp_difference", delta, (low, high)) == "better"
    delta, low, high = paired_interval(ev["base"].replicates["dp_difference"],
                                       ev["tiny"].replicates["dp_difference"])
    assert change_mark("dp_difference", delta, (low, high)) == "same"


def test_comparison_rows_carry_intervals(result):
    rows = comparison_rows(result)
    reweigh = next(r for r in rows if r["strategy"] == "reweigh")
    cell = next(c for c in reweigh["cells"] if c["metric"] == "dp_difference")
    assert cell["delta_low"] <= cell["delta_high"]
    assert cell["mark"] in {"better", "worse", "same"}


def test_next_steps_send_only_data_strategies_to_debias():
    from fairlatent.results.next_steps import how_to_apply

    assert "--strategy gan --classifier hgb" in how_to_apply("gan", "hgb")
    for post in ("goal", "threshold", "gan+threshold", "reweigh+threshold"):
        text = how_to_apply(post, "logreg")
        assert "cannot carry" in text and f"--strategy {post}" not in text
