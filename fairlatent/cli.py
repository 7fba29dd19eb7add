"""The ``fairlatent`` command line: parses options, builds a config, calls the library.

Domain errors become one line on stderr and exit code 2; nothing is written on error. While a
command runs, Python warnings and library log warnings are collected (into the report's notices
for ``audit``, printed after the run for ``synth`` and ``debias``) instead of being printed
through the progress bars; ``--quiet`` prints nothing but errors. SIGTERM is turned into an
exception, like Ctrl-C, so temporary files are removed on either.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import signal
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from fairlatent.exceptions import FairlatentError

app = typer.Typer(
    name="fairlatent",
    help="Audit models trained on tabular data for group unfairness, and debias with latent-variable models.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

#: Exit codes: a bad input (any FairlatentError), a finding that ``--fail-on`` gates, Ctrl-C,
#: SIGTERM.
EXIT_ERROR = 2
EXIT_FINDING = 3
#: What ``audit --fail-on`` accepts: exit 3 when a baseline finding is established, or never.
FAIL_ON = ("never", "established")
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
MSG_INTERRUPTED = "interrupted ({signal}); nothing was written"
MSG_INTERRUPTED_AFTER = (
    "interrupted ({signal}) while saving the model: {written} was written completely, the model "
    "was not saved"
)
#: Characters that are escaped before text reaches the terminal: C0/C1 controls (ESC starts
#: colour, cursor and title sequences), DEL, and the bidirectional overrides that reorder text.
_BIDI = {0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def terminal_text(text: object) -> str:
    r"""``text`` safe to print: every control character escaped visibly, as ``\xNN``/``\uNNNN``.

    The one sanitiser of every string the CLI prints (messages, notices, verdicts, tables,
    paths), so a value from the data (a group named ``"A\x1b[2J"``, with a real ESC) cannot
    clear, recolour or retitle the terminal, or hide text. Backslashes stay as they are.

    Examples
    --------
    >>> terminal_text("A\x1b[2J\x1b]0;title\x07 B\u202e")
    'A\\x1b[2J\\x1b]0;title\\x07 B\\u202e'
    """
    out = []
    for char in str(text):
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _names(registry_name: str) -> str:
    """List registered plug-in names for help texts (reads the registry; imports no plug-in)."""
    if registry_name == "strategies":
        from fairlatent.strategies.registry import STRATEGIES

        return ", ".join(STRATEGIES.names())
    from fairlatent.classifiers.registry import CLASSIFIERS

    return ", ".join(CLASSIFIERS.names())


def _debias_names() -> str:
    from fairlatent.strategies.registry import STRATEGIES

    return ", ".join(spec.name for spec in STRATEGIES if spec.debias)


def _default(name: str) -> str:
    """Help text ``[default: X]`` for an audit option, read from :class:`AuditConfig`.

    The audit's options default to ``None`` on the command line (so a ``--config`` file can fill
    them), which Typer would show as no default; the escaped brackets keep Rich from reading
    the text as markup.
    """
    from fairlatent.config import AuditConfig

    value = getattr(AuditConfig(), name)
    if isinstance(value, bool):
        text = {"include_sensitive": "exclude", "tune": "tune", "latent_audit": "latent-audit"}.get(
            name, str(value).lower()
        )
    elif isinstance(value, list):
        text = ",".join(value)
    else:
        text = str(value)
    return rf"\[default: {text}]"


#: Help suffix of options an audit needs that a --config file may give instead.
REQUIRED_UNLESS_CONFIG = r"\[required unless --config sets it]"

DataArg = Annotated[
    Path, typer.Argument(help="CSV (optionally .gz) or Parquet file.", show_default=False)
]


ThreadsOption = Annotated[
    int | None,
    typer.Option(
        help="CPU threads for torch/BLAS/OpenMP, here and in every worker (-1: every usable "
        "core). [default: FAIRLATENT_THREADS, OMP_NUM_THREADS, else 1]"
    ),
]


def _prepare_runtime(device: str, threads: int | None) -> None:
    """Before any work: fail on a bad or unavailable device, then apply the thread policy."""
    from fairlatent.models.device import resolve_device
    from fairlatent.models.threads import apply_thread_policy

    resolve_device(device)
    apply_thread_policy(threads)


def _fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    from rich.console import Console
    from rich.text import Text

    line = Text("error: ", style="bold red")
    line.append(terminal_text(" ".join(message.split())))  # one line, whatever it holds
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)
    raise typer.Exit(code=code)


class _Collected(logging.Handler):
    """Keeps log records of level WARNING and above instead of printing them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _RunGuard:
    """What one command collected: warnings and log warnings, as notice sentences."""

    def __init__(self) -> None:
        self.caught: list[warnings.WarningMessage] = []
        self.handler = _Collected()

    def notices(self) -> list[str]:
        """One sentence per distinct warning, with how often it occurred."""
        counts: dict[str, int] = {}
        for item in self.caught:
            where = Path(item.filename).name
            text = f"{item.category.__name__}: {item.message} ({where}:{item.lineno})"
            counts[text] = counts.get(text, 0) + 1
        for record in self.handler.records:
            text = f"{record.levelname.lower()} from {record.name}: {record.getMessage()}"
            counts[text] = counts.get(text, 0) + 1
        return [
            f"warning during the run: {text}" + (f" ({n} times)" if n > 1 else "")
            for text, n in counts.items()
        ]


