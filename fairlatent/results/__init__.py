"""Audit results: records, tidy tables, the verdict and the before/after comparison.

Everything here is computed from the numbers; the report (one layer up) only renders it.
"""

from fairlatent.results.comparison import TABLE_METRICS, comparison_rows, reference_grid
from fairlatent.results.records import AuditResult, RunRecord
from fairlatent.results.verdict import GOAL, build_verdict, fairness_score

__all__ = [
    "GOAL",
    "TABLE_METRICS",
    "AuditResult",
    "RunRecord",
    "build_verdict",
    "comparison_rows",
    "reference_grid",
    "fairness_score",
]
