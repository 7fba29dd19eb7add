"""The verdict per classifier: the answer first, then what to do about it.

Built from the findings (:mod:`fairlatent.results.findings`), never from a summary statistic:

- **Model sanity first.** A baseline no better than predicting the majority label (or whose AUC is
  no better than chance) is flagged before anything else, and its fairness figures are marked.
- **Headline** = the established finding of the baseline with the largest effect, naming its pair
  with that pair's own simultaneous interval. If nothing is established, it says so and how large a
  gap these test rows could have detected; if fewer than two groups have enough support, it says
  that we cannot tell. The verdict is green (``no_gap``) only when every judged finding is
  ``not_detected``, the model passes its check and no thin group shows a large point gap.
- **Thin groups** (below the support minimum) are shown with their point gap, its marginal interval
  and the gap they could have revealed, never hidden and never the headline.
- **Recommendation** from validation rows only (:mod:`fairlatent.results.recommendation`), "do
  nothing" unless a gain is distinguishable from noise.

"Fairest" means the lowest **max** of the DP and EO differences, here as in tuning and the
recommendation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.metrics.simultaneous import Finding
from fairlatent.policy import BASELINE, LEVEL, MIN_TEST_SUPPORT
from fairlatent.policy import GOAL as POLICY_GOAL
from fairlatent.results.findings import ModelCheck, ModelFindings
from fairlatent.results.recommendation import recommend, recommendation_text
from fairlatent.results.wording import finding_figures, finding_phrase

if TYPE_CHECKING:
    from fairlatent.metrics.fairness import Evaluation
    from fairlatent.results.records import AuditResult

#: The project's goal for a mitigation: DP difference, EO difference, accuracy loss (points / 100).
GOAL = {
    "dp_difference": POLICY_GOAL.dp_difference,
    "eo_difference": POLICY_GOAL.eo_difference,
    "accuracy_loss": POLICY_GOAL.accuracy_loss,
}
#: A thin group's point gap is shown for rates with at least this many rows in both denominators.
THIN_SHOWN_SUPPORT = 10
#: Headline states, from "a gap is shown" to "nothing could be judged".
HEADLINE_STATES: tuple[str, ...] = ("established", "inconclusive", "no_gap", "cannot_tell")


def fairness_score(row: Any) -> float:
    """Return the larger of the DP and EO differences (lower is fairer; NaN counts as 1).

    Examples
    --------
    >>> fairness_score({"dp_difference": 0.12, "eo_difference": 0.05})
    0.12
    """
    values = [float(row["dp_difference"]), float(row["eo_difference"])]
    return max(1.0 if not math.isfinite(v) else v for v in values)


def display_name(classifier: str) -> str:
    """Return the classifier's name in sentences ("logistic regression"), or a user's column."""
    from fairlatent.classifiers import CLASSIFIERS

    return CLASSIFIERS.get(classifier).display_name if classifier in CLASSIFIERS else classifier


@dataclass(frozen=True)
class ThinGroup:
    """A group below the support minimum: shown with its largest point gap, never judged.

    Attributes
    ----------
    group : str
    test_rows, test_positives, test_negatives : int
    finding : Finding or None
        Its ``insufficient`` finding with the largest point difference (marginal interval).
    large_gap : bool
        The point difference exceeds the practical margin.
    """

    group: str
    test_rows: int
    test_positives: int
    test_negatives: int
    finding: Finding | None
    large_gap: bool

    def sentence(self) -> str:
        """One clause on the group, e.g. for the report's thin-group box."""
        text = (
            f"{self.group} ({self.test_rows} test rows: {self.test_positives} favourable, "
            f"{self.test_negatives} unfavourable)"
        )
        f = self.finding
        if f is None or not math.isfinite(f.difference):
            return text
        text += f": {finding_phrase(f)}, {finding_figures(f)} (one comparison's interval)"
        if math.isfinite(f.detectable):
            text += f"; only gaps over {f.detectable * 100:.0f} points could be detected"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "group": self.group,
            "test_rows": self.test_rows,
            "test_positives": self.test_positives,
            "test_negatives": self.test_negatives,
            "large_gap": self.large_gap,
            "finding": None if self.finding is None else self.finding.to_dict(),
        }


