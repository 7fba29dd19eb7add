import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from fairlatent.exceptions import (
    ConfigError,
    FairlatentError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from fairlatent.models.gan import TabularGAN
from tests.conftest import FAST, make_biased_frame

SMALL = {
    **FAST,
    "embedding_dim": 16,
    "generator_dims": (32, 32),
    "critic_dims": (32, 32),
    "batch_size": 100,
    "device": "cpu",
}
CELL = {"group": "B", "label": "yes"}


def make_gan(**kwargs) -> TabularGAN:
    params = {**SMALL, "condition_columns": ["group", "label"], "random_state": 0, **kwargs}
    return TabularGAN(**params)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_biased_frame(400, seed=1)


CALLS: list = []


@pytest.fixture(scope="module")
def fitted(frame) -> TabularGAN:
    return make_gan().fit(frame, callbacks=[lambda e, n, m: CALLS.append((e, n, dict(m)))])


def test_sample_shape_dtypes_and_domain(fitted, frame):
    out = fitted.sample(200, random_state=0)
    assert out.shape == (200, frame.shape[1])
    assert list(out.columns) == list(frame.columns)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    for col in ("job", "city", "group", "label"):
        assert set(out[col].dropna()) <= set(frame[col].dropna())
    assert (out["age"] == out["age"].round()).all()
    for col in ("age", "hours", "score"):
        values = out[col].dropna()
        assert values.min() >= frame[col].min() and values.max() <= frame[col].max()
    assert fitted.sample(0).shape == (0, frame.shape[1])


def test_history_and_callbacks(fitted):
    assert [c[:2] for c in CALLS] == [(1, 2), (2, 2)]
    assert len(fitted.history_) == 2
    assert {"generator_loss", "critic_loss", "condition_loss", "seconds"} <= set(fitted.history_[0])
    assert all(np.isfinite(v) for h in fitted.history_ for v in h.values())


def test_conditional_sampling_is_honest(fitted):
    out = fitted.sample(60, condition=CELL, random_state=0)
    assert len(out) == 60
    assert (out["group"] == "B").all() and (out["label"] == "yes").all()
    stats = fitted.last_sample_stats_
    assert stats["requested"] == 60 and stats["tries"] >= 1
    assert 0 < stats["acceptance_rate"] <= 1
    partial = fitted.sample(30, condition={"group": "B"}, random_state=0)
    assert (partial["group"] == "B").all()


def test_unreachable_condition_raises(fitted):
    gan = copy.deepcopy(fitted)
    group_span = next(s for s in gan.spans_ if s.column == "group")
    code_a = gan.condition_values_["group"].index("A")
    with torch.no_grad():  # make the generator always say group = A
        gan.generator_.head.weight[group_span.slice] = 0.0
        gan.generator_.head.bias[group_span.slice] = -100.0
        gan.generator_.head.bias[group_span.start + code_a] = 100.0
    with pytest.raises(FairlatentError, match="could not generate"):
        gan.sample(10, condition={"group": "B"}, max_tries=2)


def test_bad_conditions_raise_schema_error(fitted):
    with pytest.raises(SchemaError, match="job"):
        fitted.sample(5, condition={"job": "clerk"})
    with pytest.raises(SchemaError, match="never occurs"):
        fitted.sample(5, condition={"group": "Z"})
    with pytest.raises(SchemaError):
        fitted.sample(5, condition={"nope": 1})


def test_determinism_same_seed_same_numbers(frame, fitted):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    again = make_gan().fit(frame)
    assert torch.equal(torch.get_rng_state(), torch_state)  # global RNG untouched
    assert np.array_equal(np.random.get_state()[1], np_state)
    pd.testing.assert_frame_equal(
        fitted.sample(50, random_state=3), again.sample(50, random_state=3)
    )
    pd.testing.assert_frame_equal(
        fitted.sample(20, condition=CELL, random_state=4),
        again.sample(20, condition=CELL, random_state=4),
    )
    assert not fitted.sample(50, random_state=5).equals(fitted.sample(50, random_state=6))


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "gan")
    config = json.loads((path / "config.json").read_text())
    assert config["format"] == "fairlatent.TabularGAN"
    loaded = TabularGAN.load(path, device="cpu")
    pd.testing.assert_frame_equal(
        fitted.sample(40, random_state=7), loaded.sample(40, random_state=7)
    )
    pd.testing.assert_frame_equal(
        fitted.sample(15, condition=CELL, random_state=8),
        loaded.sample(15, condition=CELL, random_state=8),
    )
    assert loaded.condition_values_ == fitted.condition_values_
    assert loaded.get_params()["generator_dims"] == (32, 32)


def test_load_bad_directory(tmp_path, fitted):
    with pytest.raises(ModelFileError, match="does not exist"):
        TabularGAN.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="lacks"):
        TabularGAN.load(tmp_path / "empty")
    path = fitted.save(tmp_path / "gan")
    (path / "config.json").write_text(json.dumps({"format": "other", "format_version": 1}))
    with pytest.raises(ModelFileError, match="not a TabularGAN"):
        TabularGAN.load(path)


def test_clone_and_params():
    gan = make_gan(pac=5)
    copy = clone(gan)
    assert copy.get_params() == gan.get_params()
    with pytest.raises(NotFittedError):
        copy.sample(3)
    with pytest.raises(ConfigError, match="multiple of pac"):
        make_gan(batch_size=104).fit(make_biased_frame(50))
    with pytest.raises(SchemaError, match="not in the frame"):
        make_gan(condition_columns=["nope"]).fit(make_biased_frame(50))


