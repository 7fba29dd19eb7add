"""The library's front door: :func:`audit`, :func:`debias`, :func:`load_and_audit`, :func:`write_report`.

:func:`audit` validates the options, prepares the rows (:func:`~fairlatent.data.prepare.prepare_data`)
and hands the plan (:func:`~fairlatent.engine.plan.audit_plan`) to the engine once
(:func:`fairlatent.engine.audit.run_audit`: units -> records -> findings -> analyses), which builds
the :class:`~fairlatent.results.AuditResult`. :func:`load_and_audit` reads a file first and
:func:`write_report` writes the HTML and JSON outputs. :func:`prepare_data` and :func:`audit_plan`
are re-exported here so the ``debias`` workflow and benchmarks reuse the audit's own steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.config import AuditConfig
from fairlatent.data.prepare import check_reference, prepare_data
from fairlatent.data.restore import restore_real_values
from fairlatent.data.schema import GROUP_COLUMN, PreparedData
from fairlatent.engine.audit import EpochCallback, ProgressCallback, run_audit
from fairlatent.engine.plan import audit_plan
from fairlatent.exceptions import ConfigError
from fairlatent.models.threads import apply_thread_policy
from fairlatent.policy import BASELINE, DEBIAS_CLASSIFIERS
from fairlatent.results import AuditResult
from fairlatent.results.debiased import DebiasOutcome
from fairlatent.strategies import STRATEGIES

__all__ = [
    "EpochCallback",
    "ProgressCallback",
    "audit",
    "audit_plan",
    "debias",
    "load_and_audit",
    "prepare_data",
    "restore_real_values",
    "write_report",
]

logger = logging.getLogger(__name__)

#: Notice when ``debias`` could not give some real rows their own values back.
MSG_UNTRACED = (
    "{rows} real row(s) written by {strategy} keep a value the audit made (a pooled level or "
    "(missing)): the strategy renumbered them, so they could not be traced to your rows; raise "
    "--max-categories to keep more levels"
)


def audit(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sensitive: list[str] | str | None = None,
    config: AuditConfig | None = None,
    progress: ProgressCallback | None = None,
    callbacks: list[EpochCallback] | None = None,
    **options: Any,
) -> AuditResult:
    """Audit models trained on ``frame`` for group unfairness and compare mitigation strategies.

    Parameters
    ----------
    frame : DataFrame
        Raw data, one row per individual.
    target : str, optional
        Target column (overrides ``config.target``).
    sensitive : str or list of str, optional
        Sensitive attributes (overrides ``config.sensitive``); see :class:`AuditConfig`.
    config : AuditConfig, optional
        Full configuration; ``target``, ``sensitive`` and ``options`` override its fields.
    progress : callable, optional
        Called as ``progress(description, done, total)`` before each step.
    callbacks : list of callable, optional
        Per-epoch callbacks ``(epoch, epochs, metrics)`` handed to every VAE/GAN fit (serial runs;
        units running in other processes report only when they finish).
    **options
        Any other :class:`AuditConfig` field, e.g. ``strategies=["none", "reweigh"]``.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import fairlatent
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["F", "M"], 600)
    >>> skill = rng.normal(0, 1, 600)
    >>> df = pd.DataFrame({"sex": sex, "skill": skill, "hours": rng.normal(40, 8, 600),
    ...                    "income": np.where(skill + 0.8 * (sex == "M") > 0.6, ">50K", "<=50K")})
    >>> result = fairlatent.audit(df, target="income", sensitive="sex", n_boot=0,
    ...                           positive_label=">50K", classifiers=["logreg"],
    ...                           min_test_support=10)
    >>> table = result.summary()[["accuracy", "dp_difference", "eo_difference"]]
    >>> list(table.index)
    [('none', 'logreg'), ('reweigh', 'logreg')]
    >>> bool(table.loc[("none", "logreg"), "dp_difference"] > 0.1)  # men are favoured
    True
    """
    base = config.to_dict() if config is not None else {}
    overrides = {"target": target, "sensitive": sensitive, **options}
    cfg = AuditConfig.from_mapping(base, **overrides).validate()
    return _audit(frame, cfg, progress, callbacks)


def _audit(
    frame: pd.DataFrame,
    cfg: AuditConfig,
    progress: ProgressCallback | None,
    callbacks: list[EpochCallback] | None,
    name: str | None = None,
) -> AuditResult:
    """Prepare ``frame`` as the validated ``cfg`` says and hand the plan to the engine once."""
    apply_thread_policy(cfg.threads)  # inherited by local worker processes (FAIRLATENT_THREADS)
    started = time.perf_counter()
    data = prepare_data(frame, cfg)
    check_reference(data, cfg.reference, cfg.min_group_size)
    return run_audit(
        audit_plan(cfg, data),
        data,
        progress=progress,
        callbacks=callbacks,
        name=name,
        started=started,
    )


def debias(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sensitive: list[str] | str | None = None,
    strategy: str = "auto",
    classifiers: str | list[str] | None = None,
    include_sensitive: bool | None = None,
    strength: str | None = None,
    strategies: list[str] | None = None,
    config: AuditConfig | None = None,
    pretrained: dict[str, Any] | None = None,
    on_prepared: Callable[[PreparedData], None] | None = None,
    callbacks: list[EpochCallback] | None = None,
    **options: Any,
) -> DebiasOutcome:
    """Debias ``frame`` for the model you will train, doing no harm in any of your setups.

    Parameters
    ----------
    frame : DataFrame
        Raw rows.
    target, sensitive : optional
        As for :func:`audit` (override ``config``).
    strategy : str, default "auto"
        A data strategy (``reweigh``, ``vae``, ``latent-eo``, ``invariant``, ``gan``, ...), or
        ``"auto"``: validation chooses among ``strategies``.
    classifiers : str or list of str, optional
        The classifier(s) your model is (default: ``config.classifiers`` when a config is given,
        else ``logreg``).
    include_sensitive : bool or None, default None
        Whether your model reads the sensitive columns; ``None``: the choice must do no harm
        either way (both setups are checked).
    strength : str, optional
        A strength of ``strategy``'s grid instead of tuning.
    strategies : list of str, optional
        The strategies ``"auto"`` chooses among (default: every data strategy).
    config : AuditConfig, optional
        Same keys as :func:`audit` (``seed``, ``accuracy_budget``, ``validation_size``, ...).
    pretrained : dict, optional
        ``{"gan": TabularGAN}`` to reuse a trained GAN.
    on_prepared : callable, optional
        Called with the prepared data before anything is fitted (e.g. to check a pretrained GAN).
    callbacks : list of callable, optional
        Per-epoch callbacks of the VAE/GAN fits.
    **options
        Any other :class:`AuditConfig` field.

    Returns
    -------
    DebiasOutcome
        The rows, weights and synthetic flags, and the record of the choice (``sidecar()``).

    Raises
    ------
    ConfigError
        An unknown strategy or classifier, ``strength`` with ``"auto"``, bad options.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["F", "M"], 800)
    >>> skill = rng.normal(0, 1, 800)
    >>> df = pd.DataFrame({"sex": sex, "skill": skill, "hours": rng.normal(40, 8, 800),
    ...                    "income": np.where(skill + 0.8 * (sex == "M") > 0.6, "high", "low")})
    >>> out = debias(df, target="income", sensitive="sex", positive_label="high",
    ...              strategy="reweigh")
    >>> out.setups
    ['logreg, sensitive column not used', 'logreg, sensitive column used']
    >>> len(out.frame) == 800 and "sex" in out.frame.columns
    True
    """
    from fairlatent.engine.debias import AUTO, debias_rows

    debiasing = [spec.name for spec in STRATEGIES if spec.debias]
    if strategy != AUTO and strategy not in debiasing:
        raise ConfigError(
            f"unknown strategy {strategy!r} for debias: choose from {AUTO}, {', '.join(debiasing)}"
        )
    if strategy == AUTO and strength is not None:
        raise ConfigError("--strength names one strategy's setting: give --strategy too, not auto")
    pool = debiasing if strategies is None else [s for s in strategies if s != BASELINE]
    foreign = [s for s in pool if s not in debiasing]
    if foreign:
        raise ConfigError(
            f"strategy {foreign[0]!r} cannot debias rows (it changes the classifier or its "
            f"decisions); debias chooses among {', '.join(debiasing)}"
        )
    base = config.to_dict() if config is not None else {}
    overrides: dict[str, Any] = {
        "target": target,
        "sensitive": sensitive,
        **options,
        "strategies": pool if strategy == AUTO else [strategy],
    }
    if classifiers is not None:
        overrides["classifiers"] = [classifiers] if isinstance(classifiers, str) else classifiers
    elif config is None:
        overrides["classifiers"] = list(DEBIAS_CLASSIFIERS)
    if include_sensitive is not None:
        overrides["include_sensitive"] = include_sensitive
    cfg = AuditConfig.from_mapping(base, **overrides).validate()
    apply_thread_policy(cfg.threads)
    data = prepare_data(frame, cfg)
    if on_prepared is not None:
        on_prepared(data)
    result = debias_rows(
        audit_plan(cfg, data),
        strategy,
        cfg.classifiers,
        include_sensitive=include_sensitive,
        strength=strength,
        pretrained=pretrained,
        callbacks=callbacks,
    )
    output = result.output
    rows = output.frame.drop(columns=[GROUP_COLUMN]).copy()
    rows[cfg.target] = data.schema.decode_target(rows[cfg.target].to_numpy())
    kept = restore_real_values(rows, np.asarray(output.is_synthetic, dtype=bool), frame, data)
    notices = list(data.schema.notices)
    if kept:
        notices.append(MSG_UNTRACED.format(rows=kept, strategy=result.strategy))
    return DebiasOutcome(
        frame=rows,
        sample_weight=None
        if output.sample_weight is None
        else np.asarray(output.sample_weight, dtype=float),
        is_synthetic=np.asarray(output.is_synthetic, dtype=bool),
        **result.record(),
        notices=notices,
        config=cfg.to_dict(),
        artifacts=dict(output.artifacts),
    )


def load_and_audit(
    path: str | Path,
    config: AuditConfig,
    progress: ProgressCallback | None = None,
    callbacks: list[EpochCallback] | None = None,
) -> AuditResult:
    """Read ``path`` (CSV or Parquet) and run :func:`audit` with ``config``.

    The sensitive columns are read literally (only empty fields are missing), so groups named
    ``NA`` or ``None`` stay groups; see :func:`~fairlatent.data.io.read_table`.
    """
    from fairlatent.data.groups import sensitive_column
    from fairlatent.data.io import data_stem, read_table

    literal = [sensitive_column(spec) for spec in config.sensitive]
    frame = read_table(path, literal_columns=literal)
    return _audit(frame, config.validated(), progress, callbacks, name=data_stem(path))


def write_report(result: AuditResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html`` and ``metrics.json`` of ``result`` into ``out_dir``.

    Parameters
    ----------
    result : AuditResult
    out_dir : str or Path
        Created if needed.

    Returns
    -------
    dict
        ``{"report": path, "metrics": path}``.
    """
    from fairlatent.report import write_outputs

    return write_outputs(result, Path(out_dir))
