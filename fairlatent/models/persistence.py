"""Model directories shared by the VAE and the GAN: ``config.json`` plus ``weights.pt``.

The config is plain JSON (parameters, encoder, history, format name and version); the weights are
a ``state_dict`` loaded with ``torch.load(weights_only=True)``, so loading never executes code.
:class:`SavableModel` gives both models their ``save`` and ``load`` on these helpers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from torch import nn

from fairlatent.encoding import TabularEncoder
from fairlatent.exceptions import ModelFileError, OutputError, check_fitted
from fairlatent.models.device import resolve_device
from fairlatent.models.distributed import is_main_process
from fairlatent.models.seeding import derive_seeds
from fairlatent.models.training import FIT_SEEDS

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"

ERR_NO_DIR = "no saved {kind} at {path}: the directory does not exist; check the path"
ERR_MISSING_FILE = "the model directory {path} lacks {name}; it is incomplete, save the model again"
ERR_BAD_CONFIG = "cannot read {path}: {error}; the file is corrupted, save the model again"
ERR_FORMAT = (
    "{path} holds {found!r}, not a {kind} (format {expected!r}, version <= {version}); "
    "load it with the class that saved it or upgrade fairlatent"
)
ERR_VERSION = (
    "{path} has format_version {value!r}, which is not a version number (a whole number from 1); "
    "the file is corrupted or edited, save the model again"
)
ERR_SEED = (
    "{path} has random_state {value!r}; seeds are whole numbers from 0 to 4294967295 (or null): "
    "the file is corrupted or edited, save the model again"
)
ERR_SAVE = "cannot write the model to {path}: {error}; choose a writable directory"
ERR_NOT_FITTED = "this {name} is not fitted yet; call fit(frame) first"
ERR_WEIGHTS = "cannot load the weights in {path}: {error}; the file is corrupted, save it again"


def fairlatent_version() -> str:
    """Installed fairlatent version (``"unknown"`` when running from an uninstalled tree)."""
    try:
        return version("fairlatent")
    except PackageNotFoundError:  # pragma: no cover - only outside an install
        return "unknown"


def write_model_dir(directory: Path, config: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors) and ``config`` (JSON) into ``directory``, creating it.

    Nothing half-written is left on any exit (an error, Ctrl-C, SIGTERM turned into an
    exception): a new directory is built under a hidden temporary name next to it and renamed
    into place once both files are complete; in an existing directory both files are first
    written to hidden temporary files, then renamed over the old ones.

    Raises
    ------
    OutputError
        The directory cannot be written.
    """
    text = json.dumps(config, indent=1)
    staging: Path | None = None
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        if not directory.exists():
            staging = Path(tempfile.mkdtemp(
                dir=directory.parent, prefix=f".{directory.name}-", suffix=".tmp"
            ))
            torch.save(state, staging / WEIGHTS_FILE)
            (staging / CONFIG_FILE).write_text(text, encoding="utf-8")
            os.chmod(staging, 0o777 & ~_umask())
            os.rename(staging, directory)
            staging = None
            return directory
        temporary = {
            name: directory / f".{name}-{os.getpid()}.tmp" for name in (WEIGHTS_FILE, CONFIG_FILE)
        }
        try:
            torch.save(state, temporary[WEIGHTS_FILE])
            temporary[CONFIG_FILE].write_text(text, encoding="utf-8")
            for name, path in temporary.items():
                os.replace(path, directory / name)
        finally:
            for path in temporary.values():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    except OSError as exc:
        raise OutputError(ERR_SAVE.format(path=directory, error=exc)) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_model_config(
    path: str | Path, *, kind: str, format_name: str, format_version: int
) -> tuple[Path, dict[str, Any]]:
    """Check a model directory and return it with its parsed, format-checked config.

    Parameters
    ----------
    path : str or Path
        The model directory.
    kind : str
        Class name for messages, e.g. ``"TabularVAE"``.
    format_name, format_version : str, int
        The config's expected ``format`` and the newest ``format_version`` this code reads.

    Raises
    ------
    ModelFileError
        Missing directory or file, unreadable JSON, or another format.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ModelFileError(ERR_NO_DIR.format(kind=kind, path=directory))
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise ModelFileError(ERR_MISSING_FILE.format(path=directory, name=name))
    config_path = directory / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(ERR_BAD_CONFIG.format(path=config_path, error=exc)) from exc
    found = config.get("format") if isinstance(config, dict) else type(config).__name__
    found_version = config.get("format_version") if isinstance(config, dict) else None
    if found == format_name and (
        isinstance(found_version, bool) or not isinstance(found_version, int) or found_version < 1
    ):
        raise ModelFileError(ERR_VERSION.format(path=config_path, value=found_version))
    if found != format_name or not isinstance(found_version, int) or found_version > format_version:
        raise ModelFileError(
            ERR_FORMAT.format(
                path=config_path,
                found=found,
                kind=kind,
                expected=format_name,
                version=format_version,
            )
        )
    return directory, config


def load_weights(directory: Path, device: torch.device) -> Any:
    """Load ``weights.pt`` without executing code (``weights_only=True``)."""
    return torch.load(directory / WEIGHTS_FILE, map_location=device, weights_only=True)


def model_config(
    model: Any, *, format_name: str, format_version: int, params: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """Build the ``config.json`` of a fitted model: the keys every model shares, then ``extra``.

    Shared keys: format name and version, fairlatent and torch versions, ``params`` (JSON-ready),
    the model's ``feature_names_in_``, ``encoder_.to_dict()``, ``history_`` and ``fit_seconds_``.
    """
    return {
        "format": format_name,
        "format_version": format_version,
        "fairlatent_version": fairlatent_version(),
        "torch_version": torch.__version__,
        "params": params,
        "feature_names": [str(c) for c in model.feature_names_in_],
        "encoder": model.encoder_.to_dict(),
        "history": model.history_,
        "fit_seconds": getattr(model, "fit_seconds_", math.nan),
        **extra,
    }


def set_fitted_encoder(model: Any, encoder: TabularEncoder, columns: Iterable[str]) -> None:
    """Attach a fitted encoder and the fitted column names to ``model`` (``fit`` and ``load``)."""
    model.encoder_ = encoder
    model.spans_ = list(encoder.spans_)
    model.feature_names_in_ = np.asarray(list(columns), dtype=object)
    model.n_features_in_ = len(model.feature_names_in_)


def model_from_config(
    cls: type, directory: Path, config: dict[str, Any], *, device: str, tuple_params: Iterable[str]
) -> Any:
    """Rebuild a model from what :func:`model_config` wrote, on ``device``; the inverse of it.

    Constructs ``cls`` from the saved parameters (``device`` replaced, the keys in
    ``tuple_params`` turned back into tuples), validates them, and restores ``device_``, the
    encoder, the column names, ``history_`` and ``fit_seconds_``. The caller restores the rest
    (its own config keys and the weights).

    Raises
    ------
    ModelFileError
        If a shared key is missing or badly typed.
    ConfigError
        If ``device`` is unavailable or a saved parameter is invalid.
    """
    with config_errors(directory):
        params = dict(config["params"])
        for key in tuple_params:
            params[key] = tuple(params[key])
        seed = params.get("random_state")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32
        ):
            raise ModelFileError(ERR_SEED.format(path=directory / CONFIG_FILE, value=seed))
        params["device"] = device
        model = cls(**params)
        encoder = TabularEncoder.from_dict(config["encoder"])
        history = list(config["history"])
        names = list(config["feature_names"])
    model._validate_params()
    model.device_ = resolve_device(device)
    set_fitted_encoder(model, encoder, names)
    model.history_ = history
    model.fit_seconds_ = float(config.get("fit_seconds", math.nan))
    return model


def cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module.state_dict()`` detached and on the CPU, ready for :func:`write_model_dir`."""
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


