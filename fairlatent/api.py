"""The one orchestration path: data -> split -> strategies -> classifiers -> fairlearn metrics.

:func:`audit` runs it on a DataFrame; :func:`load_and_audit` reads a file first and
:func:`write_report` writes the HTML and JSON outputs. The steps it is made of
(:func:`prepare_data`, :func:`audit_plan`) are public so the ``debias`` workflow reuses them.
"""

from __future__ import annotations

import functools
import logging
import platform
import time
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.classifiers import FeatureSpec, split_feature_kinds
from fairlatent.config import AuditConfig
from fairlatent.data.schema import GROUP_COLUMN, MISSING_GROUP, PreparedData, prepare
from fairlatent.data.summary import data_summary
from fairlatent.engine.parallel import run_all
from fairlatent.engine.units import (
    AuditPlan,
    StrategyRun,
    Unit,
    first_test_rows,
    make_split,
    plan_units,
    run_unit,
)
from fairlatent.exceptions import ConfigError
from fairlatent.metrics.analyses import ANALYSES, AnalysisInput
from fairlatent.metrics.frontier import goal_frontier
from fairlatent.models.threads import apply_thread_policy
from fairlatent.results import GOAL, AuditResult
from fairlatent.results.debiased import DebiasOutcome
from fairlatent.strategies import STRATEGIES, StrategyOutput

logger = logging.getLogger(__name__)

#: Notice when ``debias`` could not give some real rows their own values back.
MSG_UNTRACED = (
    "{rows} real row(s) written by {strategy} keep a value the audit made (a pooled level or "
    "(missing)): the strategy renumbered them, so they could not be traced to your rows; raise "
    "--max-categories to keep more levels"
)

ProgressCallback = Callable[[str, int, int], None]
#: Per-epoch model callback ``(epoch, epochs, metrics)`` (see :mod:`fairlatent.models.params`).
EpochCallback = Callable[[int, int, Mapping[str, float]], Any]


def prepare_data(frame: pd.DataFrame, cfg: AuditConfig) -> PreparedData:
    """Validate and shape ``frame`` as ``cfg`` says (target, sensitive groups, dropped columns).

    Parameters
    ----------
    frame : DataFrame
        Raw rows.
    cfg : AuditConfig
        A validated configuration.

    Returns
    -------
    PreparedData
    """
    return prepare(
        frame,
        target=cfg.target,
        sensitive=cfg.sensitive,
        positive_label=cfg.positive_label,
        min_group_size=cfg.min_group_size,
        drop=cfg.drop,
        max_categories=cfg.max_categories,
    )


