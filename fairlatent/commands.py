"""File-in, file-out workflows behind the ``synth`` and ``debias`` commands."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairlatent.exceptions import ConfigError, SchemaError
from fairlatent.report import (
    check_free_space,
    check_model_dir,
    check_output_file,
    write_csv_stream,
    write_json_file,
)
from fairlatent.synthesis import describe_condition
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
MSG_LOW_ACCEPTANCE = (
    "only {rate:.2%} of generated rows satisfied {combination} ({accepted} of {generated}): the "
    "generator rarely makes this combination, so these rows may not be typical of it; check "
    "them, train longer (--epochs) or condition on fewer columns"
)
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


def estimated_csv_bytes(sample: pd.DataFrame, rows: int) -> int:
    """Bytes ``rows`` rows like ``sample`` take as CSV (from the sample's own CSV size)."""
    text = sample.to_csv(index=False)
    header, _, body = text.partition("\n")
    per_row = len(body.encode("utf-8")) / max(len(sample), 1)
    return int(len(header.encode("utf-8")) + per_row * rows)


def synthesise(
    data: str | Path | None,
    *,
    rows: int,
    out: str | Path,
    conditions: Sequence[str] = (),
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = None,
    drop: str | Sequence[str] | None = None,
    save_model: str | Path | None = None,
    model: str | Path | None = None,
    progress: Callable[[int, int, Mapping[str, float]], None] | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    notices: list[str] | None = None,
) -> Path:
    """Read ``data`` (or load a saved GAN), run :func:`fairlatent.synthesis.fit_synthesiser`, write rows.

    Rows are generated and written in batches of :data:`SYNTH_BATCH_ROWS`, so any number of
    rows can be asked for; the CSV appears only once every batch is in. Every option is checked,
    and the output's free space estimated, before any training.

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
    epochs, seed, device, threads
        As for :func:`fairlatent.synthesise`.
    drop : str or sequence of str, optional
        Columns to leave out (``"a,b"`` or a list).
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
    from fairlatent.config import as_list
    from fairlatent.data.io import read_table
    from fairlatent.models.gan import TabularGAN
    from fairlatent.synthesis import check_request, fit_synthesiser

    out = Path(out)
    notes = notices if notices is not None else []
    check_request(rows=rows, epochs=epochs, seed=seed, threads=threads)
    wanted = parse_conditions(conditions)
    check_output_file(out)
    if save_model is not None and model is not None:
        raise ConfigError(
            "--save-model saves a GAN this command trains, but --model loads one: leave out "
            "--save-model (the loaded GAN is already saved) or --model"
        )
    if save_model is not None:
        check_model_dir(Path(save_model))
    frame, gan = None, None
    if model is not None:
        gan = TabularGAN.load(model, device="cpu" if device == "auto" else device)
        probe = gan.sample(min(rows, 200), random_state=seed)
        check_free_space(out, estimated_csv_bytes(probe, rows))
    elif data is not None:
        frame = read_table(data)

    def fits_on_disk(cleaned: pd.DataFrame) -> None:  # before training
        check_free_space(out, estimated_csv_bytes(cleaned.head(200), rows))

    synth = fit_synthesiser(
        frame, condition=wanted, epochs=epochs, seed=seed, device=device, threads=threads,
        drop=as_list(drop), model=gan, callbacks=[progress] if progress else None,
        on_prepared=fits_on_disk,
    )
    path = write_csv_stream(
        synth.batches(rows, batch_rows=SYNTH_BATCH_ROWS, progress=on_rows), out
    )
    if save_model is not None and model is None:  # only once the rows are written
        with _written_before_interrupt(path):
            synth.model.save(save_model)
    notes.extend(synth.notices)
    rate = synth.acceptance
    counts = {"generated": synth.generated, "accepted": synth.accepted}
    if wanted and rate < LOW_ACCEPTANCE:
        notes.append(
            str(FairlatentWarning(MSG_LOW_ACCEPTANCE.format(
                rate=rate,
                combination=describe_condition(wanted),
                accepted=counts["accepted"],
                generated=counts["generated"],
            )))
        )
    return path


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


def debias_table(
    data: str | Path,
    *,
    strategy: str = "auto",
    classifiers: Sequence[str] | None = None,
    include_sensitive: bool | None = None,
    config: str | Path | None = None,
    strength: str | None = None,
    out: str | Path = "debiased.csv",
    sensitive: str | Sequence[str] | None = None,
    drop: str | Sequence[str] | None = None,
    device: str | None = None,
    save_model: str | Path | None = None,
    model: str | Path | None = None,
    callbacks: Sequence[Callable[[int, int, Mapping[str, float]], Any]] = (),
    **options: Any,
) -> dict[str, Any]:
    """Read ``data``, debias it with :func:`fairlatent.debias`, write the training set and its record.

    The rows go through :func:`fairlatent.api.debias` (the audit's own steps and defaults): each
    option is scored on validation rows carved out of the data in every setup of the family the
    user may train (each classifier with the sensitive column used and not used, or as
    ``include_sensitive`` says), and the do-no-harm rule picks. Synthetic rows are flagged in
    :data:`SYNTHETIC_FLAG`; weighting strategies add :data:`WEIGHT_COLUMN`. The record of the choice
    (setups, strategy, strength, validation figures, leakage) goes to :func:`sidecar_path`.

    A ``config`` file gives the same keys as ``audit``'s; command-line values win, except that a
    setup contradicting the file (``include_sensitive`` or the classifiers) is an error.
    ``classifiers`` items may be comma-separated, as may ``sensitive`` and ``drop``; ``options``
    are other :class:`~fairlatent.config.AuditConfig` fields (``target``, ``seed``, ``epochs``,
    ``threads``...; ``None`` leaves the config's value).

    Returns
    -------
    dict
        ``path``, ``sidecar``, ``rows``, ``synthetic_rows``, ``strategy``, ``strength``,
        ``setups``, ``line`` (one line naming the setup), ``notices`` and ``outcome``.
    """
    from fairlatent.api import debias
    from fairlatent.config import AuditConfig, as_list, read_config_file
    from fairlatent.data.groups import sensitive_column
    from fairlatent.data.io import read_table
    from fairlatent.engine.debias import AUTO
    from fairlatent.strategies import STRATEGIES

    out = Path(out)
    classifiers = [name for item in classifiers or () for name in as_list(item)]
    sensitive = as_list(sensitive) if sensitive is not None else None
    drop = as_list(drop) if drop is not None else None
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
        keys = read_config_file(config)
        base = AuditConfig.from_mapping(keys)
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
    specs = sensitive if sensitive else (list(base.sensitive) if base is not None else [])
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

    options.update(sensitive=sensitive or None, drop=drop, device=device)
    outcome = debias(
        raw, strategy=strategy, classifiers=classifiers or None, strength=strength,
        include_sensitive=include_sensitive, strategies=strategies, config=base,
        pretrained=pretrained, on_prepared=check, callbacks=list(callbacks), **options,
    )
    frame = outcome.frame.copy()
    frame[SYNTHETIC_FLAG] = outcome.is_synthetic
    if outcome.sample_weight is not None:
        frame[WEIGHT_COLUMN] = outcome.sample_weight
    path = write_csv_stream([frame], out)
    side = write_json_file(outcome.sidecar(), sidecar_path(out))
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
