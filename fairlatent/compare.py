"""``fairlatent compare OLD/metrics.json NEW/metrics.json``: the findings of two audits, diffed.

Reads both documents, refuses different schema versions or targets (one line), and writes
``compare.html`` and ``compare.json`` into the output directory (see
:func:`fairlatent.results.audit_diff.diff_audits`). Nothing is written on an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairlatent.exceptions import DataError
from fairlatent.results.audit_diff import diff_audits

__all__ = ["COMPARE_NAMES", "compare_audits", "read_metrics"]

#: Files ``compare`` writes into its output directory.
COMPARE_NAMES = {"report": "compare.html", "json": "compare.json"}


def read_metrics(path: str | Path) -> dict[str, Any]:
    """Read an audit's ``metrics.json`` (a directory holding one is accepted).

    Raises
    ------
    DataError
        Missing, unreadable or not a JSON object.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} not found; pass the metrics.json an audit wrote") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path} ({getattr(err, 'strerror', None) or err}); check the path") from None
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}); pass an audit's metrics.json"
        ) from None
    if not isinstance(doc, dict):
        raise DataError(f"{path} is not an audit's metrics.json (expected a JSON object)")
    return doc


def compare_audits(old: str | Path, new: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Diff two audits' findings and write ``compare.html`` and ``compare.json`` into ``out_dir``.

    Parameters
    ----------
    old, new : path
        The two ``metrics.json`` files (or the directories holding them).
    out_dir : path
        Output directory (created if needed).

    Returns
    -------
    dict
        The diff, with ``paths`` (``{"report", "json"}``) added.

    Raises
    ------
    DataError, OutputError
    """
    from fairlatent.report import atomic_file, check_output_dir
    from fairlatent.report.compare import render_comparison
    from fairlatent.report.json_writer import to_jsonable

    out = check_output_dir(out_dir)
    diff = diff_audits(read_metrics(old), read_metrics(new), old_name=str(old), new_name=str(new))
    texts = {
        COMPARE_NAMES["report"]: render_comparison(diff),
        COMPARE_NAMES["json"]: json.dumps(to_jsonable(diff), indent=2, allow_nan=False),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        with atomic_file(out / name) as handle:
            handle.write(text)
    return {**diff, "paths": {key: out / name for key, name in COMPARE_NAMES.items()}}