@contextmanager
def config_errors(directory: Path) -> Iterator[None]:
    """Turn a missing key or a badly typed value of ``config.json`` into a ``ModelFileError``."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            ERR_BAD_CONFIG.format(path=directory / CONFIG_FILE, error=exc)
        ) from exc


@contextmanager
def weights_errors(directory: Path) -> Iterator[None]:
    """Turn any failure to load or apply ``weights.pt`` into a ``ModelFileError``."""
    try:
        yield
    except Exception as exc:  # torch raises many types for a bad file
        raise ModelFileError(ERR_WEIGHTS.format(path=directory / WEIGHTS_FILE, error=exc)) from exc


class SavableModel:
    """Mixin that gives a fitted model ``save(path)`` and ``load(path)``: JSON config + weights.

    A subclass sets ``FORMAT_NAME`` / ``FORMAT_VERSION`` (what :func:`read_model_config` checks),
    ``TUPLE_PARAMS`` (width parameters saved as lists) and ``FITTED_ATTRIBUTE`` (the attribute
    ``fit`` sets last, checked by ``_check_fitted``), and implements the hooks ``_extra_config``
    (its own config keys), ``_weights`` (the state to save), ``_restore_config`` and
    ``_restore_weights`` (their inverses, on a model rebuilt by :func:`model_from_config`).
    ``random_state`` and ``get_params`` come from the model.
    """

    FORMAT_NAME: ClassVar[str]
    FORMAT_VERSION: ClassVar[int]
    TUPLE_PARAMS: ClassVar[tuple[str, ...]] = ()
    FITTED_ATTRIBUTE: ClassVar[str]

    def __sklearn_tags__(self) -> Any:
        """Missing values are modelled (the encoder adds a missing-value indicator)."""
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = True
        return tags

    def _check_fitted(self) -> None:
        """Raise :class:`~fairlatent.exceptions.NotFittedError` before ``fit`` (or ``load``)."""
        check_fitted(
            self, self.FITTED_ATTRIBUTE, message=ERR_NOT_FITTED.format(name=type(self).__name__)
        )

    def _config_params(self) -> dict[str, Any]:
        """Return the constructor parameters as JSON-ready values."""
        params = self.get_params()  # type: ignore[attr-defined]
        for key in self.TUPLE_PARAMS:
            params[key] = [int(d) for d in params[key]]
        return params

    def _extra_config(self) -> dict[str, Any]:
        return {}

    def _weights(self) -> dict[str, Any]:  # pragma: no cover - every model defines it
        raise NotImplementedError

    def _restore_config(self, config: dict[str, Any]) -> None:
        """Restore what :meth:`_extra_config` saved (``KeyError`` etc. on a malformed config)."""

    def _restore_weights(self, state: Any) -> None:  # pragma: no cover - every model defines it
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        """Save the fitted model to a directory.

        Writes ``weights.pt`` (the networks' ``state_dict``) and ``config.json`` (parameters,
        encoder description, the model's own tables, training history, fairlatent and torch
        versions). No pickled Python objects are written. In a ``torchrun`` job only rank 0
        writes; the other ranks return the path without touching it.

        Parameters
        ----------
        path : str or Path
            Directory to create or overwrite files in.

        Returns
        -------
        Path
            The directory.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        OutputError
            If the directory cannot be written.
        """
        self._check_fitted()
        directory = Path(path)
        if not is_main_process():
            logger.debug("not rank 0 of a distributed job: %s left to rank 0", directory)
            return directory
        config = model_config(
            self,
            format_name=self.FORMAT_NAME,
            format_version=self.FORMAT_VERSION,
            params=self._config_params(),
            **self._extra_config(),
        )
        write_model_dir(directory, config, self._weights())
        logger.info("saved %s to %s", type(self).__name__, directory)
        return directory

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> Self:
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The model directory.
        device : str, default "cpu"
            Device to put the networks on (see :func:`~fairlatent.models.device.resolve_device`).

        Returns
        -------
        model
            A fitted model whose ``device`` parameter is ``device``.

        Raises
        ------
        ModelFileError
            If the directory or one of its files is missing, corrupted or of another format.
        ConfigError
            If ``device`` is unavailable.
        """
        kind = cls.__name__
        directory, config = read_model_config(
            path, kind=kind, format_name=cls.FORMAT_NAME, format_version=cls.FORMAT_VERSION
        )
        model = model_from_config(
            cls, directory, config, device=device, tuple_params=cls.TUPLE_PARAMS
        )
        with config_errors(directory):
            model._restore_config(config)
        with weights_errors(directory):
            model._restore_weights(load_weights(directory, model.device_))
        model._sample_rng = np.random.default_rng(derive_seeds(model.random_state, FIT_SEEDS)[3])
        logger.info("loaded %s from %s onto %s", kind, directory, model.device_)
        return model
