"""File-in, file-out workflows behind the ``synth`` and ``debias`` commands."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError, OutputError, SchemaError

#: Column added to the debiased CSV to flag generated rows.
SYNTHETIC_FLAG = "is_synthetic"
#: Column added to the debiased CSV when the strategy produces weights.
WEIGHT_COLUMN = "sample_weight"


def parse_conditions(items: Sequence[str]) -> dict[str, str]:
    """Parse ``["sex=Female", "income=>50K"]`` into ``{"sex": "Female", "income": ">50K"}``.

    Raises
    ------
    ConfigError
        An item without ``=``.
    """
    conditions: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ConfigError(
                f"bad condition {item!r}: write COLUMN=VALUE, e.g. --condition sex=Female"
            )
        conditions[column.strip()] = value.strip()
    return conditions


def check_output_file(path: Path) -> None:
    """Fail before any work when ``path`` cannot be written as a file.

    Raises
    ------
    OutputError
    """
    if path.is_dir():
        raise OutputError(
            f"output {path} is a directory; pass a file name such as {path / 'out.csv'}"
        )
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {path}: {parent} is not a writable directory; pass another --out"
        )


def write_csv_atomically(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` through a temporary file, so no half-written file is left."""
    check_output_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(f"cannot write {path} ({err.strerror}); pass another --out") from None
    return path


def synthesise(
    data: str | Path | None,
    *,
    rows: int,
    out: str | Path,
    conditions: Sequence[str] = (),
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    drop: Sequence[str] | None = None,
    save_model: str | Path | None = None,
    model: str | Path | None = None,
    progress: Callable[[int, int, Mapping[str, float]], None] | None = None,
) -> Path:
    """Train (or load) a :class:`~fairlatent.models.gan.TabularGAN` and write synthetic rows.

    Parameters
    ----------
    data : path or None
        Table to learn from; ``None`` when ``model`` is given.
    rows : int
        Rows to generate.
    out : path
        Output CSV.
    conditions : sequence of str
        ``COLUMN=VALUE`` items every generated row satisfies.
    epochs : int, optional
        GAN epochs (default: :class:`~fairlatent.models.gan.TabularGAN`'s own).
    seed, device
        GAN training settings.
    drop : sequence of str, optional
        Columns to leave out.
    save_model, model : path, optional
        Save the trained GAN / load a saved one instead of training.
    progress : callable, optional
        Per-epoch callback ``(epoch, epochs, metrics)``.

    Returns
    -------
    Path
        The CSV written.
    """
    from fairlatent.data.io import read_table
    from fairlatent.data.schema import drop_unusable_columns
    from fairlatent.models.gan import TabularGAN

    out = Path(out)
    if rows < 1:
        raise ConfigError(f"--rows {rows} must be at least 1")
    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs {epochs} must be at least 1")
    wanted = parse_conditions(conditions)
    check_output_file(out)
    if model is not None:
        gan = TabularGAN.load(model, device="cpu" if device == "auto" else device)
    elif data is None:
        raise ConfigError("nothing to learn from: pass a DATA file or --model DIR")
    else:
        frame = read_table(data)
        missing = [c for c in (drop or []) if c not in frame.columns]
        if missing:
            raise SchemaError(f"column {missing[0]!r} to drop not found; check --drop")
        frame, _ = drop_unusable_columns(frame.drop(columns=list(drop or [])))
        _check_conditions(frame, wanted)
        gan = TabularGAN(device=device, random_state=seed)
        if epochs is not None:
            gan.set_params(epochs=epochs)
        gan.fit(frame, callbacks=[progress] if progress else None)
        if save_model is not None:
            gan.save(save_model)
    sample = gan.sample(rows, condition=wanted or None, random_state=seed)
    return write_csv_atomically(sample, out)


def _check_conditions(frame: pd.DataFrame, wanted: dict[str, str]) -> None:
    """Reject a condition on an unknown column or value before any training."""
    for column, value in wanted.items():
        if column not in frame.columns:
            raise SchemaError(
                f"condition column {column!r} not found; available: {', '.join(frame.columns)}"
            )
        if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise SchemaError(
                f"condition column {column!r} is numeric; conditions apply to categorical columns"
            )
        values = frame[column].dropna().astype(str).unique()
        if value not in values:
            shown = ", ".join(sorted(values)[:10])
            raise SchemaError(
                f"condition value {value!r} never occurs in {column!r}; its values include {shown}"
            )


