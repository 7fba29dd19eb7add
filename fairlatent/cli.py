"""The ``fairlatent`` command line: parses options, builds a config, calls the library.

Domain errors become one line on stderr and exit code 2; nothing is written on error.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from fairlatent.exceptions import FairlatentError

app = typer.Typer(
    name="fairlatent",
    help="Audit models trained on tabular data for group unfairness, and debias with latent-variable models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {message}", markup=True
    )
    raise typer.Exit(code=2)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """Audit models trained on tabular data for group unfairness."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def audit(
    data: DataArg,
    target: Annotated[str | None, typer.Option(help="Target column.")] = None,
    sensitive: Annotated[
        str | None,
        typer.Option(
            help="Sensitive attribute(s), comma-separated; 'age:25,60' bins at cut points, 'age:q4' into quartiles."
        ),
    ] = None,
    positive_label: Annotated[
        str | None, typer.Option(help="Favourable target value, e.g. '>50K'.")
    ] = None,
    strategies: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated: {_names('strategies')}. [default: none,reweigh]"
        ),
    ] = None,
    classifiers: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated: {_names('classifiers')}. [default: logreg,hgb]"),
    ] = None,
    repeats: Annotated[
        int | None, typer.Option(help="Seeded train/test splits. [default: 1]")
    ] = None,
    test_size: Annotated[float | None, typer.Option(help="Held-out share. [default: 0.3]")] = None,
    seed: Annotated[int | None, typer.Option(help="Base seed. [default: 0]")] = None,
    include_sensitive: Annotated[
        bool | None,
        typer.Option(
            "--include-sensitive/--exclude-sensitive",
            help="Use sensitive columns as features. [default: exclude]",
        ),
    ] = None,
    min_group_size: Annotated[
        int | None, typer.Option(help="Smaller groups merge into 'other'. [default: 30]")
    ] = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    max_categories: Annotated[
        int | None,
        typer.Option(help="Most distinct values of a categorical feature. [default: 100]"),
    ] = None,
    n_boot: Annotated[
        int | None,
        typer.Option(help="Bootstrap replicates for intervals (0: none). [default: 200]"),
    ] = None,
    min_test_support: Annotated[
        int | None,
        typer.Option(
            help="Fewest favourable and unfavourable test rows a group needs to be judged; "
            "thinner groups are listed as too small. [default: 20]"
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="Group the others are compared with. [default: largest judged group]"),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu, cuda or mps for neural models. [default: auto]")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Epochs for the VAE/GAN (default: model defaults).")
    ] = None,
    threads: ThreadsOption = None,
    tune: Annotated[
        bool | None,
        typer.Option(
            "--tune/--no-tune",
            help="Tune each strategy's strength per classifier on validation rows carved out of "
            "the training rows. [default: tune]",
        ),
    ] = None,
    validation_size: Annotated[
        float | None,
        typer.Option(help="Share of the training rows held out for tuning. [default: 0.25]"),
    ] = None,
    accuracy_budget: Annotated[
        float | None,
        typer.Option(
            help="Largest validation accuracy loss a tuned strength may cost (0.015 = 1.5 "
            "points). [default: 0.015]"
        ),
    ] = None,
    fit_sample: Annotated[
        int | None,
        typer.Option(
            help="Fit the VAE/GAN on a stratified sample of at most N rows; classifiers and "
            "metrics use every row. [default: every row]"
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Units of work at once (-1: every core). [default: 1]"),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="Where units run: local, dask or ray. [default: local]"),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Cluster scheduler address for dask/ray (omit: start a local one)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory. [default: reports/<data-stem>]")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with the same options (CLI wins).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or summary table.")
    ] = False,
) -> None:
    """Audit DATA: train classifiers with each strategy, measure fairness, write report.html + metrics.json."""
    from fairlatent.config import AuditConfig

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
        "out": str(out) if out else None,
    }
    try:
        cfg = (
            AuditConfig.from_toml(config, **overrides)
            if config
            else AuditConfig.from_mapping({}, **overrides)
        ).validate()
        _prepare_runtime(cfg.device, cfg.threads)
        from fairlatent.data.io import data_stem

        out_dir = Path(cfg.out) if cfg.out else Path("reports") / data_stem(data)
        _run_audit(data, cfg, out_dir, quiet)
    except FairlatentError as err:
        _fail(str(err))


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


