"""File-in, file-out workflows behind the ``synth`` and ``debias`` commands."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError, OutputError, SchemaError
from fairlatent.warnings import FairlatentWarning

logger = logging.getLogger(__name__)

#: Column added to the debiased CSV to flag generated rows.
SYNTHETIC_FLAG = "is_synthetic"
#: Column added to the debiased CSV when the strategy produces weights.
WEIGHT_COLUMN = "sample_weight"
#: Rows ``synth`` generates and writes at a time: any number of rows streams to the CSV.
SYNTH_BATCH_ROWS = 10_000
#: Share of generated rows satisfying a condition below which ``synth`` warns that the generator
#: rarely makes the asked combination.
LOW_ACCEPTANCE = 0.05

MSG_REPEATED_CONDITION = (
    "--condition names column {column!r} twice ({first!r} and {second!r}); a row has one value "
    "per column: keep one --condition {column}=VALUE"
)
MSG_BAD_CONDITION = "bad condition {item!r}: write COLUMN=VALUE, e.g. --condition sex=Female"
MSG_NO_MATCHING_ROWS = (
    "no row of the data has {combination} together, so the generator has never seen this "
    "combination; ask for a combination that occurs in the data (each value alone occurs)"
)
MSG_LOW_ACCEPTANCE = (
    "only {rate:.2%} of generated rows satisfied {combination} ({accepted} of {generated}): the "
    "generator rarely makes this combination, so these rows may not be typical of it; check "
    "them, train longer (--epochs) or condition on fewer columns"
)
MSG_UNCHECKED_COMBINATION = (
    "a saved GAN does not record which values occur together, so {combination} could not be "
    "checked against its training data; {rate:.1%} of generated rows satisfied it. Pass the "
    "DATA file instead of --model to have the combination checked"
)
MSG_CONDITION_DROPPED = "condition column {column!r} was left out of the data: {reason}"
MSG_OUTPUT_COLUMN = (
    "the data already has a column {column!r}, which debias adds to {purpose}; yours would be "
    "overwritten: rename it, or leave it out with --drop {column}"
)
MSG_NOTHING_SAVED = (
    "--save-model {path}: nothing was saved, because the rows written come from "
    "strategy {strategy} at strength {strength}, which uses no GAN; pass --strategy gan (or "
    "vae+gan) with a --strength other than off to train and save one"
)
MSG_MODEL_COLUMNS = (
    "the GAN in {model} was trained on other columns than debias gives it from this data "
    "({detail}); pass a GAN saved by 'fairlatent debias --save-model' on data with the same "
    "columns and options, or leave out --model to train one"
)


def parse_conditions(items: Sequence[str]) -> dict[str, str]:
    """Parse ``["sex=Female", "income=>50K"]`` into ``{"sex": "Female", "income": ">50K"}``.

    Raises
    ------
    ConfigError
        An item without ``=``, or two items on one column.

    Examples
    --------
    >>> parse_conditions(["sex=Female", "income=>50K"])
    {'sex': 'Female', 'income': '>50K'}
    """
    conditions: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        column, value = column.strip(), value.strip()
        if not sep or not column:
            raise ConfigError(MSG_BAD_CONDITION.format(item=item))
        if column in conditions:
            raise ConfigError(
                MSG_REPEATED_CONDITION.format(column=column, first=conditions[column], second=value)
            )
        conditions[column] = value
    return conditions


def check_output_file(path: Path) -> None:
    """Fail before any work when ``path`` cannot be written as a file.

    Raises
    ------
    OutputError
    """
    from fairlatent.report import check_path_length

    check_path_length(path, option="--out")
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


def check_model_dir(path: Path, *, option: str = "--save-model") -> None:
    """Fail before any work when a model cannot be saved into the directory ``path``.

    The path must fit the file system's length limits, must not be a file, its nearest existing
    ancestor must be a writable directory, and an existing ``config.json`` / ``weights.pt`` in
    it must be a file.

    Raises
    ------
    OutputError
    """
    from fairlatent.models.persistence import CONFIG_FILE, WEIGHTS_FILE
    from fairlatent.report import check_path_length

    check_path_length(path, option=option)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file; pass a directory to save the model in")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot save the model to {path}: {ancestor} is not a writable directory; pass "
            f"another {option}"
        )
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        entry = path / name
        if entry.is_symlink() or (entry.exists() and not entry.is_file()):
            raise OutputError(
                f"{entry} exists and is not a regular file; move it away or pass another {option}"
            )


def estimated_csv_bytes(sample: pd.DataFrame, rows: int) -> int:
    """Bytes ``rows`` rows like ``sample`` take as CSV (from the sample's own CSV size)."""
    text = sample.to_csv(index=False)
    header, _, body = text.partition("\n")
    per_row = len(body.encode("utf-8")) / max(len(sample), 1)
    return int(len(header.encode("utf-8")) + per_row * rows)


def check_free_space(path: Path, needed: int) -> None:
    """Refuse to start writing ``needed`` bytes to ``path`` when its file system has less free.

    Raises
    ------
    OutputError
    """
    import shutil

    directory = path.parent
    while not directory.exists():
        directory = directory.parent
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise OutputError(
            f"--rows asks for about {_size(needed)} of CSV, but {directory} has {_size(free)} "
            "free; ask for fewer --rows or write to a larger disk with --out"
        )


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} PB"  # pragma: no cover


