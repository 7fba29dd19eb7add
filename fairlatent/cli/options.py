"""Every command-line option, declared once, and the commands generated from these tables.

An :class:`Option` names its parameter, type, flags and help; ``{default}`` in a help text is
filled from :class:`~fairlatent.config.AuditConfig` (so a default has one home), and
``{strategies}``, ``{classifiers}``, ``{debias_strategies}`` from the plug-in registries. A command
is a function of ``**values`` plus its table (:func:`command`); Typer reads the parameters from
the table when it builds the CLI, so ``--help`` reflects the registries as they are then.
Options that are :class:`AuditConfig` fields (``config=True``) are handed to the library by name.

Building the help imports neither torch nor scikit-learn: the registries and the config are
read without importing any strategy, classifier or model.
"""

from __future__ import annotations

import functools
import inspect
import shlex
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import typer

#: Help suffix of options an audit needs that a --config file may give instead.
REQUIRED_UNLESS_CONFIG = r"\[required unless --config sets it]"
#: ``audit --fail-on`` values: exit 3 when a baseline finding is established, or never.
FAIL_ON = ("never", "established")


@dataclass(frozen=True)
class Option:
    """One command-line parameter.

    Parameters
    ----------
    name : str
        Python name; an :class:`~fairlatent.config.AuditConfig` field when ``config`` is true.
    type : type
        What Typer parses (``int | None``, ``list[str] | None``, ``Path``...).
    help : str
        Help text; may hold ``{default}``, ``{required}`` and registry names (see module doc).
    flags : tuple of str
        Flag spellings (``("--jobs", "-j")``, ``("--tune/--no-tune",)``); empty: ``--name``.
    default : object
        Typer's default. ``None`` lets a ``--config`` file or the library's default apply.
    show_default : bool
        Whether Typer adds its own ``[default: ...]`` (for real, non-``None`` defaults).
    words : tuple of str, optional
        How ``{default}`` names a boolean's two values (default: the two flag spellings).
    config : bool
        Whether the value is an :class:`AuditConfig` field.
    argument : bool
        A positional argument instead of an option.
    """

    name: str
    type: Any
    help: str
    flags: tuple[str, ...] = ()
    default: Any = None
    show_default: bool = True
    words: tuple[str, str] | None = None
    config: bool = True
    argument: bool = False

    @property
    def spellings(self) -> list[str]:
        """Every flag that sets this option (``--tune``, ``--no-tune``, ``-j``...)."""
        if not self.flags:
            return ["--" + self.name.replace("_", "-")]
        return [part for flag in self.flags for part in flag.split("/")]

    @property
    def takes_value(self) -> bool:
        """Whether the flag is followed by a value (not a boolean switch)."""
        return not self.argument and bool not in _members(self.type)

    def help_text(self) -> str:
        """Return the help with its ``{...}`` fields filled (registries and defaults read now)."""
        names = _registry_names()
        return self.help.format(default=self._default_text(), required=REQUIRED_UNLESS_CONFIG, **names)

    def _default_text(self) -> str:
        r"""``\[default: X]`` read from :class:`AuditConfig` (Rich would read bare brackets as markup)."""
        if "{default}" not in self.help:
            return ""
        from fairlatent.config import AuditConfig

        value = getattr(AuditConfig(), self.name)
        if isinstance(value, bool):
            positive, negative = self.words or tuple(self.spellings[i][2:] for i in (0, 1))
            text = positive if value else negative
        elif isinstance(value, list):
            text = ",".join(value)
        else:
            text = str(value)
        return rf"\[default: {text}]"

    def parameter(self) -> inspect.Parameter:
        """Return the Typer parameter, as a function signature would declare it."""
        if self.argument:  # required unless it may be left out (``Path | None``)
            default = None if None in _members(self.type) else ...
            info: Any = typer.Argument(default, help=self.help_text(), show_default=False)
        else:
            info = typer.Option(
                self.default, *self.flags, help=self.help_text(), show_default=self.show_default
            )
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=self.type
        )


