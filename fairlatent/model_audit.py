"""Audit a model you already have: its prediction columns, its scores, or the fitted estimator.

Three entry points return the same :class:`~fairlatent.results.AuditResult` a training audit
returns (:func:`fairlatent.write_report` writes its report and ``metrics.json``):

* :func:`audit_predictions` — columns of a DataFrame holding a model's predicted labels and/or
  score;
* :func:`audit_model` — any fitted estimator with ``predict`` (and ``predict_proba`` when it has
  one, for the score metrics), or several of them to compare, evaluated on every row of a frame;
* :func:`load_and_audit_predictions` — the same as :func:`audit_predictions` on a CSV or Parquet file
  (the ``fairlatent audit --prediction/--score`` command).

No split and no training: every row is audited (see :mod:`fairlatent.engine.predictions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.config import AuditConfig
from fairlatent.engine.predictions import (
    MSG_MODEL_LENGTH,
    MSG_MODEL_PREDICT,
    MSG_MODEL_PROBA,
    ModelOutputs,
    audit_model_outputs,
)
from fairlatent.exceptions import ConfigError, DataError
from fairlatent.models.threads import apply_thread_policy
from fairlatent.results import AuditResult

__all__ = ["audit_model", "audit_predictions", "load_and_audit_predictions"]

MSG_STRATEGIES = (
    "strategies do not apply to an audit of a model you already have (its decisions are audited "
    "as they are); leave out strategies=, or use fairlatent.audit to train and compare strategies"
)
#: Options of a training audit that an audit of given predictions does not take.
TRAINING_ONLY = frozenset({"strategies", "classifiers"})


def _config(
    config: AuditConfig | None, overrides: Mapping[str, Any], options: Mapping[str, Any]
) -> AuditConfig:
    bad = sorted(TRAINING_ONLY & set(options))
    if "strategies" in bad:
        raise ConfigError(MSG_STRATEGIES)
    if bad:
        raise ConfigError(f"{bad[0]}= does not apply to an audit of given predictions; leave it out")
    base = config.to_dict() if config is not None else {}
    return AuditConfig.from_mapping(base, **overrides, **options)


def audit_predictions(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sensitive: list[str] | str | None = None,
    prediction: list[str] | str | None = None,
    score: str | None = None,
    config: AuditConfig | None = None,
    **options: Any,
) -> AuditResult:
    """Audit a model's prediction columns (and/or score column) on every row of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        One row per individual: the target, the sensitive columns, any features (for the latent
        view) and the model's outputs.
    target : str, optional
        Target column (the true outcome).
    sensitive : str or list of str, optional
        Sensitive attributes, as for :func:`fairlatent.audit`.
    prediction : str or list of str, optional
        Columns of predicted labels, in the target's label space; with two or more, every model is
        compared with the first, finding by finding.
    score : str, optional
        Column of scores (higher = favourable more likely; ``score_direction="lower"`` for the
        other way). Without ``prediction``, its decisions come from ``threshold``, ``top_k`` or
        ``top_percent``.
    config : AuditConfig, optional
        Base configuration; the arguments above and ``options`` override it.
    **options
        Other :class:`~fairlatent.config.AuditConfig` fields: ``positive_label``, ``n_boot``,
        ``seed``, ``reference``, ``score_direction``, ``threshold``, ``top_k``, ``top_percent``,
        ``latent_view``, ... (``strategies`` and ``classifiers`` do not apply).

    Returns
    -------
    AuditResult
        One record per model (strategy ``none``, classifier = the column's name), evaluated on
        every row; ``analyses["scores"]`` and ``analyses["models_compared"]`` where they apply.

    Raises
    ------
    FairlatentError
        Bad input (unknown column, predictions outside the label space, NaN scores, a constant
        prediction, ...), in one line.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import fairlatent
    >>> rng = np.random.default_rng(0)
    >>> race = rng.choice(["a", "b"], 2000)
    >>> y = rng.integers(0, 2, 2000)
    >>> risk = np.clip(y * 3 + rng.integers(1, 8, 2000) + (race == "b"), 1, 10)
    >>> df = pd.DataFrame({"race": race, "reoffended": y, "decile": risk,
    ...                    "priors": rng.poisson(2, 2000)})
    >>> result = fairlatent.audit_predictions(
    ...     df, target="reoffended", sensitive="race", score="decile", score_direction="lower",
    ...     threshold=4, positive_label="0", latent_view=False, n_boot=100)
    >>> table = result.by_group.query("metric in ['fpr', 'tpr']")
    >>> sorted(table["group"].unique()), result.records[0].classifier
    (['a', 'b'], 'decile')
    """
    cfg = _config(config, {"target": target, "sensitive": sensitive, "prediction": prediction,
                           "score": score}, options)
    return _audit_columns(frame, cfg)


def _audit_columns(frame: pd.DataFrame, cfg: AuditConfig, name: str | None = None) -> AuditResult:
    """Validate ``cfg`` (prediction mode) and audit the columns it names on every row."""
    cfg = cfg.validate()
    if not cfg.audits_predictions:
        raise ConfigError(
            "nothing to audit: pass prediction=COLUMN(S) or score=COLUMN (with threshold=, top_k= "
            "or top_percent=)"
        )
    apply_thread_policy(cfg.threads)
    return audit_model_outputs(frame, cfg, name=name)


def load_and_audit_predictions(path: str | Path, config: AuditConfig) -> AuditResult:
    """Read ``path`` (CSV or Parquet) and run :func:`audit_predictions` with ``config``."""
    from fairlatent.data.io import data_stem, read_table

    cfg = _config(config, {}, {})
    return _audit_columns(read_table(path), cfg, name=data_stem(path))


def _model_name(model: Any) -> str:
    inner = getattr(model, "steps", None)
    if inner:
        return f"{type(inner[-1][1]).__name__} pipeline"
    return type(model).__name__


def _predict(name: str, model: Any, X: pd.DataFrame, method: str) -> np.ndarray:
    try:
        values = np.asarray(getattr(model, method)(X))
    except Exception as err:  # any estimator's failure on these columns is the user's input
        message = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        template = MSG_MODEL_PREDICT if method == "predict" else MSG_MODEL_PROBA
        raise DataError(f"model {name!r}: " + template.format(error=message.strip(": "))) from None
    if len(values) != len(X):
        raise DataError(f"model {name!r}: " + MSG_MODEL_LENGTH.format(method=method, found=len(values), rows=len(X)))
    return values


def _positive_column(model: Any, positive: str, name: str) -> int | None:
    from fairlatent.data.groups import normalise_label

    classes = [normalise_label(c) for c in getattr(model, "classes_", [])]
    if positive in classes:
        return classes.index(positive)
    if len(classes) == 2 and sorted(classes) == ["0", "1"]:
        return classes.index("1")
    return None


def audit_model(
    model: Any,
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sensitive: list[str] | str | None = None,
    positive_label: str | None = None,
    config: AuditConfig | None = None,
    **options: Any,
) -> AuditResult:
    """Evaluate fitted estimator(s) on every row of ``frame`` and audit their decisions.

    Parameters
    ----------
    model : estimator or mapping of str to estimator
        Anything fitted with ``predict`` (a scikit-learn ``Pipeline`` included); ``predict_proba``,
        when present, gives the score metrics (the favourable class's column). Several models,
        ``{"old": m1, "new": m2}``, are compared finding by finding with the first.
    frame : DataFrame
        Rows to evaluate. Each model receives every column except the target, as it was fitted
        (the sensitive column too, if it is one of them).
    target, sensitive, positive_label : optional
        As for :func:`fairlatent.audit`; ``positive_label`` is the favourable value of the
        target, in the label space the model predicts.
    config : AuditConfig, optional
    **options
        Other :class:`~fairlatent.config.AuditConfig` fields (``n_boot``, ``seed``, ...).

    Returns
    -------
    AuditResult
        As :func:`audit_predictions` on the models' predictions.

    Raises
    ------
    DataError
        A model's ``predict`` (or ``predict_proba``) fails on the frame or gives a wrong number of
        values; and any input error of :func:`audit_predictions`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> import fairlatent
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=1000), "g": rng.choice(["a", "b"], 1000)})
    >>> df["y"] = (df["x"] + rng.normal(size=1000) > 0).astype(int)
    >>> pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ["g"]), remainder="passthrough"),
    ...                      LogisticRegression()).fit(df.drop(columns="y"), df["y"])
    >>> result = fairlatent.audit_model(pipe, df, target="y", sensitive="g", latent_view=False,
    ...                                 n_boot=50)
    >>> result.records[0].classifier, "scores" in result.analyses
    ('LogisticRegression pipeline', True)
    """
    models = dict(model) if isinstance(model, Mapping) else {_model_name(model): model}
    if not models:
        raise ConfigError("no model given: pass a fitted estimator or a mapping name -> estimator")
    for name, estimator in models.items():
        if not hasattr(estimator, "predict"):
            raise ConfigError(f"model {name!r} has no predict method; pass a fitted estimator")
    cfg = _config(config, {"target": target, "sensitive": sensitive,
                           "positive_label": positive_label}, options)
    for key in ("prediction", "score", "threshold", "top_k", "top_percent"):
        if getattr(cfg, key) not in (None, []):
            raise ConfigError(f"{key}= does not apply to audit_model: the model makes the decisions")
    cfg.score_direction = "higher"
    cfg = cfg.validate()
    apply_thread_policy(cfg.threads)

    def outputs(rows: pd.DataFrame, schema: Any) -> ModelOutputs:
        X = rows.drop(columns=[cfg.target])
        out = ModelOutputs(direction="higher")
        for name, estimator in models.items():
            out.decisions[name] = _predict(name, estimator, X, "predict")
            out.sources[name] = "model"
            if hasattr(estimator, "predict_proba"):
                column = _positive_column(estimator, schema.positive_label, name)
                if column is not None:
                    proba = _predict(name, estimator, X, "predict_proba")
                    out.scores[name] = np.asarray(proba, dtype=float)[:, column]
        return out

    return audit_model_outputs(frame, cfg, model_outputs=outputs)
