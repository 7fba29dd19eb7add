"""Find where a model fails: the whole slice procedure, for an audit's models or one fitted model."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import DataError
from fairlatent.metrics.slices.certify import SliceCandidate, SliceReport, certify_slices
from fairlatent.metrics.slices.describe import MAX_DEPTH
from fairlatent.metrics.slices.propose import ProposalSettings, discover_candidates
from fairlatent.metrics.slices.rules import ConditionMasks
from fairlatent.policy import LEVEL

logger = logging.getLogger(__name__)

__all__ = ["find_slices", "slice_report"]

ERR_LENGTH = "{name} has {found} values for {expected} rows; pass one value per row"


def slice_report(
    models: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    *,
    discover: pd.DataFrame,
    certify: pd.DataFrame,
    z_discover: np.ndarray,
    target: str,
    columns: Sequence[str],
    groups_discover: np.ndarray | None = None,
    settings: ProposalSettings | None = None,
    n_boot: int = 200,
    random_state: int = 0,
    level: float = LEVEL,
) -> SliceReport:
    """Propose, describe and certify slices for several models at once (one family).

    Parameters
    ----------
    models : mapping
        ``(strategy, classifier)`` -> (0/1 predictions on ``discover``, on ``certify``).
    discover, certify : DataFrame
        Discovery rows (e.g. validation rows) and certification rows (test rows), each with
        ``target`` (0/1) and ``columns``.
    z_discover : ndarray
        Latent codes of the discovery rows.
    target : str
    columns : sequence of str
        Original columns the rules may use.
    groups_discover : ndarray, optional
        Group labels of the discovery rows (a variable of the mixture).
    settings : ProposalSettings, optional
        How candidates are proposed (:mod:`~fairlatent.metrics.slices.propose`).
    n_boot, random_state, level : see :func:`~fairlatent.metrics.slices.certify.certify_slices`

    Returns
    -------
    SliceReport
    """
    settings = settings or ProposalSettings()
    y_discover = discover[target].to_numpy(dtype=int)
    y_certify = certify[target].to_numpy(dtype=int)
    if len(z_discover) != len(discover):
        raise DataError(ERR_LENGTH.format(name="z_discover", found=len(z_discover),
                                          expected=len(discover)))
    candidates: list[SliceCandidate] = []
    proposed = undescribed = 0
    errors, selected = {}, {}
    masks = ConditionMasks(discover)  # shared by every model's searches
    for (strategy, classifier), (pred_d, pred_c) in models.items():
        for name, pred, rows in (("discovery predictions", pred_d, discover),
                                 ("certification predictions", pred_c, certify)):
            if len(pred) != len(rows):
                raise DataError(ERR_LENGTH.format(name=name, found=len(pred), expected=len(rows)))
        found, n_prop, n_undescribed = discover_candidates(
            z_discover, discover, y_discover, pred_d, classifier=classifier, strategy=strategy,
            columns=columns, groups=groups_discover, settings=settings,
            random_state=random_state, masks=masks,
        )
        candidates.extend(found)
        proposed += n_prop
        undescribed += n_undescribed
        pred_c = np.asarray(pred_c, dtype=int)
        errors[(strategy, classifier)] = (pred_c != y_certify).astype(float)
        selected[(strategy, classifier)] = (pred_c == 1).astype(float)
    findings, n_tested, critical = certify_slices(
        candidates, certify, errors, selected, n_boot=n_boot, random_state=random_state,
        level=level,
    )
    logger.info("latent slices: %d proposed, %d described, %d tested, %d certified", proposed,
                len(candidates), n_tested, sum(f.state == "certified" for f in findings))
    return SliceReport(
        slices=findings,
        n_tested=n_tested,
        n_proposed=proposed,
        n_undescribed=undescribed,
        critical_value=critical,
        level=level,
        n_boot=n_boot,
        discovery_rows=len(discover),
        certification_rows=len(certify),
        settings={**settings.to_dict(), "max_depth": MAX_DEPTH},
    )


def find_slices(
    model: Any,
    discover: pd.DataFrame,
    certify: pd.DataFrame,
    *,
    target: str,
    sensitive: Sequence[str],
    features: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    coder: Any = None,
    classifier: str = "model",
    strategy: str = "none",
    epochs: int | None = None,
    n_boot: int = 200,
    level: float = LEVEL,
    device: str = "auto",
    random_state: int = 0,
) -> SliceReport:
    """Find where a fitted model fails: latent slices, described by rules, certified on held-out rows.

    Parameters
    ----------
    model : estimator or callable
        A fitted model: ``model.predict(frame[features])`` (or ``model(frame)``) returns 0/1
        decisions, 1 the favourable one.
    discover : DataFrame
        Rows to find slices on (not the model's training rows, ideally): ``target`` (0/1),
        ``sensitive`` and the features.
    certify : DataFrame
        Other held-out rows, never used to train the model nor to find slices.
    target : str
        The 0/1 label column.
    sensitive : sequence of str
        Sensitive columns (the latent code leaves them out; the mixture sees the group).
    features : sequence of str, optional
        The model's input columns; default every column but the target.
    columns : sequence of str, optional
        Columns the latent space encodes (besides the sensitive ones, which never enter it) and
        the rules may name, with the sensitive ones; default every column but the target.
    coder : LatentCoder, optional
        A fitted latent space (:func:`~fairlatent.metrics.latent_space.fit_latent_coder`); default
        a group-conditional VAE fitted on ``discover``'s features (no labels).
    classifier, strategy : str
        Names written into the findings.
    epochs : int, optional
        Epochs of the VAE fitted here.
    n_boot : int, default 200
    level : float, default LEVEL
    device : str, default "auto"
    random_state : int, default 0

    Returns
    -------
    SliceReport

    Examples
    --------
    >>> report = fairlatent.find_slices(clf, validation, test, target="y",
    ...                                 sensitive=["sex"])  # doctest: +SKIP
    >>> [(s.rule, s.value, s.low) for s in report.certified]  # doctest: +SKIP
    """
    from fairlatent.metrics.latent_space import coder_for, decider
    from fairlatent.models.vae.invariant import group_labels_of

    sensitive = list(sensitive)
    coder, columns = coder_for(discover, sensitive=sensitive, target=target, columns=columns,
                               coder=coder, epochs=epochs, device=device,
                               random_state=random_state)
    decide = decider(model, features)
    describe = [c for c in dict.fromkeys([*columns, *sensitive]) if c != target]
    return slice_report(
        {(strategy, classifier): (decide(discover), decide(certify))},
        discover=discover.reset_index(drop=True),
        certify=certify.reset_index(drop=True),
        z_discover=coder.encode(discover),
        target=target,
        columns=describe,
        groups_discover=group_labels_of(discover[sensitive]),
        n_boot=n_boot,
        random_state=random_state,
        level=level,
    )
