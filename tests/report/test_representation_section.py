from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from markupsafe import Markup

from fairlatent.metrics.representation import representation_audit
from fairlatent.models.density import HistogramDensity
from fairlatent.report.representation import representation_findings, representation_section

EVIL = "<script>alert(1)</script>"
GROUP = "_fl_group"


class FakeVAE:
    history_ = [{"epoch": 1, "train_loss": 5.0, "val_loss": 4.0},
                {"epoch": 2, "train_loss": 3.0, "val_loss": float("nan")}]
    best_epoch_ = 1


class FakeLatentModel:
    """Duck-typed latent model: the code is the standardised numeric features plus the label."""

    columns = ["age", "job"]

    def __init__(self, train: pd.DataFrame) -> None:
        self.vae = FakeVAE()
        self.density = HistogramDensity(bins=5).fit(self.encode(train, train["y"]))

    def encode(self, X, y):
        return np.column_stack([(X["age"].to_numpy(float) - 50) / 15, np.asarray(y, float),
                                (X["job"] == "<b>boss</b>").to_numpy(float)])

    def reconstruction_error(self, X, y):
        return np.abs(X["age"].to_numpy(float) - 50)


def make_frame(n, seed):
    rng = np.random.default_rng(seed)
    group = rng.choice([EVIL, "A"], n, p=[0.1, 0.9])
    age = np.where(group == EVIL, rng.normal(85, 2, n), rng.normal(40, 8, n))
    return pd.DataFrame({
        "age": age,
        "job": np.where(rng.random(n) < 0.1, "<b>boss</b>", "clerk"),
        "y": (rng.random(n) < 0.3).astype(int),
        GROUP: group,
    })


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.images = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def section_of(rep):
    """Render the section of an audit whose only analysis is ``rep`` (the one section signature)."""
    return representation_section(SimpleNamespace(analyses={"representation": rep}))


@pytest.fixture(scope="module")
def rep():
    train, test = make_frame(400, 0), make_frame(200, 1)
    rng = np.random.default_rng(0)
    preds = {(EVIL, "logreg"): rng.integers(0, 2, len(test)),
             ("none", "logreg"): rng.integers(0, 2, len(test)),
             ("vae", "logreg"): test["y"].to_numpy()}
    return representation_audit(FakeLatentModel(train), train=train, test=test, target="y",
                                group_column=GROUP, predictions=preds, random_state=0)


def test_section_shape_and_figures(rep):
    section = section_of(rep)
    assert section["id"] == "representation" and section["title"] == "Representation audit"
    assert isinstance(section["html"], Markup)
    page = Collector()
    page.feed(str(section["html"]))
    assert len(page.images) == 4
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    text = " ".join(page.text)
    for heading in ("Latent map", "Who is rare?", "Error rate by rarity", "rarest regions",
                    "cannot reconstruct", "VAE training"):
        assert heading in text
    assert "What is it?" in text and "Why it matters" in text


def test_data_strings_are_escaped(rep):
    html = str(section_of(rep)["html"])
    assert EVIL not in html and "<b>boss</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Collector()
    page.feed(html)
    assert "script" not in page.tags and "b" not in page.tags
    assert EVIL in " ".join(page.text)  # shown to the reader as text


def test_findings_name_the_rare_group(rep):
    findings = representation_findings(rep)
    assert any(f.startswith(f"Group {EVIL} makes up") for f in findings)
    assert any("without mitigation" in f for f in findings)


def test_training_figure_optional(rep):
    empty = {**rep, "training": {"epoch": [], "train_loss": [], "val_loss": [], "best_epoch": 0}}
    page = Collector()
    page.feed(str(section_of(empty)["html"]))
    assert len(page.images) == 3
