"""HTML and JSON outputs of an audit, and the file writing every command shares.

Outputs are written so that nobody ever sees a half-written file or a mixed pair:

- :func:`atomic_file` writes one file through a hidden temporary file next to it, renamed into
  place only when complete; the temporary file is removed on any exit, including an exception,
  Ctrl-C (``KeyboardInterrupt``) and SIGTERM once the CLI turns it into an exception
  (:class:`Terminated`);
- :func:`write_outputs` writes ``report.html`` and ``metrics.json`` into a temporary directory
  next to the output directory and swaps the two directories in one step, so a reader that opens
  the directory sees both files of one run;
- every file and directory gets the permissions the user's umask asks for (``mkstemp`` alone
  would make them private, mode 0600);
- the commands' own outputs (a CSV streamed in batches, a JSON record, a model directory) are
  checked before any work (:func:`check_output_file`, :func:`check_model_dir`,
  :func:`check_free_space`) and written the same way (:func:`write_csv_stream`,
  :func:`write_json_file`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fairlatent.exceptions import OutputError

if TYPE_CHECKING:
    import pandas as pd

    from fairlatent.results import AuditResult


def check_path_length(path: str | Path, *, option: str = "--out") -> Path:
    """Fail early when ``path`` has a name longer than the file system allows, or is too long.

    Each part of the path (and the temporary names made next to it, a few characters longer)
    must fit the directory's name limit (``NAME_MAX``, usually 255 bytes), and the whole
    absolute path the system's path limit (``PATH_MAX``, usually 4096 bytes).

    Raises
    ------
    OutputError

    Examples
    --------
    >>> check_path_length("reports/adult").name
    'adult'
    >>> check_path_length("x" * 300)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.OutputError: --out ...: the name 'xxxxxxxxxxxxxxxxxxxx…' is 300 bytes long, ...
    """
    path = Path(path)
    absolute = path.absolute()
    name_max, path_max = _limits(nearest_existing(absolute))
    for part in path.parts:
        size = len(os.fsencode(part))
        if size + _TEMP_EXTRA > name_max and part not in (os.sep, "/"):
            raise OutputError(
                f"{option} {_short(str(path))}: the name {_short(part, 20)!r} is {size} bytes long, "
                f"but names here may have at most {name_max - _TEMP_EXTRA} bytes (the file system "
                f"allows {name_max}, less room for temporary names); choose a shorter name"
            )
    size = len(os.fsencode(str(absolute)))
    if size + _TEMP_EXTRA > path_max:
        raise OutputError(
            f"{option} {_short(str(path))} is {size} bytes long as a full path, but paths here may "
            f"have at most {path_max - _TEMP_EXTRA} bytes; choose a shorter path"
        )
    return path


#: Room the temporary names next to an output take beyond its own name (``.NAME-XXXXXXXX.tmp``).
_TEMP_EXTRA = 24


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long to look up, a loop of links
        return False


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its nearest existing ancestor (what will hold it)."""
    while not _exists(path):
        path = path.parent
    return path


