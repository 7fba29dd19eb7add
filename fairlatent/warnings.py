"""The category of fairlatent's warnings: a result that may mislead, said in one sentence.

A :class:`FairlatentWarning` carries its message and, where it concerns part of a result, a scope
(e.g. ``"added rows"``); ``str()`` of it is the labelled text the terminal and the report show
(``"WARNING: ..."`` or ``"WARNING (added rows): ..."``), so the label is written in one place.
It can be raised through :func:`warnings.warn` like any warning, or kept in a result as its text.
"""

from __future__ import annotations

__all__ = ["LABEL", "FairlatentWarning"]

#: The label put before every warning's text.
LABEL = "WARNING"


class FairlatentWarning(UserWarning):
    """A fairlatent result that may mislead (poor synthetic data, memorisation, a skipped step).

    Parameters
    ----------
    message : str
        What is wrong and what to do, without a label.
    scope : str, optional
        Which part of a result it concerns (shown after the label).

    Examples
    --------
    >>> str(FairlatentWarning("the rows are copies."))
    'WARNING: the rows are copies.'
    >>> str(FairlatentWarning("the rows are copies.", scope="added rows"))
    'WARNING (added rows): the rows are copies.'
    """

    def __init__(self, message: str, scope: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.scope = scope

    def __str__(self) -> str:
        """Return the message with its label (and scope)."""
        scope = f" ({self.scope})" if self.scope else ""
        return f"{LABEL}{scope}: {self.message}"
