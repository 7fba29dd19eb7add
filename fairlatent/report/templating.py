"""The one Jinja2 environment of every report template (autoescape on, number filters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairlatent.report.formatting import number, percent, points

TEMPLATE_DIR = Path(__file__).parent / "templates"


def report_environment(*, strict: bool = True) -> Any:
    """Build the Jinja2 environment of every report template (autoescape, ``num``/``pct`` filters).

    Parameters
    ----------
    strict : bool, default True
        Raise on undefined template variables (``False``: render them empty).
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=strict,
        lstrip_blocks=strict,
    )
    env.filters["num"] = number
    env.filters["pct"] = percent
    env.filters["points"] = points
    return env
