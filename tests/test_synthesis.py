"""fairlatent.synthesise: what ``fairlatent synth`` does, on a DataFrame."""

import pandas as pd
import pytest

import fairlatent
from fairlatent.exceptions import ConfigError, SchemaError
from fairlatent.synthesis import fit_synthesiser
from tests.conftest import FAST, make_biased_frame


@pytest.fixture(scope="module")
def frame():
    return make_biased_frame(300)[["age", "job", "group", "label"]]


def test_synthesise_returns_conditioned_rows_and_the_model_same_seed_same_rows(frame):
    first = fairlatent.synthesise(frame, rows=40, condition={"group": "B"}, device="cpu", **FAST)
    assert isinstance(first, fairlatent.Synthesis)
    assert len(first.rows) == 40 and set(first.rows["group"]) == {"B"}
    assert list(first.rows.columns) == list(frame.columns)
    assert 0 < first.acceptance <= 1
    assert first.model.epochs == FAST["epochs"]
    again = fairlatent.synthesise(frame, rows=40, condition={"group": "B"}, device="cpu", **FAST)
    pd.testing.assert_frame_equal(first.rows, again.rows)
    # a fitted model is reused as it is: no training, rows from the same generator
    reused = fairlatent.synthesise(None, rows=5, model=first.model, seed=1)
    assert len(reused.rows) == 5 and reused.model is first.model


def test_synthesise_rejects_bad_requests_before_training(frame):
    with pytest.raises(ConfigError, match="--rows 0 must be at least 1"):
        fairlatent.synthesise(frame, rows=0)
    with pytest.raises(ConfigError, match="nothing to learn from"):
        fairlatent.synthesise(None, rows=5)
    with pytest.raises(SchemaError, match="never occurs"):
        fairlatent.synthesise(frame, rows=5, condition={"group": "C"})
    never_together = frame[~((frame["group"] == "B") & (frame["label"] == "yes"))]
    with pytest.raises(SchemaError, match="no row of the data has group=B and label=yes"):
        fit_synthesiser(never_together, condition={"group": "B", "label": "yes"})


def test_batches_stream_with_progress_and_derived_seeds(frame):
    synth = fit_synthesiser(frame, device="cpu", **FAST)
    seen = []
    batches = list(synth.batches(25, batch_rows=10, progress=lambda done, total: seen.append(done)))
    assert [len(b) for b in batches] == [10, 10, 5] and seen == [10, 20, 25]
    assert not batches[0].equals(batches[1].reset_index(drop=True))