def audit_plan(cfg: AuditConfig, data: PreparedData) -> AuditPlan:
    """Bundle a validated configuration and prepared rows into the engine's plan.

    Parameters
    ----------
    cfg : AuditConfig
    data : PreparedData

    Returns
    -------
    AuditPlan
    """
    features = data.schema.features + (data.schema.sensitive if cfg.include_sensitive else [])
    numeric, categorical = split_feature_kinds(data.frame, features)
    return AuditPlan(
        cfg=cfg,
        frame=data.frame,
        sensitive=data.schema.sensitive,
        features=FeatureSpec(numeric, categorical, cfg.target, GROUP_COLUMN),
        specs={name: STRATEGIES.get(name) for name in cfg.strategies},
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
    apply_thread_policy(cfg.threads)  # inherited by local worker processes (FAIRLATENT_THREADS)
    started = time.perf_counter()
    data = prepare_data(frame, cfg)
    _check_reference(cfg, data)
    plan = audit_plan(cfg, data)
    device = _device_name(cfg)
    units = plan_units(cfg)
    runs = _run_units(plan, units, progress, callbacks)
    train_first, test_first = first_test_rows(plan)
    result = AuditResult(
        config=cfg,
        schema=data.schema,
        data_summary=data_summary(data, train_first, test_first),
        records=[rec for run in runs for rec in run.records],
        strategy_info=_strategy_info(runs),
        tuning=[{"repeat": run.repeat, "strategy": run.strategy, **t} for run in runs for t in run.tuning],
        test_frame=test_first,
    )
    _add_frontier(result, test_first)
    result.analyses["leakage"] = [
        entry for run in runs if run.repeat == 0 for entry in run.info.get("leakage", [])
    ]
    outputs_first = {run.strategy: run.output for run in runs if run.output is not None}
    _add_analyses(result, outputs_first, train_first, test_first, plan=plan, runs=runs)
    result.environment = _environment(device, time.perf_counter() - started)
    if progress:
        progress("done", 1, 1)
    return result


def _run_units(
    plan: AuditPlan,
    units: list[Unit],
    progress: ProgressCallback | None,
    callbacks: list[EpochCallback] | None = None,
) -> list[StrategyRun]:
    """Run every unit (serially with step progress, or through the configured backend)."""
    cfg = plan.cfg
    order = {name: i for i, name in enumerate(cfg.strategies)}
    serial = cfg.backend == "local" and cfg.jobs == 1
    if serial:
        total = cfg.repeats * len(cfg.strategies) * (1 + len(cfg.classifiers))
        done = [0]

        def step(description: str) -> None:
            if progress:
                progress(description, done[0], total)
            done[0] += 1

        batches = [run_unit(plan, unit, progress=step, callbacks=callbacks) for unit in units]
    else:
        def finished(count: int, total: int) -> None:
            if progress:
                progress(f"{count}/{total} units done ({cfg.backend} backend)", count, total)

        batches = run_all(
            functools.partial(run_unit, plan),
            units,
            jobs=cfg.jobs,
            backend=cfg.backend,
            address=cfg.address,
            on_done=finished,
        )
    runs = [run for batch in batches for run in batch]
    return sorted(runs, key=lambda run: (run.repeat, order[run.strategy]))


def _strategy_info(runs: list[StrategyRun]) -> dict[str, dict[str, Any]]:
    """Per strategy: description, per-repeat fit time and rows, chosen strengths, diagnostics."""
    info: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = info.setdefault(
            run.strategy,
            {
                "description": STRATEGIES.get(run.strategy).description,
                "kind": run.info["kind"],
                "fitted_on": run.info["fitted_on"],
                "default_strength": run.info["default_strength"],
                "fit_seconds": [],
                "transform_seconds": [],
                "train_rows": [],
                "synthetic_rows": [],
                "weighted": run.info["weighted"],
                "chosen": {},
                "diagnostics": {},
            },
        )
        entry["fit_seconds"].append(run.info["fit_seconds"])
        entry["transform_seconds"].append(run.info["transform_seconds"])
        entry["train_rows"].append(run.info["train_rows"])
        entry["synthetic_rows"].append(run.info["synthetic_rows"])
        for rec in run.records:
            entry["chosen"].setdefault(rec.classifier, []).append(rec.strength)
        if run.repeat == 0:
            entry["diagnostics"] = run.info["diagnostics"]
    return info


def _check_reference(cfg: AuditConfig, data: PreparedData) -> None:
    groups = sorted(data.frame[GROUP_COLUMN].unique())
    merged_into = {
        small: label for label, names in data.schema.merged_groups.items() for small in names
    }
    if cfg.reference in merged_into:
        raise ConfigError(
            f"reference group {cfg.reference!r} has fewer than {cfg.min_group_size} rows, so it "
            f"was merged into {merged_into[cfg.reference]!r}; lower --min-group-size to keep it "
            f"apart, or choose one of {', '.join(map(repr, groups))}"
        )
    if cfg.reference is not None and cfg.reference not in groups:
        raise ConfigError(
            f"reference group {cfg.reference!r} is not a group of the data; choose one of "
            f"{', '.join(map(repr, groups))}"
        )


def _add_frontier(result: AuditResult, test: pd.DataFrame) -> None:
    """Price the fairness goal for each classifier's baseline scores (first repeat)."""
    for rec in result.records:
        if rec.strategy == "none" and rec.repeat == 0 and rec.scores is not None:
            result.frontier[rec.classifier] = goal_frontier(
                rec.scores,
                test[result.config.target].to_numpy(),
                test[GROUP_COLUMN].to_numpy(),
                dp_max=GOAL["dp_difference"],
                eo_max=GOAL["eo_difference"],
            )


def _add_analyses(
    result: AuditResult,
    outputs: dict[str, StrategyOutput],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    plan: AuditPlan | None = None,
    runs: list[StrategyRun] | None = None,
) -> None:
    """Run every analysis some audited strategy feeds (or its option enables), in registry order."""
    predictions = {
        (rec.strategy, rec.classifier): rec.y_pred for rec in result.records if rec.repeat == 0
    }
    first = [run for run in runs or [] if run.repeat == 0]
    models = {(run.strategy, clf): m for run in first for clf, m in run.models.items()}
    on_validation = {
        (run.strategy, clf): p for run in first for clf, p in run.validation_predictions.items()
    }
    cfg = result.config
    for spec in ANALYSES:
        enabled = spec.enabled_by is not None and bool(getattr(cfg, spec.enabled_by, False))
        feeding = {
            name: output
            for name, output in outputs.items()
            if enabled or spec.name in STRATEGIES.get(name).analyses
        }
        if not feeding and not enabled:
            continue
        inputs = AnalysisInput(
            outputs=feeding,
            train=train,
            test=test,
            target=result.config.target,
            group_column=GROUP_COLUMN,
            predictions=predictions,
            random_state=result.config.seed,
            validation=make_split(plan, 0).validation if enabled and plan is not None else None,
            models=models,
            validation_predictions=on_validation,
            sensitive=tuple(result.schema.sensitive),
            features=tuple(plan.features.columns) if plan is not None else (),
            options={"device": cfg.device, "epochs": cfg.epochs, "n_boot": cfg.n_boot},
        )
        analysis = spec.compute(inputs)
        if analysis is not None:
            result.analyses[spec.name] = analysis


def _device_name(cfg: AuditConfig) -> str:
    if not any(STRATEGIES.get(name).generative for name in cfg.strategies):
        return "cpu (no neural models trained)"
    from fairlatent.models.device import resolve_device

    return str(resolve_device(cfg.device))


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _environment(device: str, seconds: float) -> dict[str, Any]:
    packages = ["fairlatent", "numpy", "pandas", "scikit-learn", "fairlearn", "torch", "matplotlib"]
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _package_version(p) for p in packages},
        "device": device,
        "seconds": round(seconds, 2),
    }


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
    pool = debiasing if strategies is None else [s for s in strategies if s != "none"]
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
        overrides["classifiers"] = ["logreg"]
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
        strategy=result.strategy,
        strength=result.strength,
        setups=result.setups,
        validation=result.validation,
        leakage=result.leakage,
        tuning=result.tuning,
        notices=notices,
        config=cfg.to_dict(),
        artifacts=dict(output.artifacts),
    )


