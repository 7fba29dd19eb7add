"""Strategies and classifiers defined outside the package, registered through entry points.

The plug-in lives in a temporary directory with its own ``*.dist-info`` (as ``pip install`` would
leave it); the CLI runs in a subprocess that has that directory on its path, so nothing in
fairlatent is edited or told about the plug-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import pandas as pd
import pytest

from fairlatent.exceptions import ConfigError
from fairlatent.registry import Registry
from fairlatent.strategies import STRATEGIES, StrategySpec
from tests.conftest import make_biased_frame

PLUGIN = textwrap.dedent(
    '''
    """A third-party package: one strategy and one classifier for fairlatent."""
    import pandas as pd
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder
    from sklearn.impute import SimpleImputer

    from fairlatent.classifiers import ClassifierSpec
    from fairlatent.strategies import Strategy, StrategyOutput, StrategySpec


    class DuplicateMinority(Strategy):
        """Duplicate every row of the smallest group ``copies`` times."""

        def __init__(self, *, copies=1):
            self.copies = copies

        def _apply(self, train, context):
            groups = train[context.group_column]
            smallest = groups.value_counts().idxmin()
            extra = train[groups == smallest]
            frame = pd.concat([train] + [extra] * self.copies, ignore_index=True)
            return StrategyOutput(frame=frame, diagnostics={"duplicated_group": str(smallest)})


    def tree(*, numeric, categorical, random_state=0):
        pre = ColumnTransformer([
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", make_pipeline(
                SimpleImputer(strategy="constant", fill_value="?", missing_values=pd.NA),
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            ), categorical),
        ])
        model = DecisionTreeClassifier(max_depth=4, random_state=random_state)
        return Pipeline([("preprocess", pre), ("model", model)])


    STRATEGY = StrategySpec("dupminority", DuplicateMinority,
                            "duplicates the smallest group's rows (plug-in)")
    CLASSIFIER = ClassifierSpec("tree", tree, "decision tree of depth 4 (plug-in)", "decision tree")
    '''
)
ENTRY_POINTS = """\
[fairlatent.strategies]
dupminority = fairplugin:STRATEGY

[fairlatent.classifiers]
tree = fairplugin:CLASSIFIER
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """An environment whose Python path holds an installed-looking plug-in distribution."""
    site = tmp_path_factory.mktemp("site")
    (site / "fairplugin.py").write_text(PLUGIN)
    dist = site / "fairplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fairplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), root]), "COLUMNS": "200",
           "NO_COLOR": "1", "TERM": "dumb"}
    return env


def run_cli(env, *args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "fairlatent.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def test_plugin_strategy_and_classifier_appear_in_audit_report_and_help(plugin_env, tmp_path):
    csv = tmp_path / "data.csv"
    make_biased_frame(500).to_csv(csv, index=False)
    out = tmp_path / "out"
    done = run_cli(
        plugin_env, "audit", str(csv), "--target", "label", "--sensitive", "group",
        "--strategies", "none,reweigh,dupminority", "--classifiers", "logreg,tree",
        "--n-boot", "0", "--out", str(out), "-q", cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    pairs = {(r["strategy"], r["classifier"]) for r in metrics["results"]}
    assert ("dupminority", "tree") in pairs and ("none", "tree") in pairs
    info = metrics["strategies"]["dupminority"]
    assert info["description"] == "duplicates the smallest group's rows (plug-in)"
    assert info["diagnostics"] == {"duplicated_group": "B"}
    assert info["train_rows"][0] > metrics["strategies"]["none"]["train_rows"][0]
    assert any("decision tree" in v["text"] for v in metrics["verdict"])
    page = _Text()
    page.feed((out / "report.html").read_text())
    text = " ".join(page.parts)
    assert "dupminority" in text and "duplicates the smallest group's rows (plug-in)" in text

    for command in ("audit", "debias"):
        helped = run_cli(plugin_env, command, "--help", cwd=tmp_path)
        assert helped.returncode == 0 and "dupminority" in helped.stdout, helped.stdout
    helped = run_cli(plugin_env, "audit", "--help", cwd=tmp_path)
    assert "tree" in helped.stdout

    debiased = tmp_path / "debiased.csv"
    done = run_cli(
        plugin_env, "debias", str(csv), "--target", "label", "--sensitive", "group",
        "--strategy", "dupminority", "--no-tune", "--out", str(debiased), "-q", cwd=tmp_path,
    )  # 500 rows: too few validation rows per group to judge a gain, so tuning would keep "off"
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(debiased)
    assert len(frame) > 500 and set(frame["label"]) == {"yes", "no"}


def test_unknown_names_list_registered_choices():
    with pytest.raises(ConfigError, match=r"unknown strategy 'nope': choose from none, reweigh"):
        STRATEGIES.get("nope")


def test_registry_rejects_duplicates_and_non_specs():
    registry = Registry("strategy", StrategySpec, (), "fairlatent.none-such-group")
    spec = StrategySpec("x", "fairlatent.strategies.baseline:NoMitigation", "baseline again")
    registry.register(spec)
    with pytest.raises(ConfigError, match="registered twice"):
        registry.register(spec)
    with pytest.raises(ConfigError, match="not a StrategySpec"):
        registry.register("x")  # type: ignore[arg-type]
    assert registry.names() == ["x"]
    assert registry.get("x").create().__class__.__name__ == "NoMitigation"
