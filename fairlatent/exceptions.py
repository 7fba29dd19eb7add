"""Exception tree for fairlatent.

Every error the library raises on purpose derives from :class:`FairlatentError`. The CLI turns these
into one line on stderr and exit code 2. Messages say what was expected, what was found, and the fix.

:class:`NotFittedError` also derives from scikit-learn's ``sklearn.exceptions.NotFittedError``, so
code written for scikit-learn catches it. It is built on first use (module ``__getattr__``), so
importing this module does not import scikit-learn: ``fairlatent --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "ConfigError",
    "DataError",
    "FairlatentError",
    "ModelFileError",
    "NotFittedError",
    "OutputError",
    "SchemaError",
    "check_fitted",
    "check_parameter_constraints",
]

#: What :func:`check_fitted` says unless the caller words it.
ERR_NOT_FITTED = "this {name} is not fitted yet; call fit first"


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


class ModelFileError(FairlatentError, ValueError):
    """A saved model directory is missing, incomplete or from an incompatible version."""


if TYPE_CHECKING:  # the class built by _not_fitted_error, as the type checker sees it
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

    class NotFittedError(FairlatentError, _SklearnNotFittedError):
        """A model or transformer was used before ``fit``."""


def _not_fitted_error() -> type[FairlatentError]:
    """Build :class:`NotFittedError` on scikit-learn's (imported here, on first use), once."""
    built = globals().get("NotFittedError")
    if built is not None:
        return built
    from sklearn.exceptions import NotFittedError as sklearn_not_fitted

    cls = type(
        "NotFittedError",
        (FairlatentError, sklearn_not_fitted),
        {
            "__doc__": "A model or transformer was used before ``fit``.",
            "__module__": __name__,
        },
    )
    globals()["NotFittedError"] = cls
    return cls


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_fitted(
    estimator: Any, attributes: str | list[str] | None = None, *, message: str | None = None
) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` is fitted (scikit-learn's rule).

    Parameters
    ----------
    estimator : estimator
        The estimator to check.
    attributes : str or list of str, optional
        Fitted attributes that must exist; default: any attribute ending in ``_`` (or the
        estimator's ``__sklearn_is_fitted__``), as :func:`sklearn.utils.validation.check_is_fitted`.
    message : str, optional
        The error's text (default: :data:`ERR_NOT_FITTED` with the class name).

    Raises
    ------
    NotFittedError
        The estimator is not fitted.
    """
    from sklearn.exceptions import NotFittedError as sklearn_not_fitted
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator, attributes)
    except sklearn_not_fitted:
        raise _not_fitted_error()(message or ERR_NOT_FITTED.format(name=type(estimator).__name__)) from None


def check_parameter_constraints(estimator: Any) -> None:
    """Check ``estimator``'s parameters against its declared ``_parameter_constraints``.

    scikit-learn's own validation (:meth:`sklearn.base.BaseEstimator._validate_params`), with
    its error raised as a :class:`ConfigError` (one line: the parameter, what it must be, what
    it is).

    Raises
    ------
    ConfigError
        A parameter breaks its constraint.
    """
    from sklearn.utils._param_validation import (
        InvalidParameterError,
        validate_parameter_constraints,
    )

    try:
        validate_parameter_constraints(
            estimator._parameter_constraints,
            estimator.get_params(deep=False),
            caller_name=type(estimator).__name__,
        )
    except InvalidParameterError as err:
        raise ConfigError(str(err)) from None