def restore_real_values(
    rows: pd.DataFrame, is_synthetic: np.ndarray, raw: pd.DataFrame, data: PreparedData
) -> int:
    """Give the real rows of a debiased set back the values the audit had to change to learn.

    The audit pools rare levels of a categorical feature into one level and names missing
    sensitive values ``(missing)``; the rows ``debias`` writes for the user's own model carry the
    user's values instead. A real row is traced through its index (a position in the prepared
    frame) to the raw frame, and only when every other column equals that prepared row (a strategy
    that renumbered or rewrote its rows leaves them as they are). Synthetic rows keep the pooled
    level, which is what the generator learnt. Changes ``rows`` in place.

    Returns
    -------
    int
        Real rows that still carry a value the audit made (they could not be traced).
    """
    pooled = {c: info["label"] for c, info in data.schema.pooled.items()}
    missing = dict.fromkeys(data.schema.sensitive, MISSING_GROUP)
    restorable = [c for c in {**pooled, **missing} if c in rows.columns and c in raw.columns]
    real = ~np.asarray(is_synthetic, dtype=bool)
    if not restorable or data.source_rows is None or len(real) != len(rows):
        return 0
    positions = rows.index.to_numpy()
    if not np.issubdtype(positions.dtype, np.integer):
        positions = np.full(len(rows), -1)
    inside = real & (positions >= 0) & (positions < len(data.frame))
    prepared = data.frame.iloc[positions[inside]]
    traced = np.ones(int(inside.sum()), dtype=bool)
    for column in rows.columns:  # the row must be its source row, apart from restorable values
        if column in restorable or column == data.schema.target or column not in prepared:
            continue
        traced &= _same_values(rows[column].to_numpy()[inside], prepared[column].to_numpy())
    where = np.flatnonzero(inside)[traced]
    source = data.source_rows[positions[where]]
    for column in restorable:
        label = pooled.get(column, missing.get(column))
        current = rows[column].to_numpy()[where]
        original = raw[column].iloc[source].to_numpy()
        changed = _same_values(current, np.full(len(current), label, dtype=object))
        if column not in pooled:  # a sensitive value the audit named as missing
            changed &= pd.isna(original)
        if not changed.any():
            continue
        values = np.array(rows[column].astype(object), dtype=object)
        values[where[changed]] = original[changed]
        rows[column] = values
    made = np.zeros(len(rows), dtype=bool)
    for column in restorable:
        label = pooled.get(column, missing.get(column))
        made |= _same_values(rows[column].to_numpy(), np.full(len(rows), label, dtype=object))
    return int((made & real).sum())


def _same_values(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Elementwise equality where two missing values are equal (and ``pd.NA`` never raises)."""
    left, right = np.asarray(left, dtype=object), np.asarray(right, dtype=object)
    left_na, right_na = pd.isna(left), pd.isna(right)
    same = left_na & right_na
    both = ~left_na & ~right_na
    same[both] = np.asarray(left[both] == right[both], dtype=bool)
    return same


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
    result = audit(frame, config=config, progress=progress, callbacks=callbacks)
    result.data_summary["name"] = data_stem(path)
    return result


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
