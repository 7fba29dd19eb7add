"""Checks of :class:`~fairlatent.config.AuditConfig` values, read from annotations and signatures.

Types are read from the dataclass annotations; per-strategy option tables
(``[audit.strategy_options.NAME]``) from the strategies' signatures.

Every check raises :class:`~fairlatent.exceptions.ConfigError` with one line naming the value, what
was expected, what was found and a value that would do. Nothing here imports a strategy until a
strategy's options are checked.
"""

from __future__ import annotations

import functools
import inspect
import json
import types
import typing
from dataclasses import fields
from typing import Any

from fairlatent.exceptions import ConfigError
from fairlatent.registry import load_object

MSG_WRONG_TYPE = (
    "config value {name} = {value} has the wrong type: expected {expected}, found {found}; "
    "write it like {name} = {example}"
)
MSG_OPTIONS_TABLE = (
    "config value strategy_options = {value} has the wrong type: expected a table per strategy, "
    "found {found}; write e.g. [audit.strategy_options.vae] followed by alpha = 0.01"
)
MSG_OPTIONS_ENTRY = (
    "strategy_options.{name} = {value} has the wrong type: expected a table of options, found "
    "{found}; write [audit.strategy_options.{name}] followed by option = value lines"
)
MSG_OPTIONS_STRATEGY = (
    "[audit.strategy_options.{name}] names no strategy: choose from {choices}; rename the table"
)
MSG_OPTIONS_NAME = (
    "unknown option {option!r} in [audit.strategy_options.{name}]: strategy {name!r} takes "
    "{valid}; fix or remove it"
)
MSG_OPTIONS_EPOCHS = (
    "[audit.strategy_options.{name}] epochs: say which model's epochs, {renamed} (the option "
    "was renamed so that one name has one meaning); --epochs still sets every model's"
)
MSG_OPTIONS_VALUE = (
    "[audit.strategy_options.{name}] {option} = {value} has the wrong type: expected {expected}; "
    "write e.g. {option} = {example}"
)


