"""Audit configuration: one dataclass, filled from defaults < TOML file < explicit options."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fairlatent.config_checks import check_strategy_options, check_types, kind_of
from fairlatent.exceptions import ConfigError
from fairlatent.policy import BASELINE

# The registries, the group grammar and the device and thread checks are imported where they are
# used, so that building a config (as ``fairlatent --help`` does for its defaults) imports neither
# torch nor scikit-learn.

#: Where the units of an audit run: this machine's processes, a Dask cluster, a Ray cluster.
BACKENDS: tuple[str, ...] = ("local", "dask", "ray")
#: Downstream setups the do-no-harm rule checks a data strategy in (see AuditConfig.setups).
SETUPS: tuple[str, ...] = ("both", "audited")
#: Seeds must fit numpy's and torch's seed range: ``0 <= seed < SEED_LIMIT``.
SEED_LIMIT = 2**32

MSG_MAX_CATEGORIES = (
    "max_categories={value} must be at least 1 (a categorical feature keeps its most frequent "
    "levels); pass e.g. --max-categories 100"
)
MSG_SEED = (
    "{option} {seed} is out of range: seeds must be whole numbers from 0 to {top} "
    "(numpy and torch take 32-bit seeds); pick a seed in that range"
)
MSG_SEED_REPEATS = (
    "{option} {seed} with {repeats} repeats is out of range: repeat k uses seed + k, and seeds "
    "must stay below {limit}; pass a smaller {option}"
)
MSG_STRATEGIES_WITH_PREDICTIONS = (
    "--strategies {strategies} does not apply with --prediction/--score: the audit evaluates "
    "your model's decisions as they are, with no training; leave out --strategies (or audit the "
    "data without --prediction to compare strategies)"
)
#: Ways a score can point to the favourable label.
SCORE_DIRECTIONS: tuple[str, ...] = ("higher", "lower")
_DEFAULT_STRATEGIES = ["none", "reweigh"]
MSG_CONFIG_NOT_FILE = "config path {path} is a directory; pass --config FILE.toml"
MSG_CONFIG_UNREADABLE = "cannot read config file {path} ({error}); check the --config path"
MSG_CONFIG_NOT_TABLE = (
    "config file {path}: [audit] must be a table of options, found {found}; write [audit] on its "
    "own line followed by key = value lines"
)


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
    setups : {"both", "audited"}
        Downstream setups a data strategy's strength must do no harm in: the audited classifier
        with the sensitive columns used *and* not used (``"both"``), or only as audited.
    min_group_size : int
        Groups with fewer rows are merged into one group, ``(small groups)``.
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
    latent_audit : bool
        Run the latent audit (certified slices where models fail, counterfactual flips through a
        group-conditional VAE; :mod:`fairlatent.metrics.latent_audit`), whatever the strategies.
    strategy_options : dict
        Per-strategy options, e.g. ``{"vae": {"alpha": 0.01, "sampling": "weights"}}``; in a
        TOML file, a table ``[audit.strategy_options.vae]``.
    out : str or None
        Output directory for ``report.html`` and ``metrics.json``.
    prediction : list of str
        Columns holding a model's predicted labels (in the target's label space). Set, the audit
        evaluates them on every row instead of training classifiers (see
        :mod:`fairlatent.engine.predictions`); strategies do not apply.
    score : str or None
        Column holding a model's score (higher = the favourable label is more likely, unless
        ``score_direction`` is ``"lower"``): AUC, ROC, ABROCA and calibration by group, and, without
        a prediction column, the decisions of ``threshold``, ``top_k`` or ``top_percent``.
    score_direction : str
        ``"higher"`` or ``"lower"``: which way the score points to the favourable label.
    threshold : float or None
        Favourable decision when the score is at least this (at most, for ``"lower"``).
    top_k : int or None
        Favourable decision for the ``top_k`` rows of highest (oriented) score.
    top_percent : float or None
        Favourable decision for the top ``top_percent`` % of rows.
    latent_view : bool
        With ``prediction`` or ``score``: run the VAE-based representation audit on the feature
        columns (a sample of at most 20,000 rows).

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
    strategies: list[str] = field(default_factory=lambda: list(_DEFAULT_STRATEGIES))
    classifiers: list[str] = field(default_factory=lambda: ["logreg", "hgb"])
    repeats: int = 1
    test_size: float = 0.3
    seed: int = 0
    include_sensitive: bool = False
    setups: str = "both"
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
    latent_audit: bool = True
    strategy_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    out: str | None = None
    prediction: list[str] = field(default_factory=list)
    score: str | None = None
    score_direction: str = "higher"
    threshold: float | None = None
    top_k: int | None = None
    top_percent: float | None = None
    latent_view: bool = True

    def __post_init__(self) -> None:
        # comma-separated text and lists of text become lists; anything else is left for
        # validate() to name as the wrong type
        for name in ("sensitive", "strategies", "classifiers", "drop"):
            value = getattr(self, name)
            if isinstance(value, str) or (
                isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            ):
                setattr(self, name, as_list(value))
        if isinstance(self.prediction, str) or (
            isinstance(self.prediction, list | tuple) and all(isinstance(v, str) for v in self.prediction)
        ):
            self.prediction = prediction_columns(self.prediction)

    @property
    def audits_predictions(self) -> bool:
        """Whether this audit evaluates the user's predictions or scores instead of training."""
        return bool(self.prediction) or self.score is not None

    def validate(self) -> AuditConfig:
        """Check every option; raise :class:`ConfigError` naming the first bad one.

        Types come first: each value must fit its field's annotation (:func:`check_types`), so
        a TOML file with ``repeats = "three"`` gets a message, not a crash deep in the audit.

        Returns
        -------
        AuditConfig
            ``self``, with ``none`` placed first among the strategies.
        """
        from fairlatent.classifiers.registry import CLASSIFIERS
        from fairlatent.data.groups import sensitive_column
        from fairlatent.models.device_names import check_device_name
        from fairlatent.models.threads import check_threads
        from fairlatent.strategies.registry import STRATEGIES

        check_types(self)
        check_strategy_options(self.strategy_options)
        check_seed(self.seed, option="--seed", count=self.repeats)
        if not self.target:
            raise ConfigError("no target column given: pass --target COLUMN")
        if not self.sensitive:
            raise ConfigError("no sensitive attribute given: pass --sensitive COLUMN[,COLUMN]")
        for name in self.strategies:
            STRATEGIES.get(name)
        self._check_prediction_options()
        if not self.classifiers and not self.audits_predictions:
            raise ConfigError(
                f"no classifier given: choose from {', '.join(CLASSIFIERS.names())}"
            )
        for name in self.classifiers if not self.audits_predictions else []:
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
        if self.setups not in SETUPS:
            raise ConfigError(
                f"setups={self.setups!r} is unknown: choose from {', '.join(SETUPS)}"
            )
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
        if self.max_categories < 1:
            raise ConfigError(MSG_MAX_CATEGORIES.format(value=self.max_categories))
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
        if self.audits_predictions:
            self.strategies = [BASELINE]
        ordered = ["none"] + [s for s in dict.fromkeys(self.strategies) if s != "none"]
        self.strategies = ordered
        self.classifiers = list(dict.fromkeys(self.classifiers))
        self._valid_as = self.to_dict()
        return self

    def validated(self) -> AuditConfig:
        """``self`` when :meth:`validate` passed on exactly these values, else a validated copy.

        Lets a caller that validated early (the CLI, before reading any data) hand the same
        configuration on without it being checked twice; a configuration changed since, or never
        validated, is checked on a copy, so the caller's object is left as it was.
        """
        if getattr(self, "_valid_as", None) == self.to_dict():
            return self
        return AuditConfig.from_mapping(self.to_dict()).validate()

    def _check_prediction_options(self) -> None:
        """Check the options of an audit of the user's predictions or scores (see ``prediction``)."""
        rules = {"--threshold": self.threshold, "--top-k": self.top_k, "--top-percent": self.top_percent}
        given = [flag for flag, value in rules.items() if value is not None]
        if self.score_direction not in SCORE_DIRECTIONS:
            raise ConfigError(
                f"--score-direction {self.score_direction!r} is not a direction: choose "
                f"{' or '.join(SCORE_DIRECTIONS)} (which way the score points to the favourable label)"
            )
        if given and self.score is None:
            raise ConfigError(f"{given[0]} makes decisions from a score: pass --score COLUMN with it")
        if len(given) > 1:
            raise ConfigError(f"{given[0]} and {given[1]} are two decision rules: keep one")
        if self.score is not None and not self.prediction and not given:
            raise ConfigError(
                f"--score {self.score} needs a decision rule: pass --threshold T, --top-k K or "
                "--top-percent P (or a --prediction column holding the decisions)"
            )
        if given and self.prediction:
            raise ConfigError(
                f"{given[0]} turns the score into decisions, but --prediction already gives them: "
                "leave out one of the two"
            )
        if len(set(self.prediction)) != len(self.prediction):
            raise ConfigError("--prediction names a column twice: name each prediction column once")
        if self.audits_predictions and self.strategies not in ([BASELINE], _DEFAULT_STRATEGIES):
            raise ConfigError(
                MSG_STRATEGIES_WITH_PREDICTIONS.format(strategies=",".join(self.strategies))
            )

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
        return cls.from_mapping(read_config_file(path), **overrides)

    @classmethod
    def from_options(cls, config: str | Path | None = None, **overrides: Any) -> AuditConfig:
        """Build a config from an optional TOML file plus explicit ``overrides`` (the CLI's way).

        Examples
        --------
        >>> AuditConfig.from_options(None, target="y", sensitive="s,t", repeats=None).sensitive
        ['s', 't']
        """
        if config is not None:
            return cls.from_toml(config, **overrides)
        return cls.from_mapping({}, **overrides)

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