_VERBOSE = {"on": False}


@contextlib.contextmanager
def _guarded() -> Iterator[_RunGuard]:
    """Run a command: one-line errors, SIGTERM as an exception, warnings collected."""
    from fairlatent.report import Terminated

    guard = _RunGuard()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def terminate(signum: int, frame: Any) -> None:
            raise Terminated()

        previous = signal.signal(signal.SIGTERM, terminate)
    root = logging.getLogger()
    saved = root.handlers[:]
    if not _VERBOSE["on"]:  # keep warnings for the notices instead of printing them
        root.handlers = [guard.handler]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
            guard.caught = caught
            try:
                yield guard
            except FairlatentError as err:
                _fail(str(err))
            except KeyboardInterrupt as err:
                _fail(_interrupted(err, "Ctrl-C"), EXIT_INTERRUPTED)
            except Terminated as err:
                _fail(_interrupted(err, "SIGTERM"), EXIT_TERMINATED)
    finally:
        root.handlers = saved
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(err: BaseException, name: str) -> str:
    """Return the interruption message: what was written before it (see ``written``)."""
    written = getattr(err, "written", None)
    if written:
        return MSG_INTERRUPTED_AFTER.format(signal=name, written=", ".join(written))
    return MSG_INTERRUPTED.format(signal=name)