def test_single_value_mode_and_numeric_condition_column(frame):
    gan = make_gan(condition_columns=None).fit(frame)
    assert set(gan.condition_columns_) == {"job", "city", "group", "label"}
    out = gan.sample(25, condition={"job": "manager"}, random_state=0)
    assert (out["job"] == "manager").all()
    both = gan.sample(10, condition={"job": "manager", "group": "B"}, random_state=0, max_tries=50)
    assert (both["job"] == "manager").all() and (both["group"] == "B").all()

    numeric = frame.assign(label=(frame["label"] == "yes").astype(int))
    gan = make_gan(condition_columns=["label"]).fit(numeric)
    out = gan.sample(20, condition={"label": 1}, random_state=0)
    assert out["label"].dtype == numeric["label"].dtype and (out["label"] == 1).all()


def test_sampling_draws_categories_from_the_softmax_not_the_argmax(fitted):
    """An uncertain one-hot span is sampled (gumbel-max), so no category swallows the others."""
    gan = copy.deepcopy(fitted)
    span = next(s for s in gan.spans_ if s.column == "job" and s.kind == "categorical")
    wanted = torch.linspace(1.0, 0.5, span.width)
    wanted = wanted / wanted.sum()
    with torch.no_grad():
        gan.generator_.head.weight.zero_()
        gan.generator_.head.bias[span.start : span.stop] = wanted.log()
    out = gan.sample(6000, random_state=0)
    shares = out["job"].value_counts(normalize=True)
    assert len(shares) == span.width  # argmax decoding would return the top category only
    observed = np.sort(shares.to_numpy())
    expected = np.sort(wanted.numpy())
    assert 0.5 * np.abs(observed - expected).sum() < 0.03, shares.to_dict()


def test_generator_split_products_match_the_concatenated_network():
    """The generator skips the input gradient of noise + condition without changing the maths."""
    from fairlatent.models.gan.networks import Generator

    torch.manual_seed(0)
    net = Generator(12, (8, 8), 5).train()
    x = torch.randn(32, 12)
    ours = net(x)
    reference = net.head(net.blocks(x))  # ResidualBlock.forward concatenates [new, input]
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    ours.square().sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    reference.square().sum().backward()
    for mine, theirs in zip(grads, (p.grad for p in net.parameters()), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)


def test_weight_average_warms_up_and_recomputes_batch_norm_statistics():
    from fairlatent.models.gan.training import WeightAverage

    torch.manual_seed(0)
    live = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    average = WeightAverage(live, decay=0.999)
    start = live[0].weight.detach().clone()
    with torch.no_grad():
        live[0].weight.add_(1.0)
    average.update()  # t = 1: weight of the new iterate 1 - 2/11
    torch.testing.assert_close(average.module[0].weight, start + 9.0 / 11.0)
    for _ in range(2000):
        average.update()
    torch.testing.assert_close(average.module[0].weight, live[0].weight, rtol=0, atol=1e-3)
    assert not any(p.requires_grad for p in average.module.parameters())

    batch = torch.randn(64, 3) * 5.0 + 2.0
    module = average.finish(lambda: batch, batches=3)
    assert not module.training and module[1].momentum == 0.1
    expected = module[0](batch).mean(dim=0)
    torch.testing.assert_close(module[1].running_mean, expected, rtol=1e-4, atol=1e-4)


def test_ema_decay_is_validated_and_zero_keeps_the_last_generator(frame):
    with pytest.raises(ConfigError, match="ema_decay"):
        make_gan(ema_decay=1.0).fit(frame)
    with pytest.raises(ConfigError, match="ema_decay"):
        make_gan(ema_decay=-0.1).fit(frame)
    plain = make_gan(ema_decay=0.0).fit(frame)
    averaged = make_gan().fit(frame)
    first = next(plain.generator_.parameters())
    assert not torch.equal(first, next(averaged.generator_.parameters()))
    assert plain.sample(50, random_state=0).shape == averaged.sample(50, random_state=0).shape


def test_condition_table_serialises_itself(fitted):
    """The table a saved model restores is the fitted one, minus the training row lists."""
    from fairlatent.models.gan.conditions import ConditionTable

    table = fitted._conditions
    again = ConditionTable.from_dict(json.loads(json.dumps(table.to_dict())))
    assert again.to_dict() == table.to_dict()
    assert again.condition_columns == table.condition_columns == ["group", "label"]
    np.testing.assert_array_equal(again.matrix(), table.matrix())
    for training in (True, False):
        np.testing.assert_array_equal(
            again.probabilities(training=training), table.probabilities(training=training)
        )
    pd.testing.assert_frame_equal(again.cells(), fitted.cells_)
    assert again.row_order is None and table.row_order is not None


def test_interrupted_save_leaves_no_half_written_model(tmp_path, monkeypatch):
    """SIGTERM while saving left a 674-byte weights.pt and no config.json."""
    import torch

    from fairlatent.models import persistence

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        persistence.write_model_dir(tmp_path / "model", {"format": "x"}, {})
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text("{}")
    with pytest.raises(KeyboardInterrupt):
        persistence.write_model_dir(tmp_path / "old", {"format": "x"}, {})
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["config.json"]
