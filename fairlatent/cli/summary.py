"""What ``audit`` prints when it is done: the answer first, then tables, next steps and paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairlatent.cli.running import print_notices, terminal_text


def print_prediction_summary(result: Any, paths: dict[str, Path]) -> None:
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
    print_notices(result.schema.notices, console)
    console.print(f"report:  {paths['report']}", markup=False)
    console.print(f"metrics: {paths['metrics']}", markup=False)


def print_summary(result: Any, paths: dict[str, Path]) -> None:
    """Print the verdicts, the table over repeats, next steps, notices and the paths."""
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
    print_notices(result.schema.notices, console)
    console.print(f"report:  {terminal_text(paths['report'])}", markup=False, highlight=False)
    console.print(f"metrics: {terminal_text(paths['metrics'])}", markup=False, highlight=False)