def _limits(anchor: Path) -> tuple[int, int]:
    try:
        return os.pathconf(anchor, "PC_NAME_MAX"), os.pathconf(anchor, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no pathconf
        return 255, 4096


def _short(text: str, keep: int = 60) -> str:
    return text if len(text) <= keep else text[:keep] + "…"


def check_output_dir(out_dir: str | Path) -> Path:
    """Fail early, before any work, when ``out_dir`` cannot be created or written.

    Nothing is created: the nearest existing ancestor must be a writable directory, the path
    must fit the file system's length limits (:func:`check_path_length`), and an existing
    ``report.html`` or ``metrics.json`` in it must be a file (a directory of that name is the
    user's and is never replaced).

    Raises
    ------
    OutputError
    """
    path = check_path_length(out_dir)
    if path.exists() and not path.is_dir():
        raise OutputError(f"output path {path} exists and is not a directory; pass another --out")
    for name in OUTPUT_NAMES.values():
        entry = path / name
        if entry.is_symlink() or (entry.exists() and not entry.is_file()):
            raise OutputError(
                f"{entry} exists and is not a regular file; the audit writes its {name} there: "
                "move it away or pass another --out"
            )
    ancestor = nearest_existing(path)
    if not ancestor.is_dir():
        raise OutputError(
            f"cannot create output directory {path}: {ancestor} is a file; pass another --out"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"output directory {path} is not writable; pass another --out")
    return path


#: The files an audit writes into its output directory.
OUTPUT_NAMES = {"report": "report.html", "metrics": "metrics.json"}

MSG_WRITE = "cannot write to {path} ({reason}); pass another --out"


class Terminated(BaseException):
    """Raised in place of dying on SIGTERM, so that ``finally`` blocks remove temporary files."""


def _umask() -> int:
    """Return the process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(*, directory: bool = False) -> int:
    """Permissions of a new file (or directory) under the current umask, as ``open`` would give.

    Examples
    --------
    >>> old = os.umask(0o027)
    >>> oct(file_mode()), oct(file_mode(directory=True))
    ('0o640', '0o750')
    >>> _ = os.umask(old)
    """
    return (0o777 if directory else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_file(path: Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """Open a text file that appears at ``path`` only when the ``with`` block completes.

    The data goes to a hidden temporary file in the same directory (``.<name>-XXXX.tmp``),
    which gets the umask's permissions and is renamed over ``path`` at the end. On any exit
    before that (an error, ``KeyboardInterrupt``, :class:`Terminated`) the temporary file is
    removed and ``path`` is left as it was.

    Parameters
    ----------
    path : Path
        Target file; its directory must exist.
    newline : str, optional
        As for :func:`open` (``""`` for CSV).

    Raises
    ------
    OutputError
        The file cannot be written.

    Examples
    --------
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_file(target) as handle:
    ...     _ = handle.write("hello")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('hello', ['out.txt'])
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    except OSError as err:
        raise OutputError(MSG_WRITE.format(path=path, reason=err.strerror or err)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(MSG_WRITE.format(path=path, reason=err.strerror or err)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def check_output_file(path: Path) -> None:
    """Fail before any work when ``path`` cannot be written as a file.

    Raises
    ------
    OutputError
    """
    check_path_length(path, option="--out")
    if path.is_dir():
        raise OutputError(
            f"output {path} is a directory; pass a file name such as {path / 'out.csv'}"
        )
    parent = nearest_existing(path.parent)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {path}: {parent} is not a writable directory; pass another --out"
        )


def check_model_dir(path: Path, *, option: str = "--save-model") -> None:
    """Fail before any work when a model cannot be saved into the directory ``path``.

    The path must fit the file system's length limits, must not be a file, its nearest existing
    ancestor must be a writable directory, and an existing ``config.json`` / ``weights.pt`` in
    it must be a file.

    Raises
    ------
    OutputError
    """
    from fairlatent.models.persistence import CONFIG_FILE, WEIGHTS_FILE

    check_path_length(path, option=option)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file; pass a directory to save the model in")
    ancestor = nearest_existing(path)
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot save the model to {path}: {ancestor} is not a writable directory; pass "
            f"another {option}"
        )
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        entry = path / name
        if entry.is_symlink() or (entry.exists() and not entry.is_file()):
            raise OutputError(
                f"{entry} exists and is not a regular file; move it away or pass another {option}"
            )


def check_free_space(path: Path, needed: int) -> None:
    """Refuse to start writing ``needed`` bytes to ``path`` when its file system has less free.

    Raises
    ------
    OutputError
    """
    directory = nearest_existing(path.parent)
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise OutputError(
            f"--rows asks for about {_size(needed)} of CSV, but {directory} has {_size(free)} "
            "free; ask for fewer --rows or write to a larger disk with --out"
        )


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} PB"  # pragma: no cover


def write_csv_stream(batches: Iterable[pd.DataFrame], path: Path) -> Path:
    """Write frames one after another to one CSV, which appears only once every batch is in.

    The CSV grows in a hidden temporary file next to ``path`` (removed on any exit, Ctrl-C and
    SIGTERM included) and gets the umask's permissions, so any number of rows can be written
    without holding them all in memory.

    Raises
    ------
    OutputError
        ``path`` cannot be written.
    """
    check_output_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write {path} ({err.strerror}); pass another --out") from None
    with atomic_file(path, newline="") as handle:
        for number, batch in enumerate(batches):
            batch.to_csv(handle, index=False, header=number == 0)
    return path


