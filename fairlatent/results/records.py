"""What an audit measured: one record per fit, and the result that holds them all.

These are plain data with tidy-table views; the report renders them and never computes findings of
its own (see :mod:`fairlatent.results.verdict` and :mod:`fairlatent.results.comparison`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairlatent.config import AuditConfig
from fairlatent.data.schema import Schema
from fairlatent.metrics.fairness import GROUP_METRICS, SUMMARY_METRICS, Evaluation
from fairlatent.results.findings import AuditFindings, ModelFindings, build_findings

if TYPE_CHECKING:
    from fairlatent.results.verdict import Verdict


@dataclass
class RunRecord:
    """Predictions and evaluation of one (repeat, strategy, classifier) on the test rows.

    Attributes
    ----------
    strength : str
        The strategy's strength these predictions were made at (chosen on validation rows when
        the audit tunes).
    train_rows, synthetic_rows : int
        Size of the classifier's training set and how many of its rows were generated.
    findings : ModelFindings or None
        The model's sanity check and simultaneous findings on the same test rows, with the same
        bootstrap seed as :attr:`evaluation` (see :mod:`fairlatent.results.findings`).
    """

    repeat: int
    strategy: str
    classifier: str
    evaluation: Evaluation
    y_pred: np.ndarray
    fit_seconds: float
    scores: np.ndarray | None = None
    strength: str = "default"
    train_rows: int = 0
    synthetic_rows: int = 0
    findings: ModelFindings | None = None


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit measured, built once by the engine (never changed afterwards).

    Attributes
    ----------
    config : AuditConfig
        The options the audit ran with.
    schema : Schema
        Column kinds, roles and data decisions.
    data_summary : dict
        Row counts, group sizes and base rates, missing values.
    records : list of RunRecord
        One per (repeat, strategy, classifier).
    strategy_info : dict
        Strategy name -> description, fit times, training-set sizes and diagnostics.
    tuning : list of dict
        Per (repeat, strategy, classifier): the strengths scored on validation rows, the budget
        and the choice (see :mod:`fairlatent.engine.tuning`).
    analyses : dict
        Analysis name -> its JSON-ready output (e.g. ``"representation"``: the latent
        representation audit, ``"synthesis"``: synthetic-data quality), for the strategies that
        feed them (see :mod:`fairlatent.metrics.analyses`).
    frontier : dict
        Classifier -> the best accuracy any group-aware thresholding of the baseline's scores reaches
        under the fairness goal (see :func:`fairlatent.metrics.frontier.goal_frontier`).
    environment : dict
        Versions, device and timings.
    test_frame : DataFrame
        Real held-out rows of the first repeat (not serialised).
    command : str or None
        The command line that reproduces the audit (set by the CLI through :meth:`with_run`).
    findings : AuditFindings
        Every audited model's sanity check and simultaneous findings, gathered once from the
        records (see :mod:`fairlatent.results.findings`).
    """

    config: AuditConfig
    schema: Schema
    data_summary: dict[str, Any]
    records: list[RunRecord]
    strategy_info: dict[str, dict[str, Any]]
    tuning: list[dict[str, Any]] = field(default_factory=list)
    analyses: dict[str, Any] = field(default_factory=dict)
    frontier: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    test_frame: pd.DataFrame | None = None
    command: str | None = None
    findings: AuditFindings = field(default_factory=lambda: build_findings(()))

    def __post_init__(self) -> None:
        """Gather the records' findings when none were given."""
        if not self.findings.models and any(r.findings is not None for r in self.records):
            object.__setattr__(self, "findings", findings_of(self.records, self.config))

    def with_run(
        self, *, command: str | None = None, notices: list[str] | tuple[str, ...] = ()
    ) -> AuditResult:
        """Return a copy that records how it was run: the command line and extra data notices.

        The result itself is never changed; the front end calls this once, before writing.

        Parameters
        ----------
        command : str, optional
            The command line that reproduces the audit (kept as it is when ``None``).
        notices : sequence of str
            Notices to add after the schema's own (e.g. warnings logged during the run).

        Returns
        -------
        AuditResult
        """
        schema = replace(self.schema, notices=[*self.schema.notices, *notices])
        return replace(
            self,
            schema=schema,
            command=self.command if command is None else command,
            findings=self.findings,
        )

    @property
    def representation(self) -> dict[str, Any] | None:
        """The latent representation audit, or ``None`` when no strategy fed it."""
        return self.analyses.get("representation")

    @property
    def synthesis(self) -> dict[str, Any] | None:
        """Synthetic-data quality per generative strategy, or ``None``."""
        return self.analyses.get("synthesis")

    @property
    def metrics(self) -> pd.DataFrame:
        """Tidy summary metrics: strategy, classifier, repeat, metric, value, ci_low, ci_high."""
        rows = []
        for rec in self.records:
            for name in SUMMARY_METRICS:
                low, high = rec.evaluation.summary_ci.get(name, (np.nan, np.nan))
                rows.append(
                    (
                        rec.strategy,
                        rec.classifier,
                        rec.repeat,
                        name,
                        rec.evaluation.summary[name],
                        low,
                        high,
                    )
                )
        return pd.DataFrame(
            rows,
            columns=["strategy", "classifier", "repeat", "metric", "value", "ci_low", "ci_high"],
        )

    @property
    def by_group(self) -> pd.DataFrame:
        """Tidy per-group metrics: strategy, classifier, repeat, group, metric, value, ci_low, ci_high."""
        rows = []
        for rec in self.records:
            table = rec.evaluation.by_group
            for group in table.index:
                for name in GROUP_METRICS:
                    low = table.at[group, f"{name}_low"] if f"{name}_low" in table else np.nan
                    high = table.at[group, f"{name}_high"] if f"{name}_high" in table else np.nan
                    rows.append(
                        (
                            rec.strategy,
                            rec.classifier,
                            rec.repeat,
                            group,
                            name,
                            float(table.at[group, name]),
                            float(low),
                            float(high),
                        )
                    )
        return pd.DataFrame(
            rows,
            columns=[
                "strategy",
                "classifier",
                "repeat",
                "group",
                "metric",
                "value",
                "ci_low",
                "ci_high",
            ],
        )

    def summary(self) -> pd.DataFrame:
        """Summary metrics averaged over repeats.

        Returns
        -------
        DataFrame
            Index (strategy, classifier); for each metric ``<metric>`` (mean over repeats),
            ``<metric>_std`` (spread over repeats, NaN for one repeat) and ``<metric>_low`` /
            ``<metric>_high`` (bootstrap interval of the first repeat).
        """
        tidy = self.metrics
        grouped = tidy.groupby(["strategy", "classifier", "metric"], sort=False)
        mean = grouped["value"].mean().unstack("metric")
        std = grouped["value"].std(ddof=1).unstack("metric").add_suffix("_std")
        first = tidy[tidy["repeat"] == tidy["repeat"].min()].set_index(
            ["strategy", "classifier", "metric"]
        )
        low = first["ci_low"].unstack("metric").add_suffix("_low")
        high = first["ci_high"].unstack("metric").add_suffix("_high")
        table = pd.concat([mean[list(SUMMARY_METRICS)], std, low, high], axis=1)
        order = [(s, c) for s in self.config.strategies for c in self.config.classifiers]
        return table.reindex([o for o in order if o in table.index])

    def verdicts(self) -> tuple[Verdict, ...]:
        """For each classifier, the typed verdict (built once, on first use).

        Returns
        -------
        tuple of Verdict
            See :mod:`fairlatent.results.verdict`.
        """
        cached = self.__dict__.get("_verdicts")
        if cached is None:
            from fairlatent.results.verdict import build_verdict

            cached = tuple(build_verdict(self))
            self.__dict__["_verdicts"] = cached
        return cached

    def verdict(self) -> list[dict[str, Any]]:
        """For each classifier: headline, model check, thin groups, recommendation, goal (JSON form).

        Returns
        -------
        list of dict
            :meth:`Verdict.to_dict <fairlatent.results.verdict.Verdict.to_dict>` of
            :meth:`verdicts`.
        """
        return [v.to_dict() for v in self.verdicts()]

    def headline(self) -> list[str]:
        """Return the favourable label, the groups compared and those too small to judge."""
        from fairlatent.results.next_steps import headline

        return headline(self)

    def next_steps(self) -> list[str]:
        """Return what to do next, most important first (see :mod:`~fairlatent.results.next_steps`)."""
        from fairlatent.results.next_steps import next_steps

        return next_steps(self)


def findings_of(records: list[RunRecord], config: AuditConfig) -> AuditFindings:
    """Gather the findings of ``records`` (each built once by the engine) for an audit."""
    return build_findings(
        [r.findings for r in records if r.findings is not None],
        min_support=config.min_test_support,
        n_boot=config.n_boot if config.n_boot >= 20 else 0,
    )
