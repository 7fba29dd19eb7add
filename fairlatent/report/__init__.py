"""HTML and JSON outputs of an audit."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fairlatent.exceptions import OutputError

if TYPE_CHECKING:
    from fairlatent.results import AuditResult


def check_output_dir(out_dir: str | Path) -> Path:
    """Fail early, before any work, when ``out_dir`` cannot be created or written.

    Nothing is created: the nearest existing ancestor must be a writable directory.

    Raises
    ------
    OutputError
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise OutputError(f"output path {path} exists and is not a directory; pass another --out")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(
            f"cannot create output directory {path}: {ancestor} is a file; pass another --out"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"output directory {path} is not writable; pass another --out")
    return path


def write_outputs(result: AuditResult, out_dir: Path) -> dict[str, Path]:
    """Write ``report.html`` and ``metrics.json`` into ``out_dir`` atomically.

    Both documents are rendered in memory first; files appear only when both succeeded.

    Returns
    -------
    dict
        ``{"report": path, "metrics": path}``.
    """
    from fairlatent.report.html import render_html
    from fairlatent.report.json_writer import result_to_json

    check_output_dir(out_dir)
    html = render_html(result)
    metrics = json.dumps(result_to_json(result), indent=2, allow_nan=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = {"report": out_dir / "report.html", "metrics": out_dir / "metrics.json"}
        for key, text in (("report", html), ("metrics", metrics)):
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{key}-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, targets[key])
    except OSError as err:
        raise OutputError(
            f"cannot write to {out_dir} ({err.strerror}); pass another --out"
        ) from None
    return targets


__all__ = ["check_output_dir", "write_outputs"]
