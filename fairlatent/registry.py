"""A small, typed plug-in registry: built-in specs plus specs other packages register.

Each kind of plug-in (strategies, classifiers) keeps one :class:`Registry` of small spec objects.
Built-in specs are listed once, in their kind's ``registry.py``; other packages add theirs through a
Python entry-point group (``[project.entry-points."fairlatent.strategies"]`` in their
``pyproject.toml``), whose objects are either specs or callables that return one. Config validation,
the CLI help, report colours and report sections all read the registries, so no second list of names
exists anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Generic, Protocol, TypeVar

from fairlatent.exceptions import ConfigError

logger = logging.getLogger(__name__)

ERR_UNKNOWN = "unknown {kind} {name!r}: choose from {choices}"
ERR_DUPLICATE = "{kind} {name!r} is registered twice ({first} and {second}); rename one of them"
ERR_PLUGIN = "{kind} plug-in {entry!r} could not be loaded ({error}); fix or uninstall it"
ERR_NOT_SPEC = "{kind} plug-in {entry!r} gave {found}, not a {expected}; return a spec object"


class Spec(Protocol):
    """What every plug-in spec has: a unique ``name`` and a one-line ``description``."""

    @property
    def name(self) -> str:
        """Unique name users type."""

    @property
    def description(self) -> str:
        """One line for help texts and the report."""


S = TypeVar("S", bound=Spec)


def load_object(reference: str | Callable[..., Any]) -> Callable[..., Any]:
    """Resolve ``"package.module:attribute"`` to the object (callables are returned as they are).

    Parameters
    ----------
    reference : str or callable
        A ``module:attribute`` string, imported lazily, or the object itself.

    Returns
    -------
    callable

    Examples
    --------
    >>> load_object("math:sqrt")(4.0)
    2.0
    """
    if not isinstance(reference, str):
        return reference
    module_name, _, attribute = reference.partition(":")
    obj: Any = import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[S]):
    """Ordered name -> spec mapping, with built-ins first and entry-point plug-ins after.

    Parameters
    ----------
    kind : str
        What the specs are, for messages (``"strategy"``).
    spec_type : type
        Class every spec must be an instance of.
    builtins : tuple of spec
        The package's own specs, in display order.
    group : str
        Entry-point group searched for plug-ins (``"fairlatent.strategies"``).
    """

    def __init__(self, kind: str, spec_type: type[S], builtins: tuple[S, ...], group: str) -> None:
        self.kind = kind
        self.spec_type = spec_type
        self.group = group
        self._specs: dict[str, S] = {}
        self._origin: dict[str, str] = {}
        self._plugins_loaded = False
        for spec in builtins:
            self.register(spec, origin="fairlatent")

    def register(self, spec: S, *, origin: str = "register()") -> S:
        """Add ``spec``; a name may be registered once.

        Parameters
        ----------
        spec : spec
            The spec to add.
        origin : str
            Where it came from, for the duplicate-name error.

        Returns
        -------
        spec
            ``spec`` itself (so it can be used as a decorator-style call).
        """
        if not isinstance(spec, self.spec_type):
            raise ConfigError(
                ERR_NOT_SPEC.format(kind=self.kind, entry=origin, found=type(spec).__name__,
                                    expected=self.spec_type.__name__)
            )
        if spec.name in self._specs:
            raise ConfigError(
                ERR_DUPLICATE.format(kind=self.kind, name=spec.name,
                                     first=self._origin[spec.name], second=origin)
            )
        self._specs[spec.name] = spec
        self._origin[spec.name] = origin
        return spec

    def unregister(self, name: str) -> None:
        """Remove a registered spec (tests and interactive sessions use this)."""
        self._specs.pop(name, None)
        self._origin.pop(name, None)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry in entry_points(group=self.group):
            label = f"{entry.name} = {entry.value}"
            try:
                obj = entry.load()
                spec = obj if isinstance(obj, self.spec_type) else obj()
            except Exception as err:  # a broken plug-in must not break the audit's own specs
                raise ConfigError(
                    ERR_PLUGIN.format(kind=self.kind, entry=label, error=err)
                ) from None
            self.register(spec, origin=label)
            logger.info("registered %s plug-in %r from %s", self.kind, spec.name, label)

    def names(self) -> list[str]:
        """Return the registered names, built-ins first."""
        self._load_plugins()
        return list(self._specs)

    def __iter__(self) -> Iterator[S]:
        self._load_plugins()
        return iter(list(self._specs.values()))

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._specs

    def get(self, name: str) -> S:
        """Return the spec registered as ``name``.

        Raises
        ------
        ConfigError
            No such name; the message lists the registered ones.
        """
        self._load_plugins()
        try:
            return self._specs[name]
        except KeyError:
            raise ConfigError(
                ERR_UNKNOWN.format(kind=self.kind, name=name, choices=", ".join(self._specs))
            ) from None