def _version(value: bool) -> None:
    if value:
        from fairlatent._version import __version__

        typer.echo(f"fairlatent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress details (INFO) as they happen.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Audit models trained on tabular data for group unfairness."""
    _VERBOSE["on"] = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def audit(
    data: DataArg,
    target: Annotated[
        str | None, typer.Option(help=f"Target column. {REQUIRED_UNLESS_CONFIG}")
    ] = None,
    sensitive: Annotated[
        str | None,
        typer.Option(
            help="Sensitive attribute(s), comma-separated; 'age:25,60' bins at cut points, "
            f"'age:q4' into quartiles. {REQUIRED_UNLESS_CONFIG}"
        ),
    ] = None,
    positive_label: Annotated[
        str | None,
        typer.Option(help="Favourable target value, e.g. '>50K'. \\[default: inferred]"),
    ] = None,
    strategies: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated: {_names('strategies')}. {_default('strategies')}"),
    ] = None,
    classifiers: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated: {_names('classifiers')}. {_default('classifiers')}"),
    ] = None,
    repeats: Annotated[
        int | None, typer.Option(help=f"Seeded train/test splits. {_default('repeats')}")
    ] = None,
    test_size: Annotated[
        float | None, typer.Option(help=f"Held-out share. {_default('test_size')}")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help=f"Base seed, 0 to 2**32-1; repeat k uses seed + k. {_default('seed')}"),
    ] = None,
    include_sensitive: Annotated[
        bool | None,
        typer.Option(
            "--include-sensitive/--exclude-sensitive",
            help=f"Use sensitive columns as features. {_default('include_sensitive')}",
        ),
    ] = None,
    min_group_size: Annotated[
        int | None,
        typer.Option(
            help="Smaller groups merge into one group, '(small groups)'. "
            f"{_default('min_group_size')}"
        ),
    ] = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    max_categories: Annotated[
        int | None,
        typer.Option(
            help="Levels a categorical feature keeps (its most frequent); the rest are pooled "
            f"into one level. {_default('max_categories')}"
        ),
    ] = None,
    n_boot: Annotated[
        int | None,
        typer.Option(help=f"Bootstrap replicates for intervals (0: none). {_default('n_boot')}"),
    ] = None,
    min_test_support: Annotated[
        int | None,
        typer.Option(
            help="Fewest favourable and unfavourable test rows a group needs to be judged; "
            f"thinner groups are listed as too small. {_default('min_test_support')}"
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Group the others are compared with. \\[default: largest judged group]"
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(help=f"auto, cpu, cuda or mps for neural models. {_default('device')}"),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="Epochs for the VAE/GAN. \\[default: the models' own]"),
    ] = None,
    threads: ThreadsOption = None,
    tune: Annotated[
        bool | None,
        typer.Option(
            "--tune/--no-tune",
            help="Tune each strategy's strength per classifier on validation rows carved out of "
            f"the training rows. {_default('tune')}",
        ),
    ] = None,
    validation_size: Annotated[
        float | None,
        typer.Option(
            help=f"Share of the training rows held out for tuning. {_default('validation_size')}"
        ),
    ] = None,
    accuracy_budget: Annotated[
        float | None,
        typer.Option(
            help="Largest validation accuracy loss a tuned strength may cost (0.015 = 1.5 "
            f"points). {_default('accuracy_budget')}"
        ),
    ] = None,
    fit_sample: Annotated[
        int | None,
        typer.Option(
            help="Fit the VAE/GAN on a stratified sample of at most N rows; classifiers and "
            "metrics use every row. \\[default: every row]"
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", help=f"Units of work at once (-1: every core). {_default('jobs')}"
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help=f"Where units run: local, dask or ray. {_default('backend')}"),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Cluster scheduler address for dask/ray (omit: start a local one)."),
    ] = None,
    latent_audit: Annotated[
        bool | None,
        typer.Option(
            "--latent-audit/--no-latent-audit",
            help="Find certified slices where the models fail and counterfactual flips through "
            f"a group-conditional VAE. {_default('latent_audit')}",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory. \\[default: reports/<data-stem>]"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with the same options (CLI wins).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")
    ] = False,
    prediction: Annotated[
        list[str] | None,
        typer.Option(
            help="Audit this column of a model's predicted labels (target's labels) on every row, "
            "no training; repeat it or separate with commas to compare models."
        ),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            help="Audit this score column (AUC, ROC, calibration by group); without --prediction, "
            "decide with --threshold, --top-k or --top-percent."
        ),
    ] = None,
    score_direction: Annotated[
        str | None,
        typer.Option(help="higher or lower: which way the score points to the favourable label. "
                     r"\[default: higher]"),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Favourable when the score is at least T (at most, for lower)."),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option(help="Favourable for the K rows with the highest scores.")
    ] = None,
    top_percent: Annotated[
        float | None, typer.Option(help="Favourable for the top P % of rows by score.")
    ] = None,
    latent_view: Annotated[
        bool | None,
        typer.Option(
            "--latent-view/--no-latent-view",
            help="With --prediction/--score: the VAE representation audit of the feature columns. "
            r"\[default: latent-view]",
        ),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            help="'established': exit with code 3 (after writing the report) when a baseline "
            "model has an established disparity, for CI gates; 'never': exit 0."
        ),
    ] = "never",
) -> None:
    """Audit DATA: train classifiers with each strategy, measure fairness, write report.html + metrics.json.

    With --prediction or --score, audit a model you already have instead: its decisions on every row.
    """
    if (prediction or score) and strategies is not None:
        with _guarded():
            from fairlatent.config import MSG_STRATEGIES_WITH_PREDICTIONS
            from fairlatent.exceptions import ConfigError

            raise ConfigError(MSG_STRATEGIES_WITH_PREDICTIONS.format(strategies=strategies))
    if fail_on not in FAIL_ON:
        _fail(f"--fail-on must be one of {', '.join(FAIL_ON)}; got {fail_on!r}")
    overrides: dict[str, Any] = {
        "target": target,
        "sensitive": sensitive,
        "positive_label": positive_label,
        "strategies": strategies,
        "classifiers": classifiers,
        "repeats": repeats,
        "test_size": test_size,
        "seed": seed,
        "include_sensitive": include_sensitive,
        "min_group_size": min_group_size,
        "drop": drop,
        "max_categories": max_categories,
        "n_boot": n_boot,
        "min_test_support": min_test_support,
        "reference": reference,
        "device": device,
        "epochs": epochs,
        "threads": threads,
        "tune": tune,
        "validation_size": validation_size,
        "accuracy_budget": accuracy_budget,
        "fit_sample": fit_sample,
        "jobs": jobs,
        "backend": backend,
        "address": address,
        "latent_audit": latent_audit,
        "out": str(out) if out else None,
        "prediction": prediction or None,
        "score": score,
        "score_direction": score_direction,
        "threshold": threshold,
        "top_k": top_k,
        "top_percent": top_percent,
        "latent_view": latent_view,
    }
    with _guarded() as guard:
        from fairlatent.config import AuditConfig

        cfg = (
            AuditConfig.from_toml(config, **overrides)
            if config
            else AuditConfig.from_mapping({}, **overrides)
        ).validate()
        _prepare_runtime(cfg.device, cfg.threads)
        from fairlatent.data.io import data_stem

        out_dir = Path(cfg.out) if cfg.out else Path("reports") / data_stem(data)
        result = _run_audit(data, cfg, out_dir, quiet, guard)
    if fail_on == "established" and result.findings.established():
        if not quiet:
            typer.echo(
                f"--fail-on established: {len(result.findings.established())} established "
                f"finding(s) of a baseline model; exit code {EXIT_FINDING}",
                err=True,
            )
        raise typer.Exit(code=EXIT_FINDING)


