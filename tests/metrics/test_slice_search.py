"""Slice proposal: beam search, sequential peeling, threshold placement and de-duplication."""

import math

import numpy as np
import pandas as pd

from fairlatent.metrics.slices import SliceCandidate, SliceRule, beam_search, peel
from fairlatent.metrics.slices.propose import _deduplicate
from fairlatent.metrics.slices.rules import Condition, ConditionMasks
from fairlatent.metrics.slices.search import ExcessScore


def _two_regions(seed: int, n: int = 6000):
    """A large mildly worse region (``band``) and a small much worse one (``spot``) elsewhere."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "job": rng.choice(list("pqrs"), n)})
    band = (frame.a > 0).to_numpy()
    spot = (frame.b > 1.2).to_numpy() & (frame.job == "p").to_numpy() & ~band
    rate = np.where(spot, 0.45, np.where(band, 0.2, 0.08))
    return frame, (rng.random(n) < rate).astype(float), band, spot


def _jaccard(a, b):
    return (a & b).sum() / (a | b).sum()


def test_excess_score_is_a_lower_bound_against_the_pool():
    errors = np.r_[np.ones(50), np.zeros(150)]
    rows = np.r_[np.ones(50, bool), np.zeros(150, bool)]
    score = ExcessScore(errors, 10)
    assert 0.5 < score(rows) < 1.0 and score.z_score(rows) > 10  # 100 % against 0 %, minus 4 se
    assert score(np.zeros(200, bool)) == -math.inf and score(np.ones(200, bool)) == -math.inf
    pool = np.r_[np.ones(100, bool), np.zeros(100, bool)]  # half the hits, half the misses left
    assert ExcessScore(errors, 10, pool).z_score(rows) > 5
    # with an expected error equal to the observed one, nothing stands out
    assert abs(ExcessScore(errors, 10, z=0.0, expected=errors)(rows)) < 1e-12


def test_vectorised_thresholds_score_like_the_rows():
    from fairlatent.metrics.slices.search import _best_threshold

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": np.where(rng.random(2000) < 0.05, np.nan, rng.normal(size=2000))})
    errors = (rng.random(2000) < np.where(frame.a > 0.8, 0.4, 0.1)).astype(float)
    masks = ConditionMasks(frame)
    score = ExcessScore(errors, 30, expected=np.full(2000, 0.12))
    z, condition = _best_threshold(masks, np.ones(2000, bool), "a", score)
    assert condition.op == ">" and 0.5 < condition.value < 1.2
    assert abs(z - score(condition.mask(frame))) < 1e-9


def test_beam_search_finds_the_densest_region_not_the_largest():
    """The spot errs at 45 % on 2 % of rows, the band at 20 % on half the rows: the bound picks the
    spot (a z-score would pick the band)."""
    frame, errors, band, spot = _two_regions(0)
    score, rule = beam_search(ConditionMasks(frame), errors, ["a", "b", "job"], min_rows=60)
    assert score > 0.1 and _jaccard(rule.mask(frame), spot) > 0.7


def test_peeling_proposes_both_regions():
    frame, errors, band, spot = _two_regions(1)
    found = peel(ConditionMasks(frame), errors, ["a", "b", "job"], min_rows=60, rounds=3)
    assert len(found) >= 2
    # (the spot's rule may omit "a <= 0" when the band was peeled first: no row left needs it)
    assert max(_jaccard(rule.mask(frame) & ~band, spot) for _, rule in found) > 0.7
    assert max(_jaccard(rule.mask(frame), band) for _, rule in found) > 0.8


def test_peeling_stops_when_nothing_stands_out():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "job": rng.choice(list("pqrs"), 3000)})
    errors = np.zeros(3000)  # the model never errs
    found = peel(ConditionMasks(frame), errors, ["a", "job"],
                 min_rows=30)
    assert found == []


def test_near_identical_candidates_are_merged():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=1000)})

    def cand(cut):
        rule = SliceRule((Condition("a", ">", cut),))
        return SliceCandidate("m", "none", rule, -1, 1.0, 0, 0.0, 0.0, "searched"), rule.mask(frame)

    (c1, m1), (c2, m2), (c3, m3) = cand(1.0), cand(1.02), cand(-0.5)
    kept = _deduplicate([(3.0, c1, m1), (4.0, c2, m2), (2.0, c3, m3)], 0.8)
    assert [c.rule.text() for c in kept] == ["a > 1.02", "a > -0.5"]
