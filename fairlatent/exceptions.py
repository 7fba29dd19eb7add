"""Exception tree for fairlatent.

Every error the library raises on purpose derives from :class:`FairlatentError`. The CLI turns these
into one line on stderr and exit code 2. Messages say what was expected, what was found, and the fix.
"""

from __future__ import annotations


class FairlatentError(Exception):
    """Base class of every deliberate fairlatent error."""


class DataError(FairlatentError, ValueError):
    """The input file or frame cannot be read or is empty/malformed."""


class SchemaError(FairlatentError, ValueError):
    """Columns, targets or sensitive attributes do not fit what the audit needs."""


class ConfigError(FairlatentError, ValueError):
    """An option or configuration value is invalid."""


class OutputError(FairlatentError, OSError):
    """An output location cannot be written."""


class NotFittedError(FairlatentError, AttributeError):
    """A model or transformer was used before ``fit``."""


class ModelFileError(FairlatentError, ValueError):
    """A saved model directory is missing, incomplete or from an incompatible version."""