def _canonical_command(data: Path, cfg: Any, out_dir: Path) -> str:
    """Build the ``fairlatent audit`` command line that reproduces ``cfg`` (defaults left out)."""
    from dataclasses import fields

    from fairlatent.config import AuditConfig

    defaults = AuditConfig()
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
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            negative = {"include_sensitive": "--exclude-sensitive"}.get(name, "--no-" + flag[2:])
            parts.append(flag if value else negative)
        elif isinstance(value, list):
            if value:
                parts += [flag, ",".join(map(str, value))]
        else:
            parts += [flag, str(value)]
    parts += ["--out", str(out_dir)]
    return shlex.join(parts)


class _Progress:
    """The command's progress display: a step line and, during model fits, an epoch line.

    The epoch line reads "GAN epoch k/E, loss x" (or VAE) with a bar and Rich's time-remaining
    estimate; it is fed by :meth:`epoch`, the per-epoch callback ``(epoch, epochs, metrics)`` the
    library hands to every VAE/GAN fit, and restarts for each new fit.
    """

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True, quiet=quiet)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=quiet or not self.console.is_terminal,
        )
        self.steps = self.bar.add_task("starting", total=None, info="")
        self.fits = self.bar.add_task("model fit", total=None, info="", visible=False)
        self._last: tuple[str, int] = ("", 0)

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)  # type: ignore[arg-type]

    def step(self, description: str, done: int, total: int | None) -> None:
        """Show the current step (the ``progress`` callback of the library)."""
        info = f"{done}/{total}" if total else ""
        self.bar.update(self.steps, description=description, completed=done, total=total, info=info)

    def epoch(self, epoch: int, epochs: int, metrics: Mapping[str, float]) -> None:
        """Show one finished epoch of a VAE or GAN fit (a model ``callbacks`` entry)."""
        model = "GAN" if "generator_loss" in metrics else "VAE"
        loss = metrics.get("generator_loss", metrics.get("train_loss", metrics.get("loss")))
        if self._last[0] != model or epoch <= self._last[1]:  # a new fit: restart the ETA
            self.bar.reset(self.fits, total=epochs, visible=True)
        self._last = (model, epoch)
        self.bar.update(
            self.fits,
            description=f"{model} epoch {epoch}/{epochs}",
            completed=epoch,
            total=epochs,
            info=f"loss {loss:.4g}" if isinstance(loss, float | int) else "",
            visible=True,
        )


def _run_audit(data: Path, cfg: Any, out_dir: Path, quiet: bool, guard: _RunGuard) -> Any:
    from fairlatent.api import load_and_audit, write_report
    from fairlatent.report import check_output_dir

    check_output_dir(out_dir)
    if cfg.audits_predictions:
        return _run_prediction_audit(data, cfg, out_dir, quiet, guard)
    with _Progress(quiet) as shown:
        shown.step("reading data", 0, None)
        result = load_and_audit(data, cfg, progress=shown.step, callbacks=[shown.epoch])
        shown.step("writing report", 0, None)
        result = result.with_run(command=_canonical_command(data, cfg, out_dir), notices=guard.notices())
        paths = write_report(result, out_dir)
    if not quiet:
        _print_summary(result, paths)
    return result


