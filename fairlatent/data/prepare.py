"""Prepare a raw frame as an audit's options say: the one home of that step.

:func:`prepare_data` reads the options :func:`~fairlatent.data.schema.prepare` takes from any
object that has them as attributes (an :class:`~fairlatent.config.AuditConfig`, which sits above
this layer), so the training audit, the audit of given predictions and ``debias`` shape their rows
the same way. :func:`check_reference` checks a chosen reference group against the prepared groups.
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from fairlatent.data.schema import GROUP_COLUMN, PreparedData, prepare
from fairlatent.exceptions import ConfigError

__all__ = ["PREPARE_OPTIONS", "PrepareOptions", "check_reference", "prepare_data"]

#: The options of :func:`~fairlatent.data.schema.prepare`, read from the audit's configuration.
PREPARE_OPTIONS = ("target", "sensitive", "positive_label", "min_group_size", "drop", "max_categories")


class PrepareOptions(Protocol):
    """What :func:`prepare_data` reads (an :class:`~fairlatent.config.AuditConfig` has it all)."""

    target: Any
    sensitive: Any
    positive_label: Any
    min_group_size: Any
    drop: Any
    max_categories: Any


def prepare_data(frame: pd.DataFrame, options: PrepareOptions) -> PreparedData:
    """Validate and shape ``frame`` as ``options`` say (target, sensitive groups, dropped columns).

    Parameters
    ----------
    frame : DataFrame
        Raw rows.
    options : AuditConfig or any object with the attributes of :data:`PREPARE_OPTIONS`
        A validated configuration.

    Returns
    -------
    PreparedData

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"sex": ["F", "M"] * 30, "y": [0, 1, 1] * 20, "x": range(60)})
    >>> options = SimpleNamespace(target="y", sensitive=["sex"], positive_label=None,
    ...                           min_group_size=10, drop=[], max_categories=100)
    >>> prepare_data(frame, options).schema.sensitive
    ['sex']
    """
    return prepare(frame, **{name: getattr(options, name) for name in PREPARE_OPTIONS})


def check_reference(data: PreparedData, reference: str | None, min_group_size: int) -> None:
    """Check that a chosen reference group is one of the prepared groups.

    Parameters
    ----------
    data : PreparedData
    reference : str or None
        The ``--reference`` group (``None``: nothing to check).
    min_group_size : int
        The size below which groups were merged (named in the message).

    Raises
    ------
    ConfigError
        The group was merged into the small groups, or is not a group of the data.
    """
    if reference is None:
        return
    groups = sorted(data.frame[GROUP_COLUMN].unique())
    merged_into = {
        small: label for label, names in data.schema.merged_groups.items() for small in names
    }
    if reference in merged_into:
        raise ConfigError(
            f"reference group {reference!r} has fewer than {min_group_size} rows, so it "
            f"was merged into {merged_into[reference]!r}; lower --min-group-size to keep it "
            f"apart, or choose one of {', '.join(map(repr, groups))}"
        )
    if reference not in groups:
        raise ConfigError(
            f"reference group {reference!r} is not a group of the data; choose one of "
            f"{', '.join(map(repr, groups))}"
        )