def write_csv_atomically(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` through a temporary file, so no half-written file is left."""
    return write_csv_stream(iter([frame]), path)


def write_csv_stream(batches: Iterator[pd.DataFrame], path: Path) -> Path:
    """Write frames one after another to one CSV, which appears only once every batch is in.

    The CSV grows in a hidden temporary file next to ``path`` (removed on any exit, Ctrl-C and
    SIGTERM included) and gets the umask's permissions, so any number of rows can be written
    without holding them all in memory.

    Raises
    ------
    OutputError
        ``path`` cannot be written.
    """
    from fairlatent.report import atomic_file

    check_output_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write {path} ({err.strerror}); pass another --out") from None
    with atomic_file(path, newline="") as handle:
        for number, batch in enumerate(batches):
            batch.to_csv(handle, index=False, header=number == 0)
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
    on_rows: Callable[[int, int], None] | None = None,
    notices: list[str] | None = None,
) -> Path:
    """Train (or load) a :class:`~fairlatent.models.gan.TabularGAN` and write synthetic rows.

    Rows are generated and written in batches of :data:`SYNTH_BATCH_ROWS`, so any number of
    rows can be asked for; the first batch uses ``seed`` itself, later ones seeds derived from it.
    The data goes through the audit's column cleaning first
    (:func:`~fairlatent.data.clean.clean_features`): identifiers, free text and empty
    columns are left out, infinities become missing values, and date columns are learnt as days
    and written back as dates.

    Parameters
    ----------
    data : path or None
        Table to learn from; ``None`` when ``model`` is given.
    rows : int
        Rows to generate.
    out : path
        Output CSV.
    conditions : sequence of str
        ``COLUMN=VALUE`` items every generated row satisfies (one per column).
    epochs : int, optional
        GAN epochs (default: :class:`~fairlatent.models.gan.TabularGAN`'s own).
    seed, device
        GAN training settings; ``0 <= seed < 2**32``.
    drop : sequence of str, optional
        Columns to leave out.
    save_model, model : path, optional
        Save the trained GAN (once the rows are written) / load a saved one instead of training.
    progress : callable, optional
        Per-epoch callback ``(epoch, epochs, metrics)``.
    on_rows : callable, optional
        Called as ``on_rows(written, rows)`` after each batch.
    notices : list, optional
        Receives one sentence per decision taken about the data and per warning (a condition
        the generator rarely satisfies).

    Returns
    -------
    Path
        The CSV written.

    Raises
    ------
    ConfigError, SchemaError, OutputError
        Bad options, a condition on an unknown column or value, or a combination of values no
        row of the data has; an unwritable ``out``. Nothing is written.
    """
    from fairlatent.config import check_seed
    from fairlatent.data.clean import clean_features, days_to_datetimes
    from fairlatent.data.io import read_table
    from fairlatent.models.gan import TabularGAN

    out = Path(out)
    notes = notices if notices is not None else []
    if rows < 1:
        raise ConfigError(f"--rows {rows} must be at least 1")
    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs {epochs} must be at least 1")
    check_seed(seed)
    wanted = parse_conditions(conditions)
    check_output_file(out)
    if save_model is not None and model is not None:
        raise ConfigError(
            "--save-model saves a GAN this command trains, but --model loads one: leave out "
            "--save-model (the loaded GAN is already saved) or --model"
        )
    if save_model is not None:
        check_model_dir(Path(save_model))
    dates: dict[str, bool] = {}
    if model is not None:
        gan = TabularGAN.load(model, device="cpu" if device == "auto" else device)
        probe = gan.sample(min(rows, 200), random_state=seed)
        check_free_space(out, estimated_csv_bytes(probe, rows))
    elif data is None:
        raise ConfigError("nothing to learn from: pass a DATA file or --model DIR")
    else:
        frame = read_table(data)
        missing = [c for c in (drop or []) if c not in frame.columns]
        if missing:
            raise SchemaError(f"column {missing[0]!r} to drop not found; check --drop")
        cleaned = clean_features(frame.drop(columns=list(drop or [])))
        notes.extend(cleaned.notices)
        frame = cleaned.frame
        dates = {
            column: bool(np.all(np.mod(frame[column].dropna(), 1.0) == 0.0))  # whole days
            for column, kind in cleaned.converted.items()
            if kind == "datetime"
        }
        _check_conditions(frame, wanted, cleaned.dropped)
        check_free_space(out, estimated_csv_bytes(frame.head(200), rows))  # before training
        gan = TabularGAN(device=device, random_state=seed)
        if epochs is not None:
            gan.set_params(epochs=epochs)
        gan.fit(frame, callbacks=[progress] if progress else None)
    counts = {"generated": 0, "accepted": 0}

    def batches() -> Iterator[pd.DataFrame]:
        done = 0
        for number in range(-(-rows // SYNTH_BATCH_ROWS)):
            n = min(SYNTH_BATCH_ROWS, rows - done)
            batch = gan.sample(n, condition=wanted or None, random_state=_batch_seed(seed, number))
            stats = getattr(gan, "last_sample_stats_", {})
            counts["generated"] += int(stats.get("generated", n))
            counts["accepted"] += int(stats.get("accepted", n))
            for column, whole_days in dates.items():
                days = batch[column].round() if whole_days else batch[column]
                batch[column] = days_to_datetimes(days)
            done += n
            yield batch
            if on_rows is not None:
                on_rows(done, rows)

    path = write_csv_stream(batches(), out)
    if save_model is not None and model is None:  # only once the rows are written
        with _written_before_interrupt(path):
            gan.save(save_model)
    rate = counts["accepted"] / counts["generated"] if counts["generated"] else 1.0
    if model is not None and len(wanted) > 1:
        notes.append(MSG_UNCHECKED_COMBINATION.format(combination=_combination(wanted), rate=rate))
    if wanted and rate < LOW_ACCEPTANCE:
        notes.append(
            str(FairlatentWarning(MSG_LOW_ACCEPTANCE.format(
                rate=rate,
                combination=_combination(wanted),
                accepted=counts["accepted"],
                generated=counts["generated"],
            )))
        )
    return path


def _batch_seed(seed: int, number: int) -> int:
    """Seed of batch ``number``: ``seed`` itself for the first, then seeds derived from it."""
    if number == 0:
        return seed
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _combination(wanted: Mapping[str, str]) -> str:
    return " and ".join(f"{column}={value}" for column, value in wanted.items())


def _check_conditions(
    frame: pd.DataFrame, wanted: dict[str, str], dropped: Mapping[str, str] | None = None
) -> None:
    """Reject a condition on an unknown column or value, or on a combination no row has."""
    for column, value in wanted.items():
        if column not in frame.columns and column in (dropped or {}):
            raise SchemaError(
                MSG_CONDITION_DROPPED.format(column=column, reason=(dropped or {})[column])
            )
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
    if len(wanted) > 1:
        together = np.ones(len(frame), dtype=bool)
        for column, value in wanted.items():
            together &= (frame[column].astype(str) == value).to_numpy()
        if not together.any():
            raise SchemaError(MSG_NO_MATCHING_ROWS.format(combination=_combination(wanted)))


MSG_CONFIG_CONTRADICTS = (
    "{option} contradicts the config file {path}, which sets {key} = {value}; drop one of them "
    "(the setup you tune for must be the one you train)"
)


def sidecar_path(out: str | Path) -> Path:
    """Where ``debias`` writes the record of its choice: ``<out>.json``.

    Examples
    --------
    >>> sidecar_path("runs/debiased.csv").as_posix()
    'runs/debiased.csv.json'
    """
    out = Path(out)
    return out.with_name(out.name + ".json")


def _config_keys(path: str | Path) -> dict[str, Any]:
    """Return the keys a (valid) TOML config file sets, spelled as AuditConfig spells them."""
    import tomllib

    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    data = data.get("audit", data)
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def debias_table(
    data: str | Path,
    *,
    target: str | None,
    sensitive: Sequence[str] | None,
    strategy: str = "auto",
    classifiers: Sequence[str] | None = None,
    include_sensitive: bool | None = None,
    config: str | Path | None = None,
    strength: str | None = None,
    tune: bool | None = None,
    out: str | Path = "debiased.csv",
    positive_label: str | None = None,
    min_group_size: int | None = None,
    drop: Sequence[str] | None = None,
    max_categories: int | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    save_model: str | Path | None = None,
    model: str | Path | None = None,
    callbacks: Sequence[Callable[[int, int, Mapping[str, float]], Any]] = (),
) -> dict[str, Any]:
    """Debias every row of ``data`` for the user's setups and write the training set.

    The rows go through :func:`fairlatent.api.debias` (the audit's own steps and defaults): each
    option is scored on validation rows carved out of the data in every setup of the family the
    user may train (each classifier with the sensitive column used and not used, or as
    ``include_sensitive`` says), and the do-no-harm rule picks. Synthetic rows are flagged in
    :data:`SYNTHETIC_FLAG`; weighting strategies add :data:`WEIGHT_COLUMN`. The record of the choice
    (setups, strategy, strength, validation figures, leakage) goes to :func:`sidecar_path`.

    A ``config`` file gives the same keys as ``audit``'s; command-line values win, except that a
    setup contradicting the file (``include_sensitive`` or the classifiers) is an error.

    Returns
    -------
    dict
        ``path``, ``sidecar``, ``rows``, ``synthetic_rows``, ``strategy``, ``strength``,
        ``setups``, ``line`` (one line naming the setup) and ``notices``.
    """
    from fairlatent.api import debias
    from fairlatent.config import AuditConfig
    from fairlatent.data.groups import sensitive_column
    from fairlatent.data.io import read_table
    from fairlatent.engine.debias import AUTO
    from fairlatent.strategies import STRATEGIES

    out = Path(out)
    uses_gan = strategy == AUTO or (
        strategy in STRATEGIES.names() and STRATEGIES.get(strategy).uses_gan
    )
    if (model is not None or save_model is not None) and not uses_gan:
        with_gan = " or ".join(spec.name for spec in STRATEGIES if spec.uses_gan and spec.debias)
        raise ConfigError(f"--model/--save-model hold a GAN: use them with --strategy {with_gan}")
    if save_model is not None and strength is not None and strength.strip().lower() == "off":
        raise ConfigError(
            "--strength off trains no GAN, so --save-model would save nothing: choose another "
            "--strength or leave out --save-model"
        )
    if save_model is not None:
        check_model_dir(Path(save_model))
    if strategy == AUTO and strength is not None:
        raise ConfigError("--strength names one strategy's setting: give --strategy too, not auto")
    base = None
    strategies = None
    if config is not None:
        base = AuditConfig.from_toml(config)
        keys = _config_keys(config)
        if (
            include_sensitive is not None
            and "include_sensitive" in keys
            and bool(keys["include_sensitive"]) != include_sensitive
        ):
            option = "--include-sensitive" if include_sensitive else "--exclude-sensitive"
            raise ConfigError(
                MSG_CONFIG_CONTRADICTS.format(
                    option=option, path=config, key="include_sensitive",
                    value=str(keys["include_sensitive"]).lower(),
                )
            )
        if include_sensitive is None and "include_sensitive" in keys:
            include_sensitive = bool(keys["include_sensitive"])
        if classifiers and "classifiers" in keys and set(base.classifiers) != set(classifiers):
            raise ConfigError(
                MSG_CONFIG_CONTRADICTS.format(
                    option="--classifier " + ",".join(classifiers), path=config,
                    key="classifiers", value=base.classifiers,
                )
            )
        if "strategies" in keys:
            strategies = [s for s in base.strategies if s != "none"]
    check_output_file(out)
    check_output_file(sidecar_path(out))
    specs = list(sensitive) if sensitive else (list(base.sensitive) if base is not None else [])
    raw = read_table(data, literal_columns=[sensitive_column(spec) for spec in specs])
    dropped = list(drop or []) + (list(base.drop) if base is not None and drop is None else [])
    for column, purpose in (
        (SYNTHETIC_FLAG, "flag the generated rows"),
        (WEIGHT_COLUMN, "hold the rows' weights"),
    ):
        if column in raw.columns and column not in dropped:
            raise SchemaError(MSG_OUTPUT_COLUMN.format(column=column, purpose=purpose))
    pretrained: dict[str, Any] = {}
    check = None
    if model is not None:
        from fairlatent.models.gan import TabularGAN

        gan = TabularGAN.load(model, device="cpu" if device in (None, "auto") else device)
        pretrained["gan"] = gan

        def check(prepared: Any) -> None:
            _check_model_columns(gan, prepared.schema.features, model)

    outcome = debias(
        raw,
        target=target,
        sensitive=list(sensitive) if sensitive else None,
        strategy=strategy,
        classifiers=list(classifiers) if classifiers else None,
        include_sensitive=include_sensitive,
        strength=strength,
        strategies=strategies,
        config=base,
        pretrained=pretrained,
        on_prepared=check,
        callbacks=list(callbacks),
        positive_label=positive_label,
        min_group_size=min_group_size,
        drop=list(drop) if drop is not None else None,
        max_categories=max_categories,
        epochs=epochs,
        seed=seed,
        device=device,
        tune=tune,
    )
    frame = outcome.frame.copy()
    frame[SYNTHETIC_FLAG] = outcome.is_synthetic
    if outcome.sample_weight is not None:
        frame[WEIGHT_COLUMN] = outcome.sample_weight
    path = write_csv_atomically(frame, out)
    side = write_json_atomically(outcome.sidecar(), sidecar_path(out))
    notices = list(outcome.notices)
    if save_model is not None and "gan" in outcome.artifacts:  # only once the rows are written
        with _written_before_interrupt(path):
            outcome.artifacts["gan"].save(save_model)
    elif save_model is not None:
        notices.append(str(FairlatentWarning(MSG_NOTHING_SAVED.format(
            path=save_model, strategy=outcome.strategy, strength=outcome.strength
        ))))
    return {
        "path": path,
        "sidecar": side,
        "rows": len(frame),
        "synthetic_rows": int(frame[SYNTHETIC_FLAG].sum()),
        "strategy": outcome.strategy,
        "strength": outcome.strength,
        "setups": outcome.setups,
        "line": outcome.setup_line(),
        "notices": notices,
        "outcome": outcome,
    }


@contextlib.contextmanager
def _written_before_interrupt(path: Path) -> Iterator[None]:
    """Tell an interruption (Ctrl-C, SIGTERM) while the model is saved that ``path`` is written.

    The exception gets a ``written`` attribute the CLI reads, so it does not say that nothing
    was written; the model directory itself is never left half-written.
    """
    try:
        yield
    except BaseException as err:
        if not isinstance(err, Exception):  # KeyboardInterrupt, the CLI's Terminated
            err.written = [str(path)]  # type: ignore[attr-defined]
        raise


def write_json_atomically(document: Mapping[str, Any], path: Path) -> Path:
    """Write ``document`` as JSON (NaN as null) through a temporary file."""
    import json

    from fairlatent.report import atomic_file
    from fairlatent.report.json_writer import to_jsonable

    check_output_file(path)
    with atomic_file(path) as handle:
        json.dump(to_jsonable(dict(document)), handle, indent=2, allow_nan=False)
    return path


def _check_model_columns(gan: Any, features: Sequence[str], model: str | Path) -> None:
    """Require a saved GAN to have learnt exactly the columns debias would give it."""
    from fairlatent.samplers.synthetic_source import CELL_GROUP, CELL_LABEL

    expected = [*features, CELL_GROUP, CELL_LABEL]
    learnt = [str(c) for c in getattr(gan, "feature_names_in_", [])]
    if learnt == expected:
        return
    if CELL_GROUP not in learnt or CELL_LABEL not in learnt:
        detail = "it learnt no group x label cells, as GANs saved by synth do"
        raise SchemaError(MSG_MODEL_COLUMNS.format(model=model, detail=detail))
    missing = [c for c in learnt if c not in expected]
    extra = [c for c in expected if c not in learnt]
    parts = []
    if missing:
        parts.append("it learnt " + ", ".join(map(repr, missing[:5])) + " which the data lacks")
    if extra:
        parts.append("the data has " + ", ".join(map(repr, extra[:5])) + " which it never saw")
    if not parts:
        parts.append("the same columns in another order")
    raise SchemaError(MSG_MODEL_COLUMNS.format(model=model, detail="; ".join(parts)))