def _run_prediction_audit(data: Path, cfg: Any, out_dir: Path, quiet: bool, guard: _RunGuard) -> Any:
    """``audit --prediction/--score``: audit the given decisions on every row, write the report."""
    from fairlatent.api import write_report
    from fairlatent.model_audit import load_and_audit_predictions

    with _Progress(quiet) as shown:
        shown.step("auditing the given predictions", 0, None)
        result = load_and_audit_predictions(data, cfg)
        shown.step("writing report", 0, None)
        result = result.with_run(command=_canonical_command(data, cfg, out_dir), notices=guard.notices())
        paths = write_report(result, out_dir)
    if not quiet:
        _print_prediction_summary(result, paths)
    return result


def _print_prediction_summary(result: Any, paths: dict[str, Path]) -> None:
    """Per model, the error-rate table by group (every row), then the paths."""
    from rich.console import Console
    from rich.table import Table

    from fairlatent.report.formatting import number, percent

    console = Console()
    if not console.is_terminal:  # piped: wide enough for the group names
        console = Console(width=120)
    for verdict in result.verdicts():  # the answer first: who, what, how much, how sure
        console.print(verdict.headline.sentence, markup=False, highlight=False, style="bold")
    for line in result.headline():
        console.print(line, markup=False, highlight=False)
    for rec in result.records:
        table = Table(title=f"{rec.classifier}: decisions by group (every row)")
        for col in ("group", "rows", "base rate", "selected", "TPR", "FPR", "FNR", "accuracy"):
            table.add_column(col, justify="left" if col == "group" else "right")
        by_group = rec.evaluation.by_group
        for group, row in by_group.iterrows():
            table.add_row(
                str(group), f"{int(row['count'])}", percent(row["base_rate"]),
                percent(row["selection_rate"]), percent(row["tpr"]), percent(row["fpr"]),
                percent(1 - row["tpr"]), number(row["accuracy"]),
            )
        console.print(table)
    steps = result.next_steps()
    if steps:
        console.print("What to do next:", style="bold")
        for rank, step in enumerate(steps, start=1):
            console.print(f"  {rank}. {step}", markup=False, highlight=False)
    _print_notices(result.schema.notices, console)
    console.print(f"report:  {paths['report']}", markup=False)
    console.print(f"metrics: {paths['metrics']}", markup=False)