def _members(kind: Any) -> tuple[Any, ...]:
    """Return the types a union allows (``None`` for ``NoneType``); ``(kind,)`` otherwise."""
    if typing.get_origin(kind) not in (types.UnionType, typing.Union):
        return (kind,)
    return tuple(None if arg is type(None) else arg for arg in typing.get_args(kind))


def _registry_names() -> dict[str, str]:
    """Return the registered plug-in names for help texts (imports no plug-in code)."""
    from fairlatent.classifiers.registry import CLASSIFIERS
    from fairlatent.policy import DEBIAS_CLASSIFIERS
    from fairlatent.strategies.registry import STRATEGIES

    return {
        "debias_classifiers": ",".join(DEBIAS_CLASSIFIERS),
        "strategies": ", ".join(STRATEGIES.names()),
        "classifiers": ", ".join(CLASSIFIERS.names()),
        "debias_strategies": ", ".join(spec.name for spec in STRATEGIES if spec.debias),
    }


class _Command:
    """A command function whose parameters Typer reads from an option table (see :func:`command`)."""

    def __init__(self, run: Callable[..., None], table: Sequence[Option]) -> None:
        functools.update_wrapper(self, run)
        vars(self).pop("__wrapped__")  # Typer must see the table's signature, not ``run``'s
        self.__annotations__ = {}
        self.run = run
        self.table = tuple(table)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.Signature([option.parameter() for option in self.table])

    def __call__(self, **values: Any) -> None:
        self.run(**values)


def command(run: Callable[..., None], table: Sequence[Option]) -> Callable[..., None]:
    """Make ``run(**values)`` a Typer command whose parameters are ``table``'s options."""
    return _Command(run, table)


def config_values(table: Sequence[Option], values: dict[str, Any]) -> dict[str, Any]:
    """Pick the :class:`AuditConfig` fields from ``values``: paths as text, empty lists unset."""
    chosen = {}
    for option in table:
        if not option.config:
            continue
        value = values[option.name]
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, list) and not value:
            value = None
        chosen[option.name] = value
    return chosen


# --- the options, each declared once --------------------------------------------------------

DATA = Option("data", Path, "CSV (optionally .gz) or Parquet file.", argument=True, config=False)
QUIET = Option("quiet", bool, "Print nothing but errors.", ("--quiet", "-q"), False, config=False)
THREADS = Option(
    "threads", int | None,
    "CPU threads for torch/BLAS/OpenMP, here and in every worker (-1: every usable core). "
    r"\[default: FAIRLATENT_THREADS, OMP_NUM_THREADS, else 1]",
)
DROP = Option("drop", str | None, "Comma-separated columns to ignore.")
MIN_GROUP_SIZE = Option(
    "min_group_size", int | None, "Smaller groups merge into one group, '(small groups)'. {default}"
)
EPOCHS = Option("epochs", int | None, r"Epochs for the VAE/GAN. \[default: the models' own]")
SAVE_MODEL = Option(
    "save_model", Path | None, "Save the trained GAN to this directory.", config=False
)
_LEVELS = "Levels a categorical feature keeps (its most frequent); the rest are pooled into one level"

