"""Findings in words: what a finding compares, and its figures with intervals."""

from __future__ import annotations

import math

from fairlatent.metrics.simultaneous import Finding

#: Each rate as a phrase ``<model> <phrase> <x> of <group> against <y> of <reference>``.
_PHRASES: dict[str, str] = {
    "selection_rate": "predicts the favourable outcome for {v} of {g} against {r} of {ref}",
    "tpr": "predicts the favourable outcome for {v} of {g}'s rows that have the favourable label "
    "against {r} of {ref}'s",
    "fpr": "predicts the favourable outcome for {v} of {g}'s rows that have the unfavourable label "
    "against {r} of {ref}'s",
    "fnr": "refuses the favourable outcome to {v} of {g}'s rows that have the favourable label "
    "against {r} of {ref}'s",
    "ppv": "is right in {v} of its favourable predictions for {g} against {r} for {ref}",
    "fdr": "is wrong in {v} of its favourable predictions for {g} against {r} for {ref}",
    "npv": "is right in {v} of its unfavourable predictions for {g} against {r} for {ref}",
    "for": "is wrong in {v} of its unfavourable predictions for {g} (they had the favourable "
    "label) against {r} for {ref}",
    "accuracy": "is right for {v} of {g} against {r} of {ref}",
}


def finding_phrase(finding: Finding) -> str:
    """Say what a finding compares, in favourable-outcome words.

    Examples
    --------
    >>> from fairlatent.metrics.simultaneous import Finding
    >>> f = Finding("F", "M", "selection_rate", 0.076, 0.251, -0.175, -0.187, -0.166, 0.30, 0.27,
    ...             0.33, "established", 4000, 0.02)
    >>> finding_phrase(f)
    'predicts the favourable outcome for 7.6% of F against 25.1% of M'
    """
    return _PHRASES[finding.metric].format(
        v=f"{finding.value:.1%}", r=f"{finding.reference_value:.1%}", g=finding.group,
        ref=finding.reference,
    )


def finding_figures(finding: Finding) -> str:
    """Format the difference (in points) and ratio of a finding with their intervals.

    Examples
    --------
    >>> from fairlatent.metrics.simultaneous import Finding
    >>> f = Finding("F", "M", "selection_rate", 0.076, 0.251, -0.175, -0.187, -0.166, 0.30, 0.27,
    ...             0.33, "established", 4000, 0.02)
    >>> finding_figures(f)
    'difference -17.5 points [-18.7, -16.6], ratio 0.300 [0.270, 0.330]'
    """
    text = (
        f"difference {finding.difference * 100:+.1f} points "
        f"[{finding.low * 100:+.1f}, {finding.high * 100:+.1f}]"
    )
    if math.isfinite(finding.ratio):
        text += f", ratio {finding.ratio:.3f}"
        if math.isfinite(finding.ratio_low):
            text += f" [{finding.ratio_low:.3f}, {finding.ratio_high:.3f}]"
    return text