@functools.cache
def _field_types(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fits(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a type annotation (``int``, ``float | None``, ``list[str]``, ...)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return any(_fits(value, arg) for arg in args)
    if annotation is Any:
        return True
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:  # an integer is a fine float (test_size = 1 is caught by its range)
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list) and all(_fits(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _fits(k, args[0]) and _fits(v, args[1]) for k, v in value.items()
        )
    return isinstance(value, annotation)


def _expected(annotation: Any) -> str:
    """Plain words for a type annotation: ``int | None`` -> ``'an integer (or nothing)'``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        named = [_expected(arg) for arg in args if arg is not type(None)]
        return " or ".join(named) + (" (or leave it out)" if type(None) in args else "")
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    if annotation in words:
        return words[annotation]
    if typing.get_origin(annotation) is list:
        return f"a list of {_expected(args[0])} (or comma-separated text)"
    if typing.get_origin(annotation) is dict:
        return "a table"
    return getattr(annotation, "__name__", str(annotation))


def kind_of(value: Any) -> str:
    """Plain words for what a value is (``'text'``, ``'a number with a fraction'``, ...)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number with a fraction" if not float(value).is_integer() else "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        inner = {kind_of(item) for item in value}
        return "a list" + (f" holding {', '.join(sorted(inner))}" if inner else "")
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _toml(value: Any) -> str:
    """Write a value as TOML would (for messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _example(name: str, annotation: Any, value: Any, defaults: Any) -> str:
    """Give a value of the right type for ``name``: its default (in ``defaults``) when there is one."""
    default = getattr(defaults, name)
    if default not in (None, "", []) and _fits(default, annotation):
        return _toml(default)
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if annotation is str and isinstance(value, int | float) and not isinstance(value, bool):
        return _toml(str(value))  # positive_label = 1 -> "1"
    if typing.get_origin(annotation) is list:
        if isinstance(value, list | tuple) and value:
            return _toml([str(v) for v in value])
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _toml([str(value)])
        return '["sex"]' if name == "sensitive" else '["a", "b"]'
    return {bool: "true", int: "1", float: "0.5", str: '"income"'}.get(annotation, '"..."')


def check_types(cfg: Any) -> None:
    """Check every field of ``cfg`` against its annotation in its dataclass (:class:`AuditConfig`).

    One generic check, read from the dataclass: a new field is checked with no new code.

    Raises
    ------
    ConfigError
        Naming the first field whose value has the wrong type, what it expected and an example.

    Examples
    --------
    >>> from fairlatent.config import AuditConfig
    >>> check_types(AuditConfig(target="y", sensitive="s"))
    >>> check_types(AuditConfig(target="y", sensitive="s", repeats="three"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: config value repeats = "three" has the wrong type: ...
    """
    cls: Any = type(cfg)
    defaults, hints = cls(), _field_types(cls)
    for item in fields(cfg):
        annotation = hints[item.name]
        value = getattr(cfg, item.name)
        if _fits(value, annotation):
            continue
        if item.name == "strategy_options":
            if isinstance(value, dict):
                for name, entry in value.items():
                    if not isinstance(entry, dict):
                        raise ConfigError(
                            MSG_OPTIONS_ENTRY.format(name=name, value=_toml(entry), found=kind_of(entry))
                        )
            raise ConfigError(MSG_OPTIONS_TABLE.format(value=_toml(value), found=kind_of(value)))
        raise ConfigError(
            MSG_WRONG_TYPE.format(
                name=item.name,
                value=_toml(value),
                expected=_expected(annotation),
                found=kind_of(value),
                example=_example(item.name, annotation, value, defaults),
            )
        )


def _strategies() -> Any:
    from fairlatent.strategies.registry import STRATEGIES

    return STRATEGIES


def check_strategy_options(strategy_options: dict[str, dict[str, Any]]) -> None:
    """Every table names a registered strategy, and every option one its class takes.

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_strategy_options({"reweigh": {"strengths": [0.5, 1.0]}})
    >>> check_strategy_options({"nosuch": {}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: [audit.strategy_options.nosuch] names no strategy: ...
    """
    names = _strategies().names()
    for name, options in strategy_options.items():
        if name not in names:
            raise ConfigError(MSG_OPTIONS_STRATEGY.format(name=name, choices=", ".join(names)))
        accepted = _accepted_options(name)
        if accepted is None:
            continue
        for option in options:
            if option not in accepted:
                renamed = [new for new in ("vae_epochs", "gan_epochs") if new in accepted]
                if option == "epochs" and renamed:
                    raise ConfigError(MSG_OPTIONS_EPOCHS.format(
                        name=name, renamed=" or ".join(f"{new} = N" for new in renamed)
                    ))
                valid = "the options " + ", ".join(sorted(accepted)) if accepted else "no options"
                raise ConfigError(MSG_OPTIONS_NAME.format(option=option, name=name, valid=valid))
        check_strength_options(name, options)

def _accepted_options(name: str) -> set[str] | None:
    """Keyword options the strategy ``name`` takes (``None``: it takes any)."""
    factory = load_object(_strategies().get(name).factory)
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: let create() judge
        return None
    accepted = set()
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            accepted.add(parameter.name)
    return accepted


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_strength_options(name: str, options: dict[str, Any]) -> None:
    """Check a strategy's ``strengths`` and ``default`` options before any work.

    ``strengths`` must be a non-empty array of numbers or of tables, ``default`` a number or a
    table; then the strategy's own ``check_options`` (if its factory has one) checks ranges.

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_strength_options("reweigh", {"strengths": [0.5, 1.0]})
    >>> check_strength_options("reweigh", {"strengths": "abc"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: [audit.strategy_options.reweigh] strengths = "abc" has ...
    """
    if "strengths" in options:
        value = options["strengths"]
        items = value if isinstance(value, list | tuple) else None
        if not items or not (
            all(_is_number(v) for v in items) or all(isinstance(v, dict) for v in items)
        ):
            raise ConfigError(MSG_OPTIONS_VALUE.format(
                name=name, option="strengths", value=_toml(value),
                expected="a non-empty array of numbers or of tables", example="[0.5, 1.0]",
            ))
    if "default" in options and not (
        _is_number(options["default"]) or isinstance(options["default"], dict)
    ):
        raise ConfigError(MSG_OPTIONS_VALUE.format(
            name=name, option="default", value=_toml(options["default"]),
            expected="a number or a table of settings", example="1.0",
        ))
    check = getattr(load_object(_strategies().get(name).factory), "check_options", None)
    if callable(check):
        check(options)

