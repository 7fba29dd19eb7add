"""How a command runs: one-line errors and exit codes, collected warnings, progress, safe text.

Domain errors become one line on stderr and exit code 2; nothing is written on error. While a
command runs, Python warnings and library log warnings are collected (into the report's notices
for ``audit``, printed after the run for ``synth`` and ``debias``) instead of being printed
through the progress bars. SIGTERM is turned into an exception, like Ctrl-C, so temporary files
are removed on either.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import typer

from fairlatent.exceptions import FairlatentError

#: Exit codes: a bad input (any FairlatentError), a finding that ``--fail-on`` gates, Ctrl-C,
#: SIGTERM.
EXIT_ERROR = 2
EXIT_FINDING = 3
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


def check_device(device: str | None) -> None:
    """Before any work: fail on a bad or unavailable device (the thread policy is the library's)."""
    from fairlatent.models.device import resolve_device

    resolve_device(device or "auto")


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: MESSAGE`` as one sanitised line on stderr and exit with ``code``."""
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


class RunGuard:
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


#: Whether ``--verbose`` asked for log records to be printed as they happen.
VERBOSE = {"on": False}


def on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM handler: raise :class:`~fairlatent.report.Terminated` so ``finally`` blocks run."""
    from fairlatent.report import Terminated

    raise Terminated()


@contextlib.contextmanager
def guarded() -> Iterator[RunGuard]:
    """Run a command: one-line errors, SIGTERM as an exception, warnings collected."""
    from fairlatent.report import Terminated

    guard = RunGuard()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    root = logging.getLogger()
    saved = root.handlers[:]
    if not VERBOSE["on"]:  # keep warnings for the notices instead of printing them
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
                fail(str(err))
            except KeyboardInterrupt as err:
                fail(_interrupted(err, "Ctrl-C"), EXIT_INTERRUPTED)
            except Terminated as err:
                fail(_interrupted(err, "SIGTERM"), EXIT_TERMINATED)
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


def print_notices(notices: list[str], console: Any = None) -> None:
    """Print the decisions taken about the data, and warnings, one per line."""
    if not notices:
        return
    from rich.console import Console

    console = console or Console(stderr=True)
    console.print("Notices:", style="bold")
    for notice in notices:
        console.print(f"  - {terminal_text(notice)}", markup=False, highlight=False, soft_wrap=True)


class Progress:
    """The command's progress display: a step line and, during model fits, an epoch line.

    The epoch line reads "GAN epoch k/E, loss x" (or VAE) with a bar and Rich's time-remaining
    estimate; it is fed by :meth:`epoch`, the per-epoch callback ``(epoch, epochs, metrics)`` the
    library hands to every VAE/GAN fit, and restarts for each new fit.
    """

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.console = Console(stderr=True, quiet=quiet)
        self.bar = Bar(
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

    def __enter__(self) -> Progress:
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