def _run_audit(data: Path, cfg: Any, out_dir: Path, quiet: bool) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from fairlatent.api import load_and_audit, write_report
    from fairlatent.report import check_output_dir

    check_output_dir(out_dir)
    console = Console(stderr=True, quiet=quiet)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading data", total=None)

        def progress(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        result = load_and_audit(data, cfg, progress=progress)
        bar.update(task, description="writing report")
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
    console.print(f"report:  {paths['report']}", markup=False)
    console.print(f"metrics: {paths['metrics']}", markup=False)


@app.command()
def synth(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="CSV or Parquet file to learn from (omit with --model).", show_default=False
        ),
    ] = None,
    rows: Annotated[int, typer.Option(help="Number of synthetic rows.")] = 1000,
    out: Annotated[Path, typer.Option(help="Output CSV.")] = Path("synthetic.csv"),
    condition: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN=VALUE every generated row must satisfy; repeat for several."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="GAN epochs (default: the GAN's own, 300).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    threads: ThreadsOption = None,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to leave out.")] = None,
    save_model: Annotated[
        Path | None, typer.Option(help="Save the trained GAN to this directory.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Load a saved GAN instead of training one.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train a conditional tabular GAN on DATA (or load one) and write synthetic rows to a CSV."""
    try:
        from fairlatent.commands import synthesise

        _prepare_runtime(device, threads)
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
            progress=None if quiet else _epoch_printer(),
        )
    except FairlatentError as err:
        _fail(str(err))
    if not quiet:
        typer.echo(f"synthetic rows: {path}")


@app.command()
def debias(
    data: DataArg,
    target: Annotated[str, typer.Option(help="Target column.")],
    sensitive: Annotated[str, typer.Option(help="Sensitive attribute(s), as for audit.")],
    strategy: Annotated[
        str,
        typer.Option(
            help=f"auto (validation picks) or one of: {_debias_names()}. [default: auto]"
        ),
    ] = "auto",
    classifier: Annotated[
        str,
        typer.Option(
            help=f"Classifier the strength is tuned for: {_names('classifiers')}. "
            "[default: logreg]"
        ),
    ] = "logreg",
    strength: Annotated[
        str | None,
        typer.Option(help="A strength of the strategy's grid (e.g. 0.5), instead of tuning."),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune/--no-tune",
            help="Tune the strength on validation rows (--no-tune: the strategy's default).",
        ),
    ] = True,
    out: Annotated[Path, typer.Option(help="Output CSV of the debiased training set.")] = Path(
        "debiased.csv"
    ),
    positive_label: Annotated[str | None, typer.Option(help="Favourable target value.")] = None,
    min_group_size: Annotated[int, typer.Option(help="Smaller groups merge into 'other'.")] = 30,
    drop: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs for the VAE/GAN.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    threads: ThreadsOption = None,
    save_model: Annotated[
        Path | None, typer.Option(help="Save the trained GAN to this directory.")
    ] = None,
    model: Annotated[Path | None, typer.Option(help="Reuse a GAN saved by --save-model.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary output.")] = False,
) -> None:
    """Write DATA's debiased training set (flagging synthetic rows) for your own pipeline."""
    try:
        from fairlatent.commands import debias_table

        _prepare_runtime(device, threads)
        summary = debias_table(
            data,
            target=target,
            sensitive=_split(sensitive) or [],
            strategy=strategy,
            classifier=classifier,
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
        )
    except FairlatentError as err:
        _fail(str(err))
    if not quiet:
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


def _epoch_printer() -> Any:
    from rich.console import Console

    console = Console(stderr=True)

    def report(epoch: int, epochs: int, metrics: Mapping[str, float]) -> None:
        if epoch == epochs or epoch % max(1, epochs // 10) == 0:
            console.print(f"epoch {epoch}/{epochs}", markup=False, highlight=False)

    return report


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
