"""Where a model fails: slices found in latent space, described by feature rules, certified on held-out rows.

Three steps, each on different rows so the last one is an honest test:

1. **Propose** (discovery rows, e.g. validation rows; :mod:`.propose`): latent regions of an
   error-aware mixture (Domino-style) described by rules on the original columns
   (:mod:`.describe`) and refined by a local search, plus rules from a sequential peeling beam
   search (:mod:`.search`), near-duplicates merged.
2. **Describe**: every candidate is a conjunction of ``{column, op, value}`` conditions
   (:mod:`.rules`).
3. **Certify** (test rows, never seen by steps 1-2 nor by the model; :mod:`.certify`): each
   candidate's error rate minus the rest's, with intervals simultaneous over every candidate
   tested; ``certified`` when the interval lies above 0.

:func:`find_slices` runs it for one fitted model, :func:`slice_report` for an audit's models
(:mod:`.find`).
"""

from fairlatent.metrics.slices.certify import (
    METRIC,
    SLICE_STATES,
    SliceCandidate,
    SliceFinding,
    SliceReport,
    certify_slices,
)
from fairlatent.metrics.slices.describe import describe_members
from fairlatent.metrics.slices.find import find_slices, slice_report
from fairlatent.metrics.slices.propose import (
    ProposalSettings,
    discover_candidates,
    error_aware_mixture,
    propose_slices,
)
from fairlatent.metrics.slices.rules import OPS, Condition, SliceRule
from fairlatent.metrics.slices.search import beam_search, peel, refine_rule

__all__ = [
    "METRIC",
    "OPS",
    "SLICE_STATES",
    "Condition",
    "ProposalSettings",
    "SliceCandidate",
    "SliceFinding",
    "SliceReport",
    "SliceRule",
    "beam_search",
    "certify_slices",
    "describe_members",
    "discover_candidates",
    "error_aware_mixture",
    "find_slices",
    "peel",
    "propose_slices",
    "refine_rule",
    "slice_report",
]
