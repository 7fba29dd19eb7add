"""Audit configuration: one dataclass, filled from defaults < TOML file < explicit options."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fairlatent.classifiers.registry import CLASSIFIERS
from fairlatent.data.groups import sensitive_column, split_sensitive
from fairlatent.exceptions import ConfigError
from fairlatent.models.device_names import check_device_name
from fairlatent.models.threads import check_threads
from fairlatent.strategies.registry import STRATEGIES

#: Where the units of an audit run: this machine's processes, a Dask cluster, a Ray cluster.
BACKENDS: tuple[str, ...] = ("local", "dask", "ray")


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
    min_test_support : int
        Fewest favourable and unfavourable test rows a group needs to enter the headline
        comparisons and the verdict; thinner groups are listed as too small to judge.
    reference : str or None
        Group every other group is compared with (default: the largest well-supported one).
    tune : bool
        Tune each strategy's strength per classifier on validation rows carved out of the
        training rows (``False``: every strategy at its default strength, fitted on all training
        rows).
    validation_size : float
        Share of the training rows held out for tuning (stratified on group x label).
    accuracy_budget : float
        Largest validation accuracy loss against the baseline a tuned strength may cost
        (0.015 = 1.5 points).
    fit_sample : int or None
        Fit each strategy's models (the VAE, the GAN) on a stratified sample of at most this many
        rows; classifiers and metrics still use every row (``None``: every row).
    jobs : int
        Units of work (repeat x strategy) run at once; ``-1``: one per available core.
    backend : str
        ``"local"`` (processes on this machine), ``"dask"`` or ``"ray"`` (a cluster at
        ``address``).
    address : str or None
        Scheduler address of the cluster (``tcp://host:8786`` for Dask, ``host:6379`` or
        ``"auto"`` for Ray); ``None`` starts a local one.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps`` for the generative models.
    epochs : int or None
        Override of the generative models' epoch count.
    threads : int or None
        CPU threads of torch, BLAS and OpenMP in this process and in every worker (``-1``: every
        usable core; ``None``: ``FAIRLATENT_THREADS``, ``OMP_NUM_THREADS`` or the policy
        default of one thread, see :mod:`fairlatent.models.threads`).
    strategy_options : dict
        Per-strategy options, e.g. ``{"vae": {"alpha": 0.01, "sampling": "weights"}}``; in a
        TOML file, a table ``[audit.strategy_options.vae]``.
    out : str or None
        Output directory for ``report.html`` and ``metrics.json``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> toml = '''
    ... [audit]
    ... target = "income"
    ... sensitive = "sex,age:25,60"
    ... strategies = ["none", "vae"]
    ... [audit.strategy_options.vae]
    ... alpha = 0.01
    ... sampling = "weights"
    ... '''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "audit.toml"
    >>> _ = path.write_text(toml)
    >>> cfg = AuditConfig.from_toml(path, seed=3).validate()
    >>> cfg.sensitive, cfg.strategy_options["vae"], cfg.seed
    (['sex', 'age:25,60'], {'alpha': 0.01, 'sampling': 'weights'}, 3)
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
    min_test_support: int = 20
    reference: str | None = None
    tune: bool = True
    validation_size: float = 0.25
    accuracy_budget: float = 0.015
    fit_sample: int | None = None
    jobs: int = 1
    backend: str = "local"
    address: str | None = None
    device: str = "auto"
    epochs: int | None = None
    threads: int | None = None
    strategy_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    out: str | None = None

    def __post_init__(self) -> None:
        self.sensitive = as_list(self.sensitive)
        self.strategies = as_list(self.strategies)
        self.classifiers = as_list(self.classifiers)
        self.drop = as_list(self.drop)

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
        for name in self.strategies:
            STRATEGIES.get(name)
        if not self.classifiers:
            raise ConfigError(
                f"no classifier given: choose from {', '.join(CLASSIFIERS.names())}"
            )
        for name in self.classifiers:
            CLASSIFIERS.get(name)
        self.device = check_device_name(self.device)
        if not 0.05 <= self.test_size <= 0.8:
            raise ConfigError(f"test size {self.test_size} is out of range: use 0.05 to 0.8")
        if not 0.1 <= self.validation_size <= 0.5:
            raise ConfigError(
                f"validation size {self.validation_size} is out of range: use 0.1 to 0.5"
            )
        if not 0.0 <= self.accuracy_budget <= 0.5:
            raise ConfigError(
                f"accuracy budget {self.accuracy_budget} is out of range: use 0 to 0.5 "
                "(0.015 = 1.5 points)"
            )
        if self.fit_sample is not None and self.fit_sample < 100:
            raise ConfigError(f"fit_sample={self.fit_sample} must be at least 100 rows")
        if self.jobs == 0 or self.jobs < -1:
            raise ConfigError(f"jobs={self.jobs}: use a positive number, or -1 for every core")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"unknown backend {self.backend!r}: choose from {', '.join(BACKENDS)}"
            )
        if self.address is not None and self.backend == "local":
            raise ConfigError(
                "--address names a cluster scheduler: use it with --backend dask or --backend ray"
            )
        if self.repeats < 1 or self.repeats > 50:
            raise ConfigError(f"repeats={self.repeats} is out of range: use 1 to 50")
        if self.min_group_size < 1:
            raise ConfigError("min group size must be at least 1")
        if self.n_boot < 0:
            raise ConfigError("n_boot must be 0 (no intervals) or more")
        if self.min_test_support < 1:
            raise ConfigError(
                f"min_test_support={self.min_test_support} must be at least 1 (default 20)"
            )
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"epochs={self.epochs} must be at least 1")
        check_threads(self.threads)
        if self.target in [sensitive_column(s) for s in self.sensitive]:
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


def as_list(value: Any) -> list[str]:
    """Turn an option given as ``"a,b"`` or a list into a list of stripped names.

    Comma-separated text follows the sensitive-attribute grammar, so ``"sex,age:25,60"`` gives
    ``["sex", "age:25,60"]``.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return split_sensitive(value)
    return [str(v).strip() for v in value if str(v).strip()]
