"""Strength tuning: the stated objective, admissibility, and no peeking at the test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairlatent
from fairlatent.engine import units as units_module
from fairlatent.engine.tuning import Candidate, choose, objective
from fairlatent.strategies import STRATEGIES, StrategySpec
from fairlatent.strategies.base import OFF, FittedStrategy, Strategy, StrategyOutput, Strength
from tests.conftest import make_biased_frame


def cand(label, acc, dp, eo, identity=False):
    return Candidate(Strength(label, identity=identity),
                     {"accuracy": acc, "dp_difference": dp, "eo_difference": eo})


def test_objective_is_the_larger_gap_and_nan_is_worst():
    assert objective({"dp_difference": 0.1, "eo_difference": 0.3}) == 0.3
    assert objective({"dp_difference": float("nan"), "eo_difference": 0.3}) == 1.0


def test_choose_respects_budget_and_prefers_accuracy_on_ties():
    grid = [cand("off", 0.85, 0.20, 0.10, True), cand("a", 0.80, 0.01, 0.01),
            cand("b", 0.84, 0.05, 0.05), cand("c", 0.845, 0.05, 0.04)]
    chosen = choose(grid, baseline_accuracy=0.85, budget=0.015)
    assert chosen.strength.label == "c" and chosen.chosen
    assert not grid[1].admissible and grid[2].admissible
    assert sum(c.chosen for c in grid) == 1


def test_choose_stays_off_when_nothing_is_fairer_within_budget():
    grid = [cand("off", 0.85, 0.05, 0.05, True), cand("a", 0.70, 0.0, 0.0),
            cand("b", 0.85, 0.06, 0.05)]
    assert choose(grid, baseline_accuracy=0.85, budget=0.015).strength.identity


class _FittedBlend(FittedStrategy):
    def __init__(self, context):
        self.context = context

    def grid(self):
        return [OFF, Strength("0.5", {"mix": 0.5}), Strength("1", {"mix": 1.0})]

    def default(self):
        return Strength("1", {"mix": 1.0})

    def transform(self, frame, strength):
        from fairlatent.strategies.baseline import reweighing_weights

        mix = strength.params.get("mix", 0.0)
        w = reweighing_weights(frame[self.context.group_column], frame[self.context.target])
        return StrategyOutput(frame=frame, sample_weight=1 + mix * (w - 1))


class BlendReweigh(Strategy):
    """A tunable strategy local to these tests (reweighing mixed with uniform weights)."""

    def _fit(self, train, context):
        return _FittedBlend(context)


@pytest.fixture
def blend():
    STRATEGIES.register(StrategySpec("blend", BlendReweigh, "test-only tunable reweighing"))
    yield "blend"
    STRATEGIES.unregister("blend")


def _audit(frame, **options):
    return fairlatent.audit(frame, target="label", sensitive="group", strategies=["none", "blend"],
                            classifiers=["logreg", "hgb"], n_boot=0, repeats=2, **options)


def test_tuning_table_and_choice_are_recorded(blend):
    result = _audit(make_biased_frame(900, seed=3))
    tables = [t for t in result.tuning if t["strategy"] == "blend"]
    assert len(tables) == 4  # 2 repeats x 2 classifiers
    for table in tables:
        assert [c["strength"] for c in table["candidates"]] == ["off", "0.5", "1"]
        assert sum(c["chosen"] for c in table["candidates"]) == 1
        assert table["chosen"] in {"off", "0.5", "1"}
    chosen = {(r.repeat, r.classifier): r.strength for r in result.records if r.strategy == "blend"}
    assert chosen == {(t["repeat"], t["classifier"]): t["chosen"] for t in tables}
    assert result.verdict()[0]["recommendation"]["classifier"] == "logreg"


def test_selection_never_touches_test_rows(blend, monkeypatch):
    frame = make_biased_frame(900, seed=4)
    honest = _audit(frame)
    real_split = units_module.make_split

    def poisoned(plan, repeat):
        split = real_split(plan, repeat)
        test = split.test.copy()
        test[plan.cfg.target] = 1 - test[plan.cfg.target]  # every test label flipped
        return units_module.Split(split.seed, split.train, test, split.fitting, split.validation)

    monkeypatch.setattr(units_module, "make_split", poisoned)
    poisoned_result = _audit(frame)
    choice = lambda res: [(t["repeat"], t["classifier"], t["chosen"]) for t in res.tuning]  # noqa: E731
    assert choice(poisoned_result) == choice(honest)
    honest_acc = honest.summary()["accuracy"].to_numpy()
    assert not np.allclose(poisoned_result.summary()["accuracy"].to_numpy(), honest_acc)


def test_no_tune_uses_default_strength_on_all_training_rows(blend):
    result = _audit(make_biased_frame(600, seed=5), tune=False)
    assert result.tuning == []
    assert {r.strength for r in result.records if r.strategy == "blend"} == {"1"}
    train_rows = {r.train_rows for r in result.records if r.strategy == "none"}
    assert train_rows == {420}  # 70% of 600: nothing carved out when not tuning
    assert result.verdict()[0]["recommendation"] is None


def _small_audit(**options):
    return fairlatent.audit(make_biased_frame(500, seed=6), target="label", sensitive="group",
                            n_boot=50, strategies=["none", "reweigh", "blend"],
                            classifiers=["logreg"], repeats=2, **options)


def test_parallel_run_equals_the_serial_run(blend):
    pd.testing.assert_frame_equal(_small_audit(jobs=2).metrics, _small_audit().metrics)


@pytest.mark.slow
def test_dask_run_equals_the_serial_run(blend):
    pytest.importorskip("dask.distributed")
    dask = _small_audit(jobs=2, backend="dask")
    pd.testing.assert_frame_equal(dask.metrics, _small_audit().metrics)


@pytest.mark.slow
def test_ray_backend_equals_the_serial_run():
    """Ray is an optional extra (not installed in CI; Dask is the tested primary engine)."""
    pytest.importorskip("ray")
    frame = make_biased_frame(400, seed=7)
    options = {"target": "label", "sensitive": "group", "n_boot": 20, "repeats": 2,
               "strategies": ["none", "reweigh"], "classifiers": ["logreg"]}
    serial = fairlatent.audit(frame, **options)
    on_ray = fairlatent.audit(frame, jobs=2, backend="ray", **options)
    pd.testing.assert_frame_equal(on_ray.metrics, serial.metrics)
