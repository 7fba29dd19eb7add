"""Fairness, accuracy and synthetic-data quality metrics."""

from fairlatent.metrics.fairness import (
    GROUP_METRICS,
    METRIC_DESCRIPTIONS,
    SUMMARY_METRICS,
    Evaluation,
    evaluate_predictions,
)

__all__ = ["GROUP_METRICS", "METRIC_DESCRIPTIONS", "SUMMARY_METRICS", "Evaluation", "evaluate_predictions"]
