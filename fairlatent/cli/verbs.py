"""``fairlatent synth``, ``debias`` and ``compare``: read the input, call the library, write files."""

from __future__ import annotations

from typing import Any

import typer

from fairlatent.cli.running import Progress, check_device, guarded, print_notices, terminal_text


def synth(**values: Any) -> None:
    """Train a conditional tabular GAN on DATA (or load one) and write synthetic rows to a CSV."""
    quiet = values.pop("quiet")
    notices: list[str] = []
    with guarded() as guard, Progress(quiet) as shown:
        from fairlatent.commands import synthesise

        check_device(values["device"])
        shown.step("reading data" if values["model"] is None else "loading the GAN", 0, None)

        def written(done: int, total: int) -> None:
            shown.step("writing rows", done, total)

        path = synthesise(
            values.pop("data"),
            conditions=values.pop("condition") or [],
            progress=shown.epoch,
            on_rows=written,
            notices=notices,
            **values,
        )
        notices.extend(guard.notices())
    if not quiet:
        print_notices(notices)
        typer.echo(f"synthetic rows: {terminal_text(path)}")


def debias(**values: Any) -> None:
    """Write DATA's debiased training set for your own model, tuned for how you will train it."""
    quiet = values.pop("quiet")
    with guarded() as guard, Progress(quiet) as shown:
        from fairlatent.commands import debias_table

        check_device(values["device"])
        shown.step("debiasing", 0, None)
        summary = debias_table(
            values.pop("data"), classifiers=values.pop("classifier"), callbacks=[shown.epoch], **values
        )
        notices = [*summary["notices"], *guard.notices()]
    if not quiet:
        print_notices(notices)
        typer.echo(terminal_text(
            f"tuned for your setup: {'; '.join(summary['setups'])} (record: {summary['sidecar']})"
        ))
        typer.echo(terminal_text(
            f"debiased training set: {summary['path']} ({summary['rows']} rows, "
            f"{summary['synthetic_rows']} synthetic; strategy {summary['strategy']} at strength "
            f"{summary['strength']})"
        ))


def compare(old: Any, new: Any, out: Any, quiet: bool) -> None:
    """Diff the findings of two audits: what appeared, disappeared or changed state."""
    with guarded():
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