def write_json_file(document: Mapping[str, Any], path: Path) -> Path:
    """Write ``document`` as JSON (NaN as null) through a temporary file."""
    from fairlatent.report.json_writer import to_jsonable

    check_output_file(path)
    with atomic_file(path) as handle:
        json.dump(to_jsonable(dict(document)), handle, indent=2, allow_nan=False)
    return path


def write_outputs(result: AuditResult, out_dir: Path) -> dict[str, Path]:
    """Write ``report.html`` and ``metrics.json`` into ``out_dir``, both or neither.

    Both documents are rendered in memory first. They are written into a temporary directory
    next to ``out_dir``, which then takes ``out_dir``'s place in one rename (an atomic exchange
    where the system has one, Linux's ``renameat2``; otherwise the old directory is moved aside
    first, so a reader may briefly find no directory, never a mixed pair). A directory that
    holds other files too, a symbolic link, the working directory or one whose parent is not
    writable is updated in place instead, one file at a time (each file still atomic).

    Returns
    -------
    dict
        ``{"report": path, "metrics": path}``.

    Raises
    ------
    OutputError
        The outputs cannot be written; nothing was changed.
    """
    from fairlatent.report.html import render_html
    from fairlatent.report.json_writer import result_to_json

    check_output_dir(out_dir)
    texts = {
        OUTPUT_NAMES["report"]: render_html(result),
        OUTPUT_NAMES["metrics"]: json.dumps(result_to_json(result), indent=2, allow_nan=False),
    }
    try:
        if _can_swap(out_dir):
            _write_by_swap(texts, out_dir)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            for name, text in texts.items():
                with atomic_file(out_dir / name) as handle:
                    handle.write(text)
    except OSError as err:
        raise OutputError(MSG_WRITE.format(path=out_dir, reason=err.strerror or err)) from None
    return {key: out_dir / name for key, name in OUTPUT_NAMES.items()}


def _can_swap(out_dir: Path) -> bool:
    """Whether ``out_dir`` can be replaced as a whole (it holds nothing but our outputs)."""
    if out_dir.is_symlink():
        return False
    parent = out_dir.absolute().parent
    if not (parent.is_dir() or not parent.exists()):
        return False
    if out_dir.exists():
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            return False
        here = Path.cwd().resolve()
        if out_dir.resolve() == here or out_dir.resolve() in here.parents:
            return False
        for entry in out_dir.iterdir():  # only our own files: never a user's directory or link
            if entry.name not in OUTPUT_NAMES.values() or entry.is_symlink() or not entry.is_file():
                return False
    return True


def _write_by_swap(texts: dict[str, str], out_dir: Path) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-", suffix=".tmp"))
    try:
        for name, text in texts.items():
            (staging / name).write_text(text, encoding="utf-8")
            os.chmod(staging / name, file_mode())
        if out_dir.exists():
            shutil.copymode(out_dir, staging)
            if not _exchange(staging, out_dir):
                _replace_aside(staging, out_dir)
        else:
            os.chmod(staging, file_mode(directory=True))
            try:
                os.rename(staging, out_dir)
            except OSError as err:  # created meanwhile by someone else
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                _replace_aside(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # the new pair on failure, the old one after


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` if unsupported."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # no such call, or a file system without exchange
    raise OSError(code, os.strerror(code), str(b))


def _replace_aside(staging: Path, out_dir: Path) -> None:
    """Move ``out_dir`` aside, move ``staging`` in; the old directory ends up at ``staging``."""
    aside = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-old-", suffix=".tmp"))
    os.rmdir(aside)
    os.rename(out_dir, aside)
    try:
        os.rename(staging, out_dir)
    except OSError:
        os.rename(aside, out_dir)
        raise
    os.rename(aside, staging)


__all__ = [
    "OUTPUT_NAMES",
    "Terminated",
    "atomic_file",
    "check_free_space",
    "check_model_dir",
    "check_output_dir",
    "check_output_file",
    "check_path_length",
    "file_mode",
    "nearest_existing",
    "write_csv_stream",
    "write_json_file",
    "write_outputs",
]