def read_config_file(path: str | Path) -> dict[str, Any]:
    """Return the options a TOML config file sets (top level or under ``[audit]``).

    Keys are spelt as :class:`AuditConfig` spells them (``test-size`` becomes ``test_size``); the
    values are not checked yet (:meth:`AuditConfig.validate` does that).

    Raises
    ------
    ConfigError
        The file is missing, unreadable, not TOML, or its ``[audit]`` is not a table.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(MSG_CONFIG_NOT_FILE.format(path=path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}; check the --config path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(
            f"config file {path} is not valid TOML ({_first_line(err)}); fix its syntax"
        ) from None
    except OSError as err:
        raise ConfigError(
            MSG_CONFIG_UNREADABLE.format(path=path, error=err.strerror or err)
        ) from None
    data = data.get("audit", data)
    if not isinstance(data, dict):
        raise ConfigError(MSG_CONFIG_NOT_TABLE.format(path=path, found=kind_of(data)))
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def check_seed(seed: int, *, option: str = "--seed", count: int = 1) -> None:
    """Require ``0 <= seed`` and ``seed + count - 1 < 2**32`` (numpy's and torch's range).

    Parameters
    ----------
    seed : int
        The seed.
    option : str
        How the user spelt it, for the message (``--seed``, ``seed``).
    count : int
        Seeds used from ``seed`` on (an audit's repeat ``k`` uses ``seed + k``).

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_seed(0)
    >>> check_seed(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: --seed -1 is out of range: ...
    """
    if not 0 <= seed < SEED_LIMIT:
        raise ConfigError(MSG_SEED.format(option=option, seed=seed, top=SEED_LIMIT - 1))
    if seed + max(count, 1) - 1 >= SEED_LIMIT:
        raise ConfigError(
            MSG_SEED_REPEATS.format(option=option, seed=seed, repeats=count, limit=SEED_LIMIT)
        )

def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def prediction_columns(value: Any) -> list[str]:
    """Prediction column names from ``"a,b"``, ``["a", "b"]`` or ``["a,b", "c"]`` (repeated flags).

    Examples
    --------
    >>> prediction_columns(["a,b", "c"]), prediction_columns("a")
    (['a', 'b', 'c'], ['a'])
    """
    items = [value] if isinstance(value, str) else list(value or [])
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def as_list(value: Any) -> list[str]:
    """Turn an option given as ``"a,b"`` or a list into a list of stripped names.

    Comma-separated text follows the sensitive-attribute grammar, so ``"sex,age:25,60"`` gives
    ``["sex", "age:25,60"]``.
    """
    if value is None:
        return []
    if isinstance(value, str):
        from fairlatent.data.groups import split_sensitive

        return split_sensitive(value)
    return [str(v).strip() for v in value if str(v).strip()]
