"""synthesis_audit reads a strategy's generator only through the ARTIFACT_SYNTHETIC_SOURCE artifact."""

import numpy as np
import pandas as pd

from fairlatent.metrics.synthesis_audit import synthesis_audit
from fairlatent.strategies.base import ARTIFACT_SYNTHETIC_SOURCE, StrategyOutput


def make_train(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "job": rng.choice(["a", "b", "c"], n),
            "sex": sex,
            "group": sex,
            "label": rng.integers(0, 2, n),
        }
    )


class StubSource:
    """Anything with the SyntheticSource interface will do: here, real rows with noise."""

    label_column = "[label]"

    def __init__(self, train: pd.DataFrame) -> None:
        self.train = train
        self.calls = 0

    @property
    def identity(self) -> int:
        return id(self.train)

    def real_frame(self, X, y, groups) -> pd.DataFrame:
        frame = X.drop(columns=["sex"]).reset_index(drop=True)
        frame["[group]"] = np.asarray(groups).astype(str)
        frame[self.label_column] = np.asarray(y).astype(str)
        return frame

    def sample(self, n, random_state=None) -> pd.DataFrame:
        self.calls += 1
        rng = np.random.default_rng(random_state)
        real = self.real_frame(self.train.drop(columns=["label", "group"]), self.train["label"],
                               self.train["group"])
        rows = real.iloc[rng.integers(0, len(real), n)].reset_index(drop=True)
        rows["x"] = rows["x"] + rng.normal(0, 0.1, n)
        return rows


def output_with(train: pd.DataFrame, artifacts: dict) -> StrategyOutput:
    extra = train.sample(20, random_state=1)
    frame = pd.concat([train, extra], ignore_index=True)
    flags = np.r_[np.zeros(len(train), bool), np.ones(len(extra), bool)]
    return StrategyOutput(frame=frame, is_synthetic=flags, artifacts=artifacts)


def test_sources_are_the_only_way_in_and_shared_sources_share_one_figure():
    train, test = make_train(), make_train(seed=1)
    source = StubSource(train)
    outputs = {
        "one": output_with(train, {ARTIFACT_SYNTHETIC_SOURCE: source}),
        "two": output_with(train, {ARTIFACT_SYNTHETIC_SOURCE: source}),
        "no_source": output_with(train, {"sampler": object(), "gan": object()}),
        "no_rows": StrategyOutput(frame=train, artifacts={ARTIFACT_SYNTHETIC_SOURCE: source}),
    }
    result = synthesis_audit(outputs, train=train, test=test, target="label", group_column="group")
    assert set(result) == {"one", "two"}
    assert source.calls == 1 and result["one"]["generator"] is result["two"]["generator"]
    generator = result["one"]["generator"]
    assert set(generator["columns"]) == {"x", "job", "[group]", "[label]"}
    assert generator["utility"]["target"] == "[label]"
    assert result["one"]["marginals"][0]["column"] == "[label]"
    assert result["one"]["added_rows"]["n_synthetic"] == 20
    assert synthesis_audit({"no_source": outputs["no_source"]}, train=train, test=test,
                           target="label", group_column="group") is None
