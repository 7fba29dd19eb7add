"""The ``fairlatent`` command line: parses options, builds a config, calls the library.

Domain errors become one line on stderr and exit code 2; nothing is written on error. While a
command runs, Python warnings and library log warnings are collected (into the report's notices
for ``audit``, printed after the run for ``synth`` and ``debias``) instead of being printed
through the progress bars; ``--quiet`` prints nothing but errors. SIGTERM is turned into an
exception, like Ctrl-C, so temporary files are removed on either.

Each option is declared once, in :mod:`fairlatent.cli.options`; the commands live in
:mod:`fairlatent.cli.audit` and :mod:`fairlatent.cli.verbs`, the way they run (errors, warnings,
progress) in :mod:`fairlatent.cli.running`. ``--help`` and ``--version`` import neither torch
nor scikit-learn.
"""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from fairlatent.cli import audit as _audit
from fairlatent.cli import verbs as _verbs
from fairlatent.cli.options import AUDIT, COMPARE, DEBIAS, FAIL_ON, SYNTH, command
from fairlatent.cli.running import (
    EXIT_ERROR,
    EXIT_FINDING,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    MSG_INTERRUPTED,
    MSG_INTERRUPTED_AFTER,
    VERBOSE,
    on_sigterm,
    terminal_text,
)
from fairlatent.cli.running import Progress as _Progress

__all__ = [
    "EXIT_ERROR",
    "EXIT_FINDING",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "FAIL_ON",
    "MSG_INTERRUPTED",
    "MSG_INTERRUPTED_AFTER",
    "MULTI_VALUE_OPTIONS",
    "app",
    "expand_multi_value_options",
    "main",
    "terminal_text",
    "_Progress",
]

app = typer.Typer(
    name="fairlatent",
    help="Audit models trained on tabular data for group unfairness, and debias with latent-variable models.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


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
    VERBOSE["on"] = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


app.command("audit")(command(_audit.audit, AUDIT))
app.command("synth")(command(_verbs.synth, SYNTH))
app.command("debias")(command(_verbs.debias, DEBIAS))
app.command("compare")(command(_verbs.compare, COMPARE))

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
    takes_value = {flag for option in AUDIT if option.takes_value for flag in option.spellings}
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

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        app(args=expand_multi_value_options(sys.argv[1:]))
    except Terminated:
        sys.stderr.write("error: " + MSG_INTERRUPTED.format(signal="SIGTERM") + "\n")
        sys.exit(EXIT_TERMINATED)