def debias_table(
    data: str | Path,
    *,
    target: str,
    sensitive: Sequence[str],
    strategy: str = "auto",
    classifier: str = "logreg",
    strength: str | None = None,
    tune: bool = True,
    out: str | Path = "debiased.csv",
    positive_label: str | None = None,
    min_group_size: int | None = None,
    drop: Sequence[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    save_model: str | Path | None = None,
    model: str | Path | None = None,
) -> dict[str, Any]:
    """Debias every row of ``data`` and write the training set for your own pipeline.

    The rows go through the audit's own steps and defaults (:func:`~fairlatent.api.prepare_data`,
    then :func:`~fairlatent.engine.debias.debias_rows`): the strategy's strength is tuned for
    ``classifier`` on validation rows carved out of the data, unless ``strength`` is given or
    ``tune`` is off; ``strategy="auto"`` lets validation choose the strategy too. Synthetic rows are
    flagged in :data:`SYNTHETIC_FLAG`; weighting strategies add :data:`WEIGHT_COLUMN`. The target is
    written back with its original labels.

    Returns
    -------
    dict
        ``path``, ``rows``, ``synthetic_rows``, ``strategy``, ``strength``.
    """
    from fairlatent.api import audit_plan, prepare_data
    from fairlatent.config import AuditConfig
    from fairlatent.data.io import read_table
    from fairlatent.data.schema import GROUP_COLUMN
    from fairlatent.engine.debias import AUTO, debias_rows
    from fairlatent.strategies import STRATEGIES

    out = Path(out)
    debiasing = [spec.name for spec in STRATEGIES if spec.debias]
    if strategy != AUTO and strategy not in debiasing:
        raise ConfigError(
            f"unknown strategy {strategy!r} for debias: choose from {AUTO}, {', '.join(debiasing)}"
        )
    uses_gan = strategy == AUTO or STRATEGIES.get(strategy).uses_gan
    if (model is not None or save_model is not None) and not uses_gan:
        with_gan = " or ".join(spec.name for spec in STRATEGIES if spec.uses_gan)
        raise ConfigError(f"--model/--save-model hold a GAN: use them with --strategy {with_gan}")
    if strategy == AUTO and strength is not None:
        raise ConfigError("--strength names one strategy's setting: give --strategy too, not auto")
    cfg = AuditConfig.from_mapping(
        {},
        target=target,
        sensitive=list(sensitive),
        positive_label=positive_label,
        min_group_size=min_group_size,
        drop=list(drop or []),
        epochs=epochs,
        seed=seed,
        device=device,
        tune=tune,
        classifiers=[classifier],
        strategies=debiasing if strategy == AUTO else [strategy],
    ).validate()
    check_output_file(out)
    prepared = prepare_data(read_table(data), cfg)
    pretrained: dict[str, Any] = {}
    if model is not None:
        from fairlatent.models.gan import TabularGAN

        pretrained["gan"] = TabularGAN.load(model, device="cpu" if device == "auto" else device)
    result = debias_rows(
        audit_plan(cfg, prepared), strategy, classifier, strength=strength, pretrained=pretrained
    )
    output = result.output
    frame = output.frame.drop(columns=[GROUP_COLUMN]).copy()
    frame[target] = prepared.schema.decode_target(frame[target].to_numpy())
    frame[SYNTHETIC_FLAG] = np.asarray(output.is_synthetic, dtype=bool)
    if output.sample_weight is not None:
        frame[WEIGHT_COLUMN] = np.asarray(output.sample_weight, dtype=float)
    if save_model is not None and "gan" in output.artifacts:
        output.artifacts["gan"].save(save_model)
    path = write_csv_atomically(frame, out)
    return {
        "path": path,
        "rows": len(frame),
        "synthetic_rows": int(frame[SYNTHETIC_FLAG].sum()),
        "strategy": result.strategy,
        "strength": result.strength,
    }
