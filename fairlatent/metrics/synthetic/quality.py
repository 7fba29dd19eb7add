"""All synthetic-data quality figures in one report, and plain-language warnings about them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from fairlatent.exceptions import SchemaError
from fairlatent.metrics.synthetic.columns import MSG_TARGET, MSG_TEST_NEEDED, _check_frames
from fairlatent.metrics.synthetic.correlation import correlation_difference
from fairlatent.metrics.synthetic.detection import detection_auc
from fairlatent.metrics.synthetic.fidelity import column_fidelity
from fairlatent.metrics.synthetic.privacy import copy_excess, privacy_scores
from fairlatent.metrics.synthetic.utility import utility_scores
from fairlatent.warnings import FairlatentWarning

__all__ = ["quality_warnings", "synthetic_quality"]

#: Warning thresholds used by :func:`quality_warnings`.
DETECTION_AUC_LIMIT = 0.9
MEAN_KS_LIMIT = 0.2
MEAN_TVD_LIMIT = 0.2
#: Excess of the synthetic rows' share of copies of rare training rows over the real baseline's
#: share (5 points) from which the generator is said to memorise ...
COPY_SHARE_LIMIT = 0.05
#: ... or share of the rows real data makes new (not equal to any training row) that the
#: synthetic rows copy instead, ``(copy - copy_holdout) / (1 - copy_holdout)``: a generator that
#: copies a share m of its rows scores m, one that favours common rows (GANs do) far less ...
NOVELTY_LOSS_LIMIT = 0.5
#: ... in both cases when the excess is also this many standard errors (not sampling noise).
COPY_Z_LIMIT = 3.0
UTILITY_GAP_LIMIT = 0.1
#: Median DCR of synthetic rows over that of unseen real rows below which rows sit too close ...
DCR_RATIO_LIMIT = 0.5
#: ... when also this share of synthetic rows is closer to the training rows than the closest 5%
#: of unseen real rows are (5% expected).
DCR_BELOW_LIMIT = 0.15

MSG_COPIES = (
    "{copy:.1%} of synthetic rows are exact copies of training rows, against "
    "{copy_hold:.1%} of real rows the generator never saw ({rare:.1%} against {rare_hold:.1%} "
    "for rows that occur only once in the training data). The generator memorises its training "
    "rows: do not share these rows as if they were anonymous."
)
MSG_DCR = (
    "synthetic rows sit much closer to real training rows than unseen real rows do "
    "(median distance ratio {ratio:.2f}, limit {limit}; {below:.0%} of synthetic rows are closer "
    "than the closest 5% of unseen real rows). This suggests memorisation and a privacy risk."
)


def synthetic_quality(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_test: pd.DataFrame | None = None,
    target: str | None = None,
    discrete_columns: Sequence[str] | None = None,
    random_state: int = 0,
    max_rows: int = 5000,
) -> dict[str, Any]:
    """All synthetic-data quality figures in one JSON-serialisable dict.

    Parameters
    ----------
    real_train : DataFrame
        Real rows the generator was fitted on.
    synthetic : DataFrame
        Generated rows with the same columns.
    real_test : DataFrame, optional
        Real rows the generator never saw: the privacy baseline and, with ``target``, the utility
        test set.
    target : str, optional
        Label column for the train-on-synthetic-test-on-real utility score (needs ``real_test``).
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    random_state : int, default 0
        Seed of every subsample, split and classifier.
    max_rows : int, default 5000
        Cap on rows per set in correlation, detection and distance computations.

    Returns
    -------
    dict
        Keys ``n_real``, ``n_synthetic``, ``columns``, ``mean_ks``, ``mean_tvd``, ``correlation``,
        ``detection``, ``utility`` (``None`` without ``target``), ``privacy``. Always the same keys.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    >>> report = synthetic_quality(real, real)
    >>> report["mean_ks"], report["privacy"]["copy_share"]
    (0.0, 1.0)
    """
    _check_frames(real_train, synthetic)
    if target is not None and real_test is None:
        raise SchemaError(MSG_TEST_NEEDED)
    if target is not None and target not in real_train.columns:
        raise SchemaError(
            MSG_TARGET.format(target=target, where="real_train", columns=list(real_train.columns))
        )
    synthetic = synthetic[list(real_train.columns)]
    fidelity = column_fidelity(real_train, synthetic, discrete_columns=discrete_columns)
    report: dict[str, Any] = {
        "n_real": len(real_train),
        "n_synthetic": len(synthetic),
        "columns": fidelity["columns"],
        "mean_ks": fidelity["mean_ks"],
        "mean_tvd": fidelity["mean_tvd"],
        "correlation": correlation_difference(
            real_train,
            synthetic,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
        "detection": detection_auc(
            real_train,
            synthetic,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
        "utility": None,
        "privacy": privacy_scores(
            real_train,
            synthetic,
            real_holdout=real_test,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
    }
    if target is not None and real_test is not None:
        report["utility"] = utility_scores(
            real_train,
            synthetic,
            real_test[list(real_train.columns)],
            target=target,
            discrete_columns=discrete_columns,
            random_state=random_state,
        )
    return report


def quality_warnings(report: dict[str, Any], scope: str | None = None) -> list[str]:
    """Plain-language warnings for a :func:`synthetic_quality` report, labelled as users see them.

    Takes the arguments of :func:`quality_issues` and returns the text of each of its warnings
    (``"WARNING: ..."``, or ``"WARNING (added rows): ..."`` with ``scope="added rows"``).

    Examples
    --------
    >>> quality_warnings({"mean_ks": 0.5})[0].startswith("WARNING: numeric columns")
    True
    >>> quality_warnings({"mean_ks": 0.5}, scope="added rows")[0].startswith("WARNING (added rows)")
    True
    """
    return [str(issue) for issue in quality_issues(report, scope)]


def quality_issues(report: dict[str, Any], scope: str | None = None) -> list[FairlatentWarning]:
    """Return the problems a :func:`synthetic_quality` report shows, one warning each.

    Parameters
    ----------
    report : dict
        Output of :func:`synthetic_quality`.
    scope : str, optional
        The part of the result the report is about (e.g. ``"added rows"``).

    Returns
    -------
    list of FairlatentWarning
        One per problem found, empty when nothing crosses a threshold
        (:data:`DETECTION_AUC_LIMIT`, :data:`MEAN_KS_LIMIT`, :data:`MEAN_TVD_LIMIT`,
        :data:`COPY_SHARE_LIMIT`, :data:`UTILITY_GAP_LIMIT`, :data:`DCR_RATIO_LIMIT`); the
        privacy warnings compare with real rows the generator never saw (see
        :mod:`~fairlatent.metrics.synthetic.privacy`).

    Examples
    --------
    >>> quality_issues({"mean_ks": 0.5})[0].message.startswith("numeric columns")
    True
    """
    out: list[str] = []
    auc = (report.get("detection") or {}).get("auc")
    if auc is not None and auc > DETECTION_AUC_LIMIT:
        out.append(
            f"a classifier tells synthetic rows from real ones with ROC AUC {auc:.2f} "
            f"(0.5 = indistinguishable, limit {DETECTION_AUC_LIMIT}). The synthetic data does not "
            "look like the real data; results that rely on it may not transfer to real people."
        )
    out.extend(_column_warning(
        report, "ks", MEAN_KS_LIMIT, "numeric columns are poorly reproduced (mean KS statistic",
        "Train longer or check the encoding of these columns.",
    ))
    out.extend(_column_warning(
        report, "tvd", MEAN_TVD_LIMIT,
        "category frequencies are poorly reproduced (mean total variation distance",
        "Train longer or use more data.",
    ))
    out.extend(_privacy_warnings(report.get("privacy") or {}))
    utility = report.get("utility") or {}
    gap = utility.get("gap")
    if gap is not None and gap > UTILITY_GAP_LIMIT:
        out.append(
            f"a classifier trained on synthetic rows is {gap:.1%} less accurate on real "
            f"test rows than one trained on real rows (limit {UTILITY_GAP_LIMIT:.0%}). The "
            "synthetic data loses the signal needed to predict the target."
        )
    elif utility and utility.get("accuracy_synthetic") is None and utility.get("target"):
        out.append(
            "the synthetic target column holds a single class, so no classifier can be "
            "trained on it. The generator collapsed; train longer or check the conditioning."
        )
    return [FairlatentWarning(message, scope) for message in out]


def _privacy_warnings(privacy: dict[str, Any]) -> list[str]:
    """Memorisation warnings, only where synthetic rows are clearly worse than unseen real rows.

    Real data copies itself (on low-cardinality data most unseen rows equal some training row),
    so the synthetic figures are judged against the same figures for real held-out rows: copies
    of rare training rows must exceed the baseline by :data:`COPY_SHARE_LIMIT`, or copies of any
    training row must take more than :data:`NOVELTY_LOSS_LIMIT` of the novelty real rows have,
    and either by :data:`COPY_Z_LIMIT` standard errors; distances must be small both in the median
    (:data:`DCR_RATIO_LIMIT`) and in the tail (:data:`DCR_BELOW_LIMIT`).
    """
    out = []
    rare, every = copy_excess(privacy), copy_excess(privacy, rare=False)
    if rare is not None and every is not None:
        novelty = 1.0 - privacy["copy_share_holdout"]
        loss = every[0] / novelty if novelty > 0 else 0.0
        if (rare[0] > COPY_SHARE_LIMIT and rare[1] > COPY_Z_LIMIT) or (
            loss > NOVELTY_LOSS_LIMIT and every[1] > COPY_Z_LIMIT
        ):
            out.append(
                MSG_COPIES.format(
                    rare=privacy["rare_copy_share"],
                    rare_hold=privacy["rare_copy_share_holdout"],
                    copy=privacy.get("copy_share") or 0.0,
                    copy_hold=privacy.get("copy_share_holdout") or 0.0,
                )
            )
    ratio = privacy.get("dcr_median_ratio")
    below = privacy.get("share_below_holdout_p05")
    if ratio is not None and ratio < DCR_RATIO_LIMIT and (below or 0.0) > DCR_BELOW_LIMIT:
        out.append(MSG_DCR.format(ratio=ratio, limit=DCR_RATIO_LIMIT, below=below))
    return out


def _column_warning(
    report: dict[str, Any], key: str, limit: float, what: str, fix: str
) -> list[str]:
    """One warning when the mean per-column statistic ``mean_<key>`` exceeds ``limit``."""
    mean = report.get(f"mean_{key}")
    if mean is None or not mean > limit:
        return []
    return [f"{what} {mean:.2f}, limit {limit}){_worst(report, key)}. {fix}"]


def _worst(report: dict[str, Any], key: str, k: int = 3) -> str:
    cols = report.get("columns") or {}
    scored = [(v[key], c) for c, v in cols.items() if v.get(key) is not None]
    if not scored:
        return ""
    top = sorted(scored, reverse=True)[:k]
    return "; worst: " + ", ".join(f"{c} {v:.2f}" for v, c in top)
