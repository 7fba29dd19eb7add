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

#: Exit codes: a bad input (any FairlatentError), Ctrl-C, SIGTERM.
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
MSG_INTERRUPTED = "interrupted ({signal}); nothing was written"


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
    line.append(" ".join(message.split()))  # one line, whatever the message holds
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
            except KeyboardInterrupt:
                _fail(MSG_INTERRUPTED.format(signal="Ctrl-C"), EXIT_INTERRUPTED)
            except Terminated:
                _fail(MSG_INTERRUPTED.format(signal="SIGTERM"), EXIT_TERMINATED)
    finally:
        root.handlers = saved
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


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
) -> None:
    """Audit DATA: train classifiers with each strategy, measure fairness, write report.html + metrics.json."""
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
        _run_audit(data, cfg, out_dir, quiet, guard)


def _canonical_command(data: Path, cfg: Any, out_dir: Path) -> str:
    """Build the ``fairlatent audit`` command line that reproduces ``cfg`` (defaults left out)."""
    from dataclasses import fields

    from fairlatent.config import AuditConfig

    defaults = AuditConfig()
    parts = ["fairlatent", "audit", str(data)]
    always = {"target", "sensitive", "strategies", "classifiers", "seed", "repeats", "test_size"}
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


def _run_audit(data: Path, cfg: Any, out_dir: Path, quiet: bool, guard: _RunGuard) -> None:
    from fairlatent.api import load_and_audit, write_report
    from fairlatent.report import check_output_dir

    check_output_dir(out_dir)
    with _Progress(quiet) as shown:
        shown.step("reading data", 0, None)
        result = load_and_audit(data, cfg, progress=shown.step, callbacks=[shown.epoch])
        shown.step("writing report", 0, None)
        result.schema.notices.extend(guard.notices())
        result.command = _canonical_command(data, cfg, out_dir)
        paths = write_report(result, out_dir)
    if not quiet:
        _print_summary(result, paths)


def _print_summary(result: Any, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for line in result.headline():
        console.print(line, markup=False, highlight=False, style="bold")
    summary = result.summary()
    table = Table(title="fairlatent audit (mean over repeats, test rows, groups compared)")
    for col in ("classifier", "strategy", "accuracy", "DP diff", "EO diff", "EOp diff"):
        table.add_column(col, justify="left" if col in {"classifier", "strategy"} else "right")
    for (strategy, clf), row in summary.iterrows():
        table.add_row(
            clf,
            strategy,
            f"{row['accuracy']:.3f}",
            f"{row['dp_difference']:.3f}",
            f"{row['eo_difference']:.3f}",
            f"{row['eop_difference']:.3f}",
        )
    console.print(table)
    for verdict in result.verdict():
        console.print(verdict["text"], markup=False, highlight=False)
    console.print("What to do next:", style="bold")
    for number, step in enumerate(result.next_steps(), start=1):
        console.print(f"  {number}. {step}", markup=False, highlight=False)
    _print_notices(result.schema.notices, console)
    console.print(f"report:  {paths['report']}", markup=False)
    console.print(f"metrics: {paths['metrics']}", markup=False)


def _print_notices(notices: list[str], console: Any = None) -> None:
    """Print the decisions taken about the data, and warnings, one per line."""
    if not notices:
        return
    from rich.console import Console

    console = console or Console(stderr=True)
    console.print("Notices:", style="bold")
    for notice in notices:
        console.print(f"  - {notice}", markup=False, highlight=False, soft_wrap=True)


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
        typer.echo(f"synthetic rows: {path}")


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
        typer.echo(
            f"tuned for your setup: {'; '.join(summary['setups'])} (record: {summary['sidecar']})"
        )
        typer.echo(
            f"debiased training set: {summary['path']} ({summary['rows']} rows, "
            f"{summary['synthetic_rows']} synthetic; strategy {summary['strategy']} at strength "
            f"{summary['strength']})"
        )


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    from fairlatent.config import as_list

    return as_list(text)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