def _print_summary(result: Any, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for verdict in result.verdicts():  # the answer first: who, what, how much, how sure
        console.print(
            terminal_text(verdict.headline.sentence), markup=False, highlight=False, style="bold"
        )
    for line in result.headline():
        console.print(terminal_text(line), markup=False, highlight=False)
    summary = result.summary()
    table = Table(title="fairlatent audit (mean over repeats, test rows, groups compared)")
    for col in ("classifier", "strategy", "accuracy", "DP diff", "EO diff", "EOp diff"):
        table.add_column(col, justify="left" if col in {"classifier", "strategy"} else "right")
    for (strategy, clf), row in summary.iterrows():
        table.add_row(
            terminal_text(clf),
            terminal_text(strategy),
            f"{row['accuracy']:.3f}",
            f"{row['dp_difference']:.3f}",
            f"{row['eo_difference']:.3f}",
            f"{row['eop_difference']:.3f}",
        )
    console.print(table)
    for verdict in result.verdicts():
        console.print(terminal_text(verdict.text), markup=False, highlight=False)
    console.print("What to do next:", style="bold")
    for number, step in enumerate(result.next_steps(), start=1):
        console.print(f"  {number}. {terminal_text(step)}", markup=False, highlight=False)
    _print_notices(result.schema.notices, console)
    console.print(f"report:  {terminal_text(paths['report'])}", markup=False, highlight=False)
    console.print(f"metrics: {terminal_text(paths['metrics'])}", markup=False, highlight=False)


def _print_notices(notices: list[str], console: Any = None) -> None:
    """Print the decisions taken about the data, and warnings, one per line."""
    if not notices:
        return
    from rich.console import Console

    console = console or Console(stderr=True)
    console.print("Notices:", style="bold")
    for notice in notices:
        console.print(f"  - {terminal_text(notice)}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def synth(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="CSV or Parquet file to learn from (omit with --model).", show_default=False
        ),
    ] = None,
    rows: Annotated[
        int, typer.Option(help="Number of synthetic rows (any number: written in batches).")
    ] = 1000,
    out: Annotated[Path, typer.Option(help="Output CSV.")] = Path("synthetic.csv"),
    condition: Annotated[
        list[str] | None,
        typer.Option(
            help="COLUMN=VALUE every generated row must satisfy; repeat for other columns."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="GAN epochs. \\[default: the GAN's own, 300]")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed, 0 to 2**32-1.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    threads: ThreadsOption = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to leave out.")] = None,
    save_model: Annotated[
        Path | None, typer.Option(help="Save the trained GAN to this directory.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Load a saved GAN instead of training one.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train a conditional tabular GAN on DATA (or load one) and write synthetic rows to a CSV."""
    notices: list[str] = []
    with _guarded() as guard, _Progress(quiet) as shown:
        from fairlatent.commands import synthesise

        _prepare_runtime(device, threads)
        shown.step("reading data" if model is None else "loading the GAN", 0, None)

        def written(done: int, total: int) -> None:
            shown.step("writing rows", done, total)

        path = synthesise(
            data,
            rows=rows,
            out=out,
            conditions=condition or [],
            epochs=epochs,
            seed=seed,
            device=device,
            drop=_split(drop),
            save_model=save_model,
            model=model,
            progress=shown.epoch,
            on_rows=written,
            notices=notices,
        )
        notices.extend(guard.notices())
    if not quiet:
        _print_notices(notices)
        typer.echo(f"synthetic rows: {terminal_text(path)}")


@app.command()
def debias(
    data: DataArg,
    target: Annotated[
        str | None, typer.Option(help="Target column (or 'target' in --config).")
    ] = None,
    sensitive: Annotated[
        str | None, typer.Option(help="Sensitive attribute(s), as for audit.")
    ] = None,
    strategy: Annotated[
        str,
        typer.Option(help=f"auto (validation picks) or one of: {_debias_names()}."),
    ] = "auto",
    classifier: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Classifier(s) your model is (repeat or comma-separate): {_names('classifiers')}. "
            "\\[default: logreg]"
        ),
    ] = None,
    include_sensitive: Annotated[
        bool | None,
        typer.Option(
            "--include-sensitive/--exclude-sensitive",
            help="Whether your model reads the sensitive columns. \\[default: both setups are "
            "checked: the pick must do no harm either way]",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with the same keys as audit's.")
    ] = None,
    strength: Annotated[
        str | None,
        typer.Option(help="A strength of the strategy's grid (e.g. 0.5), instead of tuning."),
    ] = None,
    tune: Annotated[
        bool | None,
        typer.Option(
            "--tune/--no-tune",
            help="Tune the strength on validation rows (--no-tune: the strategy's default). "
            "\\[default: tune]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Output CSV of the debiased training set (record: <out>.json).")
    ] = Path("debiased.csv"),
    positive_label: Annotated[
        str | None, typer.Option(help="Favourable target value. \\[default: inferred]")
    ] = None,
    min_group_size: Annotated[
        int | None,
        typer.Option(help="Smaller groups merge into one group, '(small groups)'. \\[default: 30]"),
    ] = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    max_categories: Annotated[
        int | None,
        typer.Option(
            help="Levels a categorical feature keeps (its most frequent); the rest are pooled "
            f"into one level, in the rows written too. {_default('max_categories')}"
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Epochs for the VAE/GAN. \\[default: the models' own]")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed, 0 to 2**32-1. \\[default: 0]")] = None,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu, cuda or mps. \\[default: auto]")
    ] = None,
    threads: ThreadsOption = None,
    save_model: Annotated[
        Path | None, typer.Option(help="Save the trained GAN to this directory.")
    ] = None,
    model: Annotated[Path | None, typer.Option(help="Reuse a GAN saved by --save-model.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Write DATA's debiased training set for your own model, tuned for how you will train it."""
    with _guarded() as guard, _Progress(quiet) as shown:
        from fairlatent.commands import debias_table

        _prepare_runtime(device or "auto", threads)
        shown.step("debiasing", 0, None)
        classifiers = [c for item in classifier or [] for c in (_split(item) or [])]
        summary = debias_table(
            data,
            target=target,
            sensitive=_split(sensitive),
            strategy=strategy,
            classifiers=classifiers or None,
            include_sensitive=include_sensitive,
            config=config,
            strength=strength,
            tune=tune,
            out=out,
            positive_label=positive_label,
            min_group_size=min_group_size,
            drop=_split(drop),
            max_categories=max_categories,
            epochs=epochs,
            seed=seed,
            device=device,
            save_model=save_model,
            model=model,
            callbacks=[shown.epoch],
        )
        notices = [*summary["notices"], *guard.notices()]
    if not quiet:
        _print_notices(notices)
        typer.echo(terminal_text(
            f"tuned for your setup: {'; '.join(summary['setups'])} (record: {summary['sidecar']})"
        ))
        typer.echo(terminal_text(
            f"debiased training set: {summary['path']} ({summary['rows']} rows, "
            f"{summary['synthetic_rows']} synthetic; strategy {summary['strategy']} at strength "
            f"{summary['strength']})"
        ))


@app.command()
def compare(
    old: Annotated[
        Path, typer.Argument(help="The earlier audit's metrics.json (or its directory).", show_default=False)
    ],
    new: Annotated[
        Path, typer.Argument(help="The later audit's metrics.json (or its directory).", show_default=False)
    ],
    out: Annotated[Path, typer.Option(help="Output directory for compare.html and compare.json.")] = Path(
        "reports/compare"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Diff the findings of two audits: what appeared, disappeared or changed state."""
    with _guarded():
        from fairlatent.compare import compare_audits

        diff = compare_audits(old, new, out)
    if not quiet:
        counts = diff["counts"]
        typer.echo(
            f"{counts['changed']} finding(s) changed state, {counts['appeared']} appeared, "
            f"{counts['disappeared']} disappeared, {counts['unchanged']} unchanged"
        )
        for row in diff["changed"]:
            typer.echo(
                f"  {row['classifier']}/{row['strategy']}: {row['group']} {row['metric']}: "
                f"{row['old_state']} -> {row['new_state']}"
            )
        typer.echo(f"report: {diff['paths']['report']}")
        typer.echo(f"json:   {diff['paths']['json']}")


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    from fairlatent.config import as_list

    return as_list(text)


#: Options of ``audit`` that take several values after one flag (``--prediction a b``).
MULTI_VALUE_OPTIONS = ("--prediction",)


def expand_multi_value_options(argv: list[str]) -> list[str]:
    """Rewrite ``audit ... --prediction a b`` as ``--prediction a --prediction b``.

    Click options take one value per flag; this lets ``--prediction COL [COL ...]`` work once the
    data file has been given (before it, the extra names would be read as the data file). Option
    values are told apart from positionals with the ``audit`` command's own option table.

    Examples
    --------
    >>> expand_multi_value_options(["audit", "d.csv", "--target", "y", "--prediction", "a", "b"])
    ['audit', 'd.csv', '--target', 'y', '--prediction', 'a', '--prediction', 'b']
    """
    if not argv or argv[0] != "audit":
        return argv
    command = typer.main.get_command(app)
    audit_cmd = command.commands["audit"]  # type: ignore[attr-defined]
    takes_value = {
        name for param in audit_cmd.params if not getattr(param, "is_flag", True)
        for name in getattr(param, "opts", [])
    }
    out, seen_data, i = [argv[0]], False, 1
    while i < len(argv):
        token = argv[i]
        out.append(token)
        if token in MULTI_VALUE_OPTIONS and i + 1 < len(argv):
            out.append(argv[i + 1])
            i += 2
            while seen_data and i < len(argv) and not argv[i].startswith("-"):
                out.extend([token, argv[i]])
                i += 1
            continue
        if token.startswith("-"):
            if token in takes_value and "=" not in token and i + 1 < len(argv):
                out.append(argv[i + 1])
                i += 1
        else:
            seen_data = True
        i += 1
    return out


def main() -> None:
    """Console-script entry point.

    SIGTERM is turned into an exception from the first moment (option parsing and imports take
    seconds), so a command stopped before its work starts still says so in one line and exits
    with 143 instead of dying silently.
    """
    import sys

    from fairlatent.report import Terminated

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        app(args=expand_multi_value_options(sys.argv[1:]))
    except Terminated:
        sys.stderr.write("error: " + MSG_INTERRUPTED.format(signal="SIGTERM") + "\n")
        sys.exit(EXIT_TERMINATED)


if __name__ == "__main__":  # pragma: no cover
    main()
