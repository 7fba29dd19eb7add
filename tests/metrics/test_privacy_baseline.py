"""Memorisation warnings compare synthetic rows with real rows the generator never saw."""

import itertools

import numpy as np
import pandas as pd
import pytest

from fairlatent.metrics.synthetic import privacy_scores, quality_warnings, synthetic_quality
from fairlatent.metrics.synthetic.privacy import copy_excess

LEVELS = (3, 4, 4, 5, 5, 6)


def low_cardinality_world(seed=0):
    """Six categorical columns; a few cells hold most rows, so real rows copy each other often."""
    rng = np.random.default_rng(seed)
    cells = np.array(list(itertools.product(*[range(k) for k in LEVELS])))
    weights = rng.dirichlet(np.full(len(cells), 0.2))

    def draw(n, power=1.0, seed=None):
        p = weights**power / np.sum(weights**power)
        idx = np.random.default_rng(seed).choice(len(cells), n, p=p)
        return pd.DataFrame({f"c{j}": [f"v{v}" for v in cells[idx, j]] for j in range(len(LEVELS))})

    return draw


def memorising(train, n, share, fresh, seed=0):
    """``share`` of the rows copied from ``train``, the rest from ``fresh``."""
    copied = train.sample(int(n * share), replace=True, random_state=seed)
    return pd.concat([copied, fresh.head(n - len(copied))], ignore_index=True)


def privacy_warnings(train, synthetic, holdout):
    report = {"privacy": privacy_scores(train, synthetic, real_holdout=holdout)}
    return report["privacy"], [w for w in quality_warnings(report) if "copies" in w or "closer" in w]


def test_no_warning_where_real_rows_copy_each_other_as_often():
    draw = low_cardinality_world()
    train, holdout = draw(3000, seed=1), draw(1500, seed=2)
    for synthetic in (draw(3000, seed=3), draw(3000, power=1.3, seed=4)):  # faithful, mode-seeking
        privacy, warnings = privacy_warnings(train, synthetic, holdout)
        assert privacy["copy_share_holdout"] > 0.5  # most unseen real rows copy a training row
        assert privacy["copy_share"] > 0.05  # the old rule (any copy above 5%) fired here
        assert warnings == []


def test_warning_fires_on_a_generator_that_copies_training_rows():
    draw = low_cardinality_world()
    train, holdout = draw(3000, seed=1), draw(1500, seed=2)
    copier = train.sample(3000, replace=True, random_state=5)
    privacy, warnings = privacy_warnings(train, copier, holdout)
    assert privacy["copy_share"] == 1.0
    assert len(warnings) == 1
    assert "100.0% of synthetic rows are exact copies of training rows, against" in warnings[0]
    assert "of real rows the generator never saw" in warnings[0]
    excess, z = copy_excess(privacy, rare=False)
    assert excess > 0.2 and z > 3


def mixed_frame(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n).round(3),
            "y": rng.gamma(2.0, 3.0, n).round(2),
            "c": rng.choice(list("abcd"), n),
            "label": rng.choice(["yes", "no"], n),
        }
    )


@pytest.mark.parametrize(("share", "fires"), [(0.0, False), (0.02, False), (0.15, True), (1.0, True)])
def test_memorised_share_on_high_cardinality_data(share, fires):
    train, holdout = mixed_frame(2000, 0), mixed_frame(1000, 1)
    synthetic = memorising(train, 2000, share, mixed_frame(2000, 2))
    privacy, warnings = privacy_warnings(train, synthetic, holdout)
    assert privacy["copy_share_holdout"] == 0.0
    assert bool(warnings) is fires, (privacy, warnings)


def test_quality_report_carries_the_baseline_figures():
    train, holdout = mixed_frame(800, 0), mixed_frame(400, 1)
    report = synthetic_quality(train, train.copy(), real_test=holdout, target="label")
    privacy = report["privacy"]
    assert privacy["copy_share"] == 1.0 and privacy["rare_copy_share"] == 1.0
    assert privacy["copy_share_holdout"] == 0.0 and privacy["rare_copy_share_holdout"] == 0.0
    assert privacy["n_synthetic"] == 800 and privacy["n_holdout"] == 400
    # without real_test, 20% of the training rows are the baseline
    alone = synthetic_quality(train, mixed_frame(800, 5))["privacy"]
    assert alone["n_holdout"] == 160 and "80%" in alone["baseline"]
