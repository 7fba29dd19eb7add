"""Quality of synthetic tabular data: fidelity, correlation, detection, utility and privacy.

Every function here takes plain DataFrames (a real frame and a synthetic frame with the same
columns) and returns JSON-serialisable dicts of Python floats (``None`` where a figure cannot be
computed, never ``NaN``). Nothing here depends on how the synthetic rows were made.

Column kinds are taken from the **real** frame by :func:`fairlatent.data.kinds.is_numeric`:
numeric dtypes (bool excluded) are numeric, everything else (pandas ``string``/``object``/
``category``/``bool``) is categorical; ``discrete_columns`` forces numeric columns to be treated
as categorical. Missing values are kept: numeric NaNs are left out of the KS test (their rate is
compared separately), categorical NaNs are a category of their own, labelled
:data:`~fairlatent.data.kinds.MISSING_LABEL`.

One module per family:

* :mod:`~fairlatent.metrics.synthetic.fidelity`: :func:`column_fidelity` (marginals: KS, TVD);
* :mod:`~fairlatent.metrics.synthetic.correlation`: :func:`correlation_difference`
  (association matrices: Pearson, Cramér's V, correlation ratio);
* :mod:`~fairlatent.metrics.synthetic.detection`: :func:`detection_auc`;
* :mod:`~fairlatent.metrics.synthetic.utility`: :func:`utility_scores` (TSTR);
* :mod:`~fairlatent.metrics.synthetic.privacy`: :func:`privacy_scores` (DCR, exact copies);
* :mod:`~fairlatent.metrics.synthetic.quality`: :func:`synthetic_quality` (all of the above in
  one report), :func:`quality_issues` and :func:`quality_warnings`;
* :mod:`~fairlatent.metrics.synthetic.columns`: column checks, kinds and normalised values
  shared by all of them.
"""

from fairlatent.metrics.synthetic.columns import (
    MISSING_LABEL,
    MSG_COLUMNS,
    MSG_DISCRETE,
    MSG_EMPTY,
    MSG_TARGET,
    MSG_TEST_NEEDED,
)
from fairlatent.metrics.synthetic.correlation import correlation_difference
from fairlatent.metrics.synthetic.detection import detection_auc
from fairlatent.metrics.synthetic.fidelity import column_fidelity
from fairlatent.metrics.synthetic.privacy import privacy_scores
from fairlatent.metrics.synthetic.quality import (
    COPY_SHARE_LIMIT,
    DCR_RATIO_LIMIT,
    DETECTION_AUC_LIMIT,
    MEAN_KS_LIMIT,
    MEAN_TVD_LIMIT,
    UTILITY_GAP_LIMIT,
    quality_issues,
    quality_warnings,
    synthetic_quality,
)
from fairlatent.metrics.synthetic.utility import utility_scores

__all__ = [
    "COPY_SHARE_LIMIT",
    "DCR_RATIO_LIMIT",
    "DETECTION_AUC_LIMIT",
    "MEAN_KS_LIMIT",
    "MEAN_TVD_LIMIT",
    "MISSING_LABEL",
    "MSG_COLUMNS",
    "MSG_DISCRETE",
    "MSG_EMPTY",
    "MSG_TARGET",
    "MSG_TEST_NEEDED",
    "UTILITY_GAP_LIMIT",
    "column_fidelity",
    "correlation_difference",
    "detection_auc",
    "privacy_scores",
    "quality_issues",
    "quality_warnings",
    "synthetic_quality",
    "utility_scores",
]
