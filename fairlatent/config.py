"""Audit configuration: one dataclass, filled from defaults < TOML file < explicit options."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fairlatent.exceptions import ConfigError

#: Strategy names the audit knows, in report order.
KNOWN_STRATEGIES: tuple[str, ...] = ("none", "reweigh", "vae", "gan", "vae+gan")
#: Classifier names the audit knows.
KNOWN_CLASSIFIERS: tuple[str, ...] = ("logreg", "hgb", "rf")
#: Valid values of ``device``.
KNOWN_DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")


@dataclass
class AuditConfig:
    """Every option of an audit.

    Parameters
    ----------
    target : str
        Target column (binary, or binarised with ``positive_label``).
    sensitive : list of str
        Sensitive attributes. ``"age:25,60"`` bins a numeric column at cut points, ``"age:q4"`` into
        quantiles; several attributes form intersectional groups.
    positive_label : str or None
        Favourable target value; required when the target has more than two values.
    strategies : list of str
        Mitigation strategies to compare (``none`` is always included as the baseline).
    classifiers : list of str
        Downstream classifiers (``logreg``, ``hgb``, ``rf``).
    repeats : int
        Number of seeded train/test splits; the report shows mean and spread.
    test_size : float
        Share of rows held out for evaluation.
    seed : int
        Base seed; repeat ``k`` uses ``seed + k``.
    include_sensitive : bool
        Keep the sensitive columns as classifier features.
    min_group_size : int
        Groups with fewer rows are merged into ``other``.
    drop : list of str
        Columns to ignore.
    max_categories : int
        Largest number of distinct values a categorical feature may have.
    n_boot : int
        Bootstrap replicates for the confidence intervals (0 disables them).
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps`` for the generative models.
    epochs : int or None
        Override of the generative models' epoch count.
    strategy_options : dict
        Per-strategy options, e.g. ``{"vae": {"alpha": 0.01, "mode": "resample"}}``.
    out : str or None
        Output directory for ``report.html`` and ``metrics.json``.
    """

    target: str = ""
    sensitive: list[str] = field(default_factory=list)
    positive_label: str | None = None
    strategies: list[str] = field(default_factory=lambda: ["none", "reweigh"])
    classifiers: list[str] = field(default_factory=lambda: ["logreg", "hgb"])
    repeats: int = 1
    test_size: float = 0.3
    seed: int = 0
    include_sensitive: bool = False
    min_group_size: int = 30
    drop: list[str] = field(default_factory=list)
    max_categories: int = 100
    n_boot: int = 200
    device: str = "auto"
    epochs: int | None = None
    strategy_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    out: str | None = None

    def __post_init__(self) -> None:
        self.sensitive = _as_list(self.sensitive)
        self.strategies = _as_list(self.strategies)
        self.classifiers = _as_list(self.classifiers)
        self.drop = _as_list(self.drop)

    def validate(self) -> AuditConfig:
        """Check every option; raise :class:`ConfigError` naming the first bad one.

        Returns
        -------
        AuditConfig
            ``self``, with ``none`` placed first among the strategies.
        """
        if not self.target:
            raise ConfigError("no target column given: pass --target COLUMN")
        if not self.sensitive:
            raise ConfigError("no sensitive attribute given: pass --sensitive COLUMN[,COLUMN]")
        unknown = [s for s in self.strategies if s not in KNOWN_STRATEGIES]
        if unknown:
            raise ConfigError(
                f"unknown strategy {unknown[0]!r}: choose from {', '.join(KNOWN_STRATEGIES)}"
            )
        unknown = [c for c in self.classifiers if c not in KNOWN_CLASSIFIERS]
        if unknown or not self.classifiers:
            name = unknown[0] if unknown else ""
            raise ConfigError(
                f"unknown classifier {name!r}: choose from {', '.join(KNOWN_CLASSIFIERS)}"
            )
        if self.device not in KNOWN_DEVICES:
            raise ConfigError(
                f"unknown device {self.device!r}: choose from {', '.join(KNOWN_DEVICES)}"
            )
        if not 0.05 <= self.test_size <= 0.8:
            raise ConfigError(f"test size {self.test_size} is out of range: use 0.05 to 0.8")
        if self.repeats < 1 or self.repeats > 50:
            raise ConfigError(f"repeats={self.repeats} is out of range: use 1 to 50")
        if self.min_group_size < 1:
            raise ConfigError("min group size must be at least 1")
        if self.n_boot < 0:
            raise ConfigError("n_boot must be 0 (no intervals) or more")
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"epochs={self.epochs} must be at least 1")
        if self.target in [s.split(":", 1)[0] for s in self.sensitive]:
            raise ConfigError(
                f"target {self.target!r} is also a sensitive attribute: pick a different target "
                "or sensitive column"
            )
        ordered = ["none"] + [s for s in dict.fromkeys(self.strategies) if s != "none"]
        self.strategies = ordered
        self.classifiers = list(dict.fromkeys(self.classifiers))
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> AuditConfig:
        """Read a TOML file, then apply explicit ``overrides`` (those that are not ``None``).

        Parameters
        ----------
        path : str or Path
            TOML file with the same keys as :class:`AuditConfig` (top level or under ``[audit]``).
        **overrides
            Values that win over the file, typically from the command line.

        Returns
        -------
        AuditConfig
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}; check the --config path") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(
                f"config file {path} is not valid TOML ({err}); fix its syntax"
            ) from None
        data = data.get("audit", data)
        return cls.from_mapping(data, **overrides)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], **overrides: Any) -> AuditConfig:
        """Build a config from a mapping plus overrides that are not ``None``."""
        names = {f.name for f in fields(cls)}
        data = {k.replace("-", "_"): v for k, v in data.items()}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"unknown config key {unknown[0]!r}: valid keys are {', '.join(sorted(names))}"
            )
        merged = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**merged)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in _split_top_level(value) if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _split_top_level(text: str) -> list[str]:
    """Split ``"sex,age:25,60,race"`` on commas that start a new column spec.

    A comma followed by a number continues the cut points of the previous ``col:`` spec.
    """
    parts: list[str] = []
    for piece in text.split(","):
        stripped = piece.strip()
        if parts and ":" in parts[-1] and _is_number(stripped):
            parts[-1] = f"{parts[-1]},{stripped}"
        else:
            parts.append(stripped)
    return parts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
