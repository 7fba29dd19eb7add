"""``fairlatent audit``: build the config from the options, run the library, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairlatent.cli.options import AUDIT, FAIL_ON, canonical_command, config_values
from fairlatent.cli.running import (
    EXIT_FINDING,
    Progress,
    RunGuard,
    check_device,
    fail,
    guarded,
)


def audit(**values: Any) -> None:
    """Audit DATA: train classifiers with each strategy, measure fairness, write report.html + metrics.json.

    With --prediction or --score, audit a model you already have instead: its decisions on every row.
    """
    data, quiet, fail_on = values["data"], values["quiet"], values["fail_on"]
    options = config_values(AUDIT, values)
    if (options["prediction"] or options["score"]) and options["strategies"] is not None:
        with guarded():  # only here is it known that --strategies was given, not defaulted
            from fairlatent.config import MSG_STRATEGIES_WITH_PREDICTIONS
            from fairlatent.exceptions import ConfigError

            raise ConfigError(MSG_STRATEGIES_WITH_PREDICTIONS.format(strategies=options["strategies"]))
    if fail_on not in FAIL_ON:
        fail(f"--fail-on must be one of {', '.join(FAIL_ON)}; got {fail_on!r}")
    with guarded() as guard:
        from fairlatent.config import AuditConfig
        from fairlatent.data.io import data_stem

        cfg = AuditConfig.from_options(values["config"], **options).validate()
        check_device(cfg.device)
        out_dir = Path(cfg.out) if cfg.out else Path("reports") / data_stem(data)
        result = _run(data, cfg, out_dir, quiet, guard)
    if fail_on == "established" and result.findings.established():
        if not quiet:
            typer.echo(
                f"--fail-on established: {len(result.findings.established())} established "
                f"finding(s) of a baseline model; exit code {EXIT_FINDING}",
                err=True,
            )
        raise typer.Exit(code=EXIT_FINDING)


def _run(data: Path, cfg: Any, out_dir: Path, quiet: bool, guard: RunGuard) -> Any:
    """Audit (trained models, or the given predictions), write the report, print the summary."""
    from fairlatent.api import load_and_audit, write_report
    from fairlatent.cli.summary import print_prediction_summary, print_summary
    from fairlatent.report import check_output_dir

    check_output_dir(out_dir)
    with Progress(quiet) as shown:
        if cfg.audits_predictions:
            from fairlatent.model_audit import load_and_audit_predictions

            shown.step("auditing the given predictions", 0, None)
            result = load_and_audit_predictions(data, cfg)
        else:
            shown.step("reading data", 0, None)
            result = load_and_audit(data, cfg, progress=shown.step, callbacks=[shown.epoch])
        shown.step("writing report", 0, None)
        result = result.with_run(command=canonical_command(data, cfg, out_dir), notices=guard.notices())
        paths = write_report(result, out_dir)
    if not quiet:
        (print_prediction_summary if cfg.audits_predictions else print_summary)(result, paths)
    return result