AUDIT: tuple[Option, ...] = (
    DATA,
    Option("target", str | None, "Target column. {required}"),
    Option(
        "sensitive", str | None,
        "Sensitive attribute(s), comma-separated; 'age:25,60' bins at cut points, 'age:q4' into "
        "quartiles. {required}",
    ),
    Option("positive_label", str | None, r"Favourable target value, e.g. '>50K'. \[default: inferred]"),
    Option("strategies", str | None, "Comma-separated: {strategies}. {default}"),
    Option("classifiers", str | None, "Comma-separated: {classifiers}. {default}"),
    Option("repeats", int | None, "Seeded train/test splits. {default}"),
    Option("test_size", float | None, "Held-out share. {default}"),
    Option("seed", int | None, "Base seed, 0 to 2**32-1; repeat k uses seed + k. {default}"),
    Option(
        "include_sensitive", bool | None, "Use sensitive columns as features. {default}",
        ("--include-sensitive/--exclude-sensitive",), words=("include", "exclude"),
    ),
    MIN_GROUP_SIZE,
    DROP,
    Option("max_categories", int | None, _LEVELS + ". {default}"),
    Option("n_boot", int | None, "Bootstrap replicates for intervals (0: none). {default}"),
    Option(
        "min_test_support", int | None,
        "Fewest favourable and unfavourable test rows a group needs to be judged; thinner groups "
        "are listed as too small. {default}",
    ),
    Option(
        "reference", str | None, r"Group the others are compared with. \[default: largest judged group]"
    ),
    Option("device", str | None, "auto, cpu, cuda or mps for neural models. {default}"),
    EPOCHS,
    THREADS,
    Option(
        "tune", bool | None,
        "Tune each strategy's strength per classifier on validation rows carved out of the "
        "training rows. {default}",
        ("--tune/--no-tune",),
    ),
    Option("validation_size", float | None, "Share of the training rows held out for tuning. {default}"),
    Option(
        "accuracy_budget", float | None,
        "Largest validation accuracy loss a tuned strength may cost (0.015 = 1.5 points). {default}",
    ),
    Option(
        "fit_sample", int | None,
        "Fit the VAE/GAN on a stratified sample of at most N rows; classifiers and metrics use "
        r"every row. \[default: every row]",
    ),
    Option("jobs", int | None, "Units of work at once (-1: every core). {default}", ("--jobs", "-j")),
    Option("backend", str | None, "Where units run: local, dask or ray. {default}"),
    Option("address", str | None, "Cluster scheduler address for dask/ray (omit: start a local one)."),
    Option(
        "latent_audit", bool | None,
        "Find certified slices where the models fail and counterfactual flips through a "
        "group-conditional VAE. {default}",
        ("--latent-audit/--no-latent-audit",),
    ),
    Option("out", Path | None, r"Output directory. \[default: reports/<data-stem>]"),
    Option("config", Path | None, "TOML file with the same options (CLI wins).", config=False),
    QUIET,
    Option(
        "prediction", list[str] | None,
        "Audit this column of a model's predicted labels (target's labels) on every row, no "
        "training; repeat it or separate with commas to compare models.",
    ),
    Option(
        "score", str | None,
        "Audit this score column (AUC, ROC, calibration by group); without --prediction, decide "
        "with --threshold, --top-k or --top-percent.",
    ),
    Option(
        "score_direction", str | None,
        "higher or lower: which way the score points to the favourable label. {default}",
    ),
    Option("threshold", float | None, "Favourable when the score is at least T (at most, for lower)."),
    Option("top_k", int | None, "Favourable for the K rows with the highest scores."),
    Option("top_percent", float | None, "Favourable for the top P % of rows by score."),
    Option(
        "latent_view", bool | None,
        "With --prediction/--score: the VAE representation audit of the feature columns. {default}",
        ("--latent-view/--no-latent-view",),
    ),
    Option(
        "fail_on", str,
        "'established': exit with code 3 (after writing the report) when a baseline model has an "
        "established disparity, for CI gates; 'never': exit 0.",
        default="never", config=False,
    ),
)

SYNTH: tuple[Option, ...] = (
    Option(
        "data", Path | None, "CSV or Parquet file to learn from (omit with --model).",
        argument=True, config=False,
    ),
    Option("rows", int, "Number of synthetic rows (any number: written in batches).", default=1000),
    Option("out", Path, "Output CSV.", default=Path("synthetic.csv")),
    Option(
        "condition", list[str] | None,
        "COLUMN=VALUE every generated row must satisfy; repeat for other columns.",
    ),
    Option("epochs", int | None, r"GAN epochs. \[default: the GAN's own, 300]"),
    Option("seed", int, "Seed, 0 to 2**32-1.", default=0),
    Option("device", str, "auto, cpu, cuda or mps.", default="auto"),
    THREADS,
    Option("drop", str | None, "Comma-separated columns to leave out."),
    SAVE_MODEL,
    Option("model", Path | None, "Load a saved GAN instead of training one."),
    QUIET,
)