@dataclass(frozen=True)
class Headline:
    """The answer for one model: who, what, how much, how sure.

    Attributes
    ----------
    classifier : str
    state : str
        One of :data:`HEADLINE_STATES`.
    finding : Finding or None
        The established finding with the largest effect (``established``), or the largest point
        gap among the judged findings (``inconclusive``).
    established : int
        Established findings.
    judged : int
        Findings judged (not ``insufficient``).
    family_size : int
        Comparisons the simultaneous intervals cover (differences and log ratios).
    detectable : tuple of float
        Smallest and largest selection-rate gap the judged comparisons could detect at 80 % power.
    check : ModelCheck
    thin : tuple of ThinGroup
    sentence : str
        The answer in one plain sentence (two when the model is flagged).
    """

    classifier: str
    state: str
    finding: Finding | None
    established: int
    judged: int
    family_size: int
    detectable: tuple[float, float]
    check: ModelCheck
    thin: tuple[ThinGroup, ...]
    sentence: str

    @property
    def green(self) -> bool:
        """Whether the report may show "no disparity".

        Every judged finding is not detected, the model passes its check and no thin group shows
        a large point gap.
        """
        return (
            self.state == "no_gap"
            and not self.check.flagged
            and not any(t.large_gap for t in self.thin)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "classifier": self.classifier,
            "state": self.state,
            "green": self.green,
            "sentence": self.sentence,
            "finding": None if self.finding is None else self.finding.to_dict(),
            "established": self.established,
            "judged": self.judged,
            "family_size": self.family_size,
            "detectable": [_finite(d) for d in self.detectable],
            "check": self.check.to_dict(),
            "thin_groups": [t.to_dict() for t in self.thin],
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _thin_groups(model: ModelFindings, evaluation: Evaluation | None) -> tuple[ThinGroup, ...]:
    fam = model.family
    thin_names = [g for g in fam.insufficient_groups if g != fam.reference or not model.judged]
    table = None if evaluation is None else evaluation.by_group
    out = []
    for group in thin_names:
        own = [
            f for f in fam.findings if f.group == group and f.state == "insufficient"
            and math.isfinite(f.difference)
        ]
        # the largest point gap among rates with a few rows behind them (else the selection rate)
        order = {m: i for i, m in enumerate(fam.metrics)}
        backed = [f for f in own if f.support >= THIN_SHOWN_SUPPORT]
        if not backed:
            backed = [f for f in own if f.metric == "selection_rate"]
        worst = max(backed, key=lambda f: (round(abs(f.difference), 9), -order[f.metric]), default=None)
        rows = pos = neg = 0
        if table is not None and group in table.index:
            rows = int(table.at[group, "count"])
            pos = int(table.at[group, "test_positives"])
            neg = int(table.at[group, "test_negatives"])
        out.append(
            ThinGroup(
                group=group,
                test_rows=rows,
                test_positives=pos,
                test_negatives=neg,
                finding=worst,
                large_gap=worst is not None and abs(worst.difference) > fam.margin.difference,
            )
        )
    return tuple(out)


def _points(value: float) -> str:
    return f"{value * 100:.0f}" if math.isfinite(value) else "–"


def build_headline(
    model: ModelFindings,
    evaluation: Evaluation | None = None,
    *,
    min_support: int = MIN_TEST_SUPPORT,
    name: str | None = None,
) -> Headline:
    """Build the answer for one audited model from its findings (see the module docstring).

    Parameters
    ----------
    model : ModelFindings
    evaluation : Evaluation, optional
        The same model's evaluation, for the thin groups' row counts.
    min_support : int
        The support minimum the findings used (for the sentences).
    name : str, optional
        The model in sentences (default: the classifier's display name).

    Returns
    -------
    Headline
    """
    fam = model.family
    who = name or display_name(model.classifier)
    judged = [f for f in fam.findings if f.state != "insufficient"]
    established = [f for f in judged if f.state == "established"]
    sel = [f.detectable for f in judged if f.metric == "selection_rate" and math.isfinite(f.detectable)]
    detectable = (min(sel), max(sel)) if sel else (float("nan"), float("nan"))
    thin = _thin_groups(model, evaluation)
    level = f"{fam.level:.0%}"
    top: Finding | None
    if not model.judged or not judged:
        state, top = "cannot_tell", None
        sentence = (
            f"We cannot tell whether the {who} treats groups differently: fewer than two groups "
            f"have {min_support} favourable and {min_support} unfavourable test rows, so nothing "
            "was judged (the thin groups are listed with their point gaps)."
        )
    elif established:
        state, top = "established", fam.headline()
        assert top is not None
        sentence = (
            f"The {who} {finding_phrase(top)}: {finding_figures(top)}. Established at {level} "
            f"confidence, simultaneously over all {len(judged)} group-and-rate comparisons "
            f"judged ({len(established)} established)."
        )
    elif all(f.state == "not_detected" for f in judged):
        state, top = "no_gap", None
        margin = fam.margin
        sentence = (
            f"No disparity detected for the {who}: on all {len(judged)} group-and-rate "
            f"comparisons of {', '.join(fam.judged_groups)}, the {level} simultaneous interval "
            f"lies within ±{margin.difference * 100:.0f} points (ratio {margin.ratio[0]}–"
            f"{margin.ratio[1]})."
        )
    else:
        state = "inconclusive"
        top = max(judged, key=lambda f: abs(f.difference) if math.isfinite(f.difference) else -1)
        span = (
            f"{_points(detectable[0])} points"
            if abs(detectable[1] - detectable[0]) < 0.005
            else f"{_points(detectable[0])}–{_points(detectable[1])} points (depending on the group)"
        )
        sentence = (
            f"No gap is established for the {who}, and parity is not shown either: "
            f"{sum(f.state == 'inconclusive' for f in judged)} of {len(judged)} comparisons are "
            f"inconclusive. The largest: it {finding_phrase(top)} ({finding_figures(top)}). "
            f"These test rows could reveal (with 80% power) a selection-rate gap of about {span}."
        )
    if model.check.flagged:
        sentence = model.check.sentence(f"The {who}") + " " + sentence
    return Headline(
        classifier=model.classifier,
        state=state,
        finding=top,
        established=len(established),
        judged=len(judged),
        family_size=fam.family_size,
        detectable=detectable,
        check=model.check,
        thin=thin,
        sentence=sentence,
    )


@dataclass(frozen=True)
class Verdict:
    """What the audit concludes for one classifier.

    Attributes
    ----------
    classifier : str
    headline : Headline
        The answer for the baseline model.
    recommendation : dict or None
        See :func:`~fairlatent.results.recommendation.recommend` (``None`` when the audit did
        not tune).
    baseline : dict
        The baseline's summary figures on the test rows.
    best_strategy : str
        The strategy with the lowest max(DP, EO) difference on the test rows (descriptive only:
        the recommendation is chosen on validation rows).
    meets_goal : dict
        Strategy -> whether its test figures meet the goal.
    text : str
        The whole verdict as a paragraph (terminal, JSON).
    """

    classifier: str
    headline: Headline
    recommendation: dict[str, Any] | None
    baseline: dict[str, float]
    best_strategy: str
    meets_goal: dict[str, bool]
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        head = self.headline
        return {
            "classifier": self.classifier,
            "state": head.state,
            "unfair": head.state == "established",
            "green": head.green,
            "model_flagged": head.check.flagged,
            "headline": head.to_dict(),
            "too_small": [t.to_dict() for t in head.thin],
            "recommendation": self.recommendation,
            "baseline": self.baseline,
            "best_strategy": self.best_strategy,
            "meets_goal": self.meets_goal,
            "text": self.text,
        }


def _first(result: AuditResult, strategy: str, classifier: str) -> Evaluation | None:
    return next(
        (
            r.evaluation
            for r in result.records
            if r.strategy == strategy and r.classifier == classifier and r.repeat == 0
        ),
        None,
    )


def _meets_goal(row: Any, base: Any) -> bool:
    return bool(
        row["dp_difference"] <= GOAL["dp_difference"]
        and row["eo_difference"] <= GOAL["eo_difference"]
        and base["accuracy"] - row["accuracy"] <= GOAL["accuracy_loss"]
    )


def _figures(row: Any) -> dict[str, float]:
    keys = ("accuracy", "dp_difference", "dp_ratio", "eo_difference", "eop_difference")
    return {k: float(row[k]) if np.isfinite(row[k]) else float("nan") for k in keys}


def build_verdict(result: AuditResult) -> list[Verdict]:
    """One verdict per classifier audited with the baseline (see the module docstring).

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of Verdict
    """
    summary = result.summary()
    recommendations = {r["classifier"]: r for r in recommend(result)}
    verdicts = []
    for clf in result.config.classifiers:
        model = result.findings.model(clf, BASELINE, 0)
        if model is None or (BASELINE, clf) not in summary.index:
            continue
        head = build_headline(
            model, _first(result, BASELINE, clf), min_support=result.config.min_test_support
        )
        base = summary.loc[(BASELINE, clf)]
        rows = {s: summary.loc[(s, clf)] for s in result.config.strategies if (s, clf) in summary.index}
        best_name = min(rows, key=lambda s: (fairness_score(rows[s]), -rows[s]["accuracy"]))
        goals = {name: _meets_goal(rows[name], base) for name in rows if name != BASELINE}
        parts = [head.sentence]
        if head.thin:
            parts.append(
                "Too few test rows to judge (shown, not judged): "
                + "; ".join(t.sentence() for t in head.thin)
                + "."
            )
        rec = recommendations.get(clf)
        if rec is not None:
            parts.append(recommendation_text(rec))
        passing = [s for s, ok in goals.items() if ok]
        if goals:
            parts.append(
                f"Meets the goal on the test rows (DP ≤ {GOAL['dp_difference']}, EO ≤ "
                f"{GOAL['eo_difference']}, accuracy within {GOAL['accuracy_loss'] * 100:.1f} "
                "points): " + (", ".join(passing) if passing else "no strategy") + "."
            )
        verdicts.append(
            Verdict(
                classifier=clf,
                headline=head,
                recommendation=rec,
                baseline=_figures(base),
                best_strategy=best_name,
                meets_goal=goals,
                text=" ".join(parts),
            )
        )
    return verdicts


def methods_note(result: AuditResult) -> str:
    """How the findings were made and how often the procedure errs, for the report and README.

    The measured false-alarm rate and coverage come from
    :data:`~fairlatent.policy.MEASURED_CALIBRATION` (written by ``benchmarks/calibration.py``).
    """
    found = result.findings
    cal = found.calibration
    method = (
        f"a studentised bootstrap-max over {found.n_boot} paired replicates of the test rows"
        if found.n_boot >= 20
        else "a Bonferroni correction of normal intervals (no bootstrap: --n-boot below 20)"
    )
    text = (
        f"Each judged group is compared with the reference on nine rates (selection rate, TPR, "
        f"FPR, FNR, PPV, FDR, NPV, FOR, accuracy); the {LEVEL:.0%} intervals of every difference "
        f"and ratio hold simultaneously over all of a model's comparisons ({method}; Cherian & "
        "Candès, 2023). A finding is established when its interval excludes 0, not detected when "
        f"it lies within ±{found.margin.difference * 100:.0f} points and a ratio of "
        f"{found.margin.ratio[0]}–{found.margin.ratio[1]}, inconclusive otherwise; a group needs "
        f"{found.min_support} favourable and {found.min_support} unfavourable test rows to be judged."
    )
    if cal is not None:
        text += (
            f" Measured on planted truth ({cal.date}, benchmarks/calibration.py): in "
            f"{cal.null_datasets} audits of data without any disparity, this procedure called a "
            f"gap established in {cal.false_alarm_rate:.1%} (± {cal.false_alarm_error:.1%}); the "
            f"simultaneous intervals covered every true difference at once in "
            f"{cal.coverage:.1%} (± {cal.coverage_error:.1%}) of {cal.coverage_datasets} audits."
        )
    text += (
        " One train/test split shows how uncertain these figures are for the models fitted on "
        "these training rows (the intervals resample the test rows); it cannot show how much they "
        "would move with another split or another fit — --repeats 3 shows that spread."
    )
    return text
