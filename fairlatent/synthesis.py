"""Synthetic rows from a conditional tabular GAN, on a DataFrame: what ``fairlatent synth`` does.

:func:`synthesise` learns a :class:`~fairlatent.models.gan.TabularGAN` from a frame (or uses a
fitted one) and returns the generated rows with the model. :func:`fit_synthesiser` is the same in
two steps, for callers that stream any number of rows in batches (the ``synth`` command writes
them to a CSV as they come, :meth:`Synthesiser.batches`).

The frame goes through the audit's column cleaning first
(:func:`~fairlatent.data.clean.clean_features`): identifiers, free text and empty columns are
left out, infinities become missing values, and date columns are learnt as days and given back
as dates. A condition (``{"sex": "Female"}``) is honoured on every returned row; a condition on
an unknown column or value, or a combination of values no row of the data has, is an error
before any training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError, SchemaError

#: Rows generated at a time: any number of rows can be asked for without holding them at once.
BATCH_ROWS = 10_000

MSG_NO_MATCHING_ROWS = (
    "no row of the data has {combination} together, so the generator has never seen this "
    "combination; ask for a combination that occurs in the data (each value alone occurs)"
)
MSG_UNCHECKED_COMBINATION = (
    "a saved GAN does not record which values occur together, so {combination} could not be "
    "checked against its training data; {rate:.1%} of generated rows satisfied it. Pass the "
    "DATA file instead of --model to have the combination checked"
)
MSG_CONDITION_DROPPED = "condition column {column!r} was left out of the data: {reason}"


def check_request(
    *, rows: int, epochs: int | None = None, seed: int = 0, threads: int | None = None
) -> None:
    """Check what is asked of :func:`synthesise` before any work.

    Raises
    ------
    ConfigError
        ``rows`` or ``epochs`` below 1, a seed outside ``0 <= seed < 2**32``, or a thread count
        that is neither -1 nor positive.

    Examples
    --------
    >>> check_request(rows=10, seed=3)
    >>> check_request(rows=0)
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: --rows 0 must be at least 1
    """
    from fairlatent.config import check_seed
    from fairlatent.models.threads import check_threads

    check_threads(threads)
    if rows < 1:
        raise ConfigError(f"--rows {rows} must be at least 1")
    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs {epochs} must be at least 1")
    check_seed(seed)


@dataclass
class Synthesiser:
    """A fitted (or loaded) GAN, ready to generate rows that satisfy ``condition``.

    Attributes
    ----------
    model : TabularGAN
        The generator.
    condition : dict
        ``{column: value}`` every generated row satisfies.
    seed : int
        The first batch's seed; later batches use seeds derived from it.
    notices : list of str
        One sentence per decision taken about the data (columns left out, dates as days), then,
        once rows were generated, one when the combination could not be checked (a loaded GAN).
    generated, accepted : int
        Rows the generator made, and those that satisfied the condition, so far.
    """

    model: Any
    condition: dict[str, str]
    seed: int = 0
    notices: list[str] = field(default_factory=list)
    dates: dict[str, bool] = field(default_factory=dict)
    checked: bool = True
    generated: int = 0
    accepted: int = 0

    @property
    def acceptance(self) -> float:
        """Share of generated rows that satisfied the condition (1.0 before any or without one)."""
        return self.accepted / self.generated if self.generated else 1.0

    def batches(
        self,
        rows: int,
        *,
        batch_rows: int = BATCH_ROWS,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield ``rows`` rows in batches of at most ``batch_rows``.

        ``progress(done, rows)`` is called after each batch. The first batch uses :attr:`seed`,
        later ones seeds derived from it, so the same seed gives the same rows.
        """
        from fairlatent.data.clean import days_to_datetimes

        done = 0
        for number in range(-(-rows // batch_rows)):
            n = min(batch_rows, rows - done)
            batch = self.model.sample(
                n, condition=self.condition or None, random_state=_batch_seed(self.seed, number)
            )
            stats = getattr(self.model, "last_sample_stats_", {})
            self.generated += int(stats.get("generated", n))
            self.accepted += int(stats.get("accepted", n))
            for column, whole_days in self.dates.items():
                days = batch[column].round() if whole_days else batch[column]
                batch[column] = days_to_datetimes(days)
            done += n
            yield batch
            if progress is not None:
                progress(done, rows)
        if not self.checked and len(self.condition) > 1:
            self.notices.append(MSG_UNCHECKED_COMBINATION.format(
                combination=describe_condition(self.condition), rate=self.acceptance
            ))


def fit_synthesiser(
    frame: pd.DataFrame | None,
    *,
    condition: Mapping[str, str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    drop: Sequence[str] | None = None,
    model: Any = None,
    callbacks: Sequence[Callable[[int, int, Mapping[str, float]], Any]] | None = None,
    threads: int | None = None,
    on_prepared: Callable[[pd.DataFrame], None] | None = None,
) -> Synthesiser:
    """Learn a GAN from ``frame`` (or take the fitted ``model``) for :meth:`Synthesiser.batches`.

    Parameters
    ----------
    frame, condition, seed
        As for :func:`synthesise`.
    epochs : int, optional
        GAN epochs (default: :class:`~fairlatent.models.gan.TabularGAN`'s own).
    device : str, default "auto"
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    drop : sequence of str, optional
        Columns to leave out.
    model : TabularGAN, optional
        A fitted GAN to sample from instead of training one.
    callbacks : sequence of callable, optional
        Per-epoch callbacks ``(epoch, epochs, metrics)`` of the GAN fit.
    threads : int, optional
        CPU threads (see :mod:`fairlatent.models.threads`; ``None``: the policy's default).
    on_prepared : callable, optional
        Called with the cleaned frame before training (e.g. to check the output fits on disk).

    Raises
    ------
    ConfigError, SchemaError
        Nothing to learn from, a column to drop or a condition the data does not have.
    """
    from fairlatent.data.clean import clean_features
    from fairlatent.models.gan import TabularGAN
    from fairlatent.models.threads import apply_thread_policy

    wanted = dict(condition or {})
    apply_thread_policy(threads)
    if model is not None:
        return Synthesiser(model, wanted, seed, checked=False)
    if frame is None:
        raise ConfigError("nothing to learn from: pass a DATA file or --model DIR")
    missing = [c for c in (drop or []) if c not in frame.columns]
    if missing:
        raise SchemaError(f"column {missing[0]!r} to drop not found; check --drop")
    cleaned = clean_features(frame.drop(columns=list(drop or [])))
    frame = cleaned.frame
    dates = {
        column: bool(np.all(np.mod(frame[column].dropna(), 1.0) == 0.0))  # whole days
        for column, kind in cleaned.converted.items()
        if kind == "datetime"
    }
    _check_conditions(frame, wanted, cleaned.dropped)
    if on_prepared is not None:
        on_prepared(frame)
    gan = TabularGAN(device=device, random_state=seed)
    if epochs is not None:
        gan.set_params(epochs=epochs)
    gan.fit(frame, callbacks=list(callbacks) if callbacks else None)
    return Synthesiser(gan, wanted, seed, notices=list(cleaned.notices), dates=dates)


@dataclass(frozen=True)
class Synthesis:
    """What :func:`synthesise` returns: the rows, the GAN that made them, and what to know.

    Attributes
    ----------
    rows : DataFrame
        The generated rows, in the data's columns (dates as dates).
    model : TabularGAN
        The fitted generator (``model.save(path)`` keeps it).
    notices : tuple of str
        Decisions taken about the data, one sentence each.
    acceptance : float
        Share of generated rows that satisfied the condition; a small share means the generator
        rarely makes that combination, so the rows may not be typical of it.
    """

    rows: pd.DataFrame
    model: Any
    notices: tuple[str, ...]
    acceptance: float


def synthesise(
    frame: pd.DataFrame | None,
    *,
    rows: int,
    condition: Mapping[str, str] | None = None,
    seed: int = 0,
    **options: Any,
) -> Synthesis:
    """Learn a conditional tabular GAN from ``frame`` and generate ``rows`` synthetic rows.

    Parameters
    ----------
    frame : DataFrame or None
        Rows to learn from; ``None`` when ``model`` is given.
    rows : int
        Rows to generate (at least 1).
    condition : mapping, optional
        ``{column: value}`` every generated row satisfies (categorical columns).
    seed : int, default 0
        Seed of training and sampling, ``0 <= seed < 2**32``: same seed, same rows (on CPU).
    **options
        Those of :func:`fit_synthesiser`: ``epochs`` (default: the
        :class:`~fairlatent.models.gan.TabularGAN`'s own), ``device`` (``"auto"``, ``"cpu"``,
        ``"cuda"``, ``"mps"``), ``drop`` (columns to leave out), ``model`` (a fitted GAN to
        sample from instead of training one), ``callbacks`` (per-epoch ``(epoch, epochs,
        metrics)`` of the GAN fit), ``threads`` (CPU threads, see
        :mod:`fairlatent.models.threads`; ``None``: the policy's default).

    Returns
    -------
    Synthesis
        ``rows``, ``model``, ``notices`` and the condition's ``acceptance``.

    Raises
    ------
    ConfigError, SchemaError
        Bad options, a condition on an unknown column or value, or a combination of values no
        row of the data has.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"sex": rng.choice(["F", "M"], 300), "hours": rng.normal(40, 8, 300)})
    >>> out = synthesise(df, rows=50, condition={"sex": "F"}, epochs=1, device="cpu")
    >>> len(out.rows), set(out.rows["sex"]), list(out.rows.columns)
    (50, {'F'}, ['sex', 'hours'])
    """
    check_request(rows=rows, epochs=options.get("epochs"), seed=seed, threads=options.get("threads"))
    synth = fit_synthesiser(frame, condition=condition, seed=seed, **options)
    generated = pd.concat(list(synth.batches(rows)), ignore_index=True)
    return Synthesis(generated, synth.model, tuple(synth.notices), synth.acceptance)


def _batch_seed(seed: int, number: int) -> int:
    """Seed of batch ``number``: ``seed`` itself for the first, then seeds derived from it."""
    if number == 0:
        return seed
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def describe_condition(wanted: Mapping[str, str]) -> str:
    """``{"sex": "F", "job": "x"}`` as ``"sex=F and job=x"`` (for messages)."""
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
            raise SchemaError(MSG_NO_MATCHING_ROWS.format(combination=describe_condition(wanted)))