DEBIAS: tuple[Option, ...] = (
    DATA,
    Option("target", str | None, "Target column (or 'target' in --config)."),
    Option("sensitive", str | None, "Sensitive attribute(s), as for audit."),
    Option(
        "strategy", str, "auto (validation picks) or one of: {debias_strategies}.", default="auto",
        config=False,
    ),
    Option(
        "classifier", list[str] | None,
        "Classifier(s) your model is (repeat or comma-separate): {classifiers}. "
        r"\[default: {debias_classifiers}]",
        config=False,
    ),
    Option(
        "include_sensitive", bool | None,
        r"Whether your model reads the sensitive columns. \[default: both setups are checked: the "
        "pick must do no harm either way]",
        ("--include-sensitive/--exclude-sensitive",), show_default=False, config=False,
    ),
    Option("config", Path | None, "TOML file with the same keys as audit's.", config=False),
    Option(
        "strength", str | None, "A strength of the strategy's grid (e.g. 0.5), instead of tuning.",
        config=False,
    ),
    Option(
        "tune", bool | None,
        r"Tune the strength on validation rows (--no-tune: the strategy's default). \[default: tune]",
        ("--tune/--no-tune",), show_default=False,
    ),
    Option(
        "out", Path, "Output CSV of the debiased training set (record: <out>.json).",
        default=Path("debiased.csv"), config=False,
    ),
    Option("positive_label", str | None, r"Favourable target value. \[default: inferred]"),
    MIN_GROUP_SIZE,
    DROP,
    Option("max_categories", int | None, _LEVELS + ", in the rows written too. {default}"),
    EPOCHS,
    Option("seed", int | None, "Seed, 0 to 2**32-1. {default}"),
    Option("device", str | None, "auto, cpu, cuda or mps. {default}"),
    THREADS,
    SAVE_MODEL,
    Option("model", Path | None, "Reuse a GAN saved by --save-model.", config=False),
    QUIET,
)

COMPARE: tuple[Option, ...] = (
    Option(
        "old", Path, "The earlier audit's metrics.json (or its directory).", argument=True,
        config=False,
    ),
    Option(
        "new", Path, "The later audit's metrics.json (or its directory).", argument=True,
        config=False,
    ),
    Option(
        "out", Path, "Output directory for compare.html and compare.json.",
        default=Path("reports/compare"), config=False,
    ),
    QUIET,
)


def canonical_command(data: Path, cfg: Any, out_dir: Path) -> str:
    """Build the ``fairlatent audit`` command line that reproduces ``cfg`` (defaults left out).

    Flags are spelt as :data:`AUDIT` declares them; a field with no flag keeps its own name.
    """
    from fairlatent.config import AuditConfig

    defaults = AuditConfig()
    flags = {option.name: option.spellings for option in AUDIT}
    parts = ["fairlatent", "audit", str(data)]
    always = {"target", "sensitive", "strategies", "classifiers", "seed", "repeats", "test_size"}
    if cfg.audits_predictions:  # no split, no training: those options do not apply
        always = {"target", "sensitive", "seed"}
        defaults = AuditConfig(strategies=cfg.strategies, classifiers=cfg.classifiers)
    for item in fields(AuditConfig):
        name = item.name
        value = getattr(cfg, name)
        if name in {"out", "strategy_options"} or value is None:
            continue
        if name not in always and value == getattr(defaults, name):
            continue
        spelt = flags.get(name, ["--" + name.replace("_", "-")])
        if isinstance(value, bool):
            parts.append(spelt[0] if value else (spelt[1:] or ["--no-" + spelt[0][2:]])[0])
        elif isinstance(value, list):
            if value:
                parts += [spelt[0], ",".join(map(str, value))]
        else:
            parts += [spelt[0], str(value)]
    parts += ["--out", str(out_dir)]
    return shlex.join(parts)
