"""Run an audit's units serially, on local processes, or on a Dask or Ray cluster (via joblib).

joblib is the one interface: ``--jobs N`` runs units in N local processes (joblib's ``loky``
backend); ``--backend dask`` sends them to a ``dask.distributed`` cluster through its joblib backend
(the documented primary for clusters); ``--backend ray`` to a Ray cluster through
``ray.util.joblib``. The engines are optional extras (``pip install 'fairlatent[dask]'`` or
``'fairlatent[ray]'``), imported only when asked for. Units are seeded and independent, so every
backend returns the same numbers as a serial run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from fairlatent.exceptions import ConfigError

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

ERR_MISSING_ENGINE = (
    "--backend {backend} needs the {package} package: pip install 'fairlatent[{extra}]' "
    "(or choose --backend local)"
)
ERR_CONNECT = "cannot reach the {backend} cluster at {address!r} ({error}); check --address"


def _missing_engine(backend: str, package: str) -> ConfigError:
    """Build the error for ``--backend <backend>`` when ``package`` is not installed."""
    return ConfigError(ERR_MISSING_ENGINE.format(backend=backend, package=package, extra=backend))


@contextlib.contextmanager
def _dask(address: str | None, jobs: int) -> Iterator[int]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise _missing_engine("dask", "dask.distributed") from None
    cluster = None
    try:
        if address is None:
            workers = jobs if jobs > 0 else None
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as err:
        if cluster is not None:
            cluster.close()
        raise ConfigError(
            ERR_CONNECT.format(backend="dask", address=address, error=err)
        ) from None
    try:
        import joblib

        with joblib.parallel_config(backend="dask"):
            yield -1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _ray(address: str | None, jobs: int) -> Iterator[int]:
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise _missing_engine("ray", "ray") from None
    started = not ray.is_initialized()
    try:
        if started:
            options: dict[str, Any] = {"address": address} if address else {
                "num_cpus": jobs if jobs > 0 else None
            }
            ray.init(log_to_driver=False, include_dashboard=False, **options)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError(ERR_CONNECT.format(backend="ray", address=address, error=err)) from None
    try:
        import joblib

        register_ray()
        with joblib.parallel_config(backend="ray"):
            yield -1
    finally:
        if started:
            ray.shutdown()


def run_all(
    func: Callable[[T], R],
    tasks: Sequence[T],
    *,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[R]:
    """Apply ``func`` to every task, serially or in parallel, keeping the tasks' order.

    Parameters
    ----------
    func : callable
        A picklable function of one task.
    tasks : sequence
    jobs : int, default 1
        Tasks at once for ``backend="local"`` (``-1``: every available core).
    backend : {"local", "dask", "ray"}
    address : str, optional
        Cluster scheduler address; ``None`` starts a local cluster of ``jobs`` workers.
    on_done : callable, optional
        Called as ``on_done(finished, total)`` after each task.

    Returns
    -------
    list
        ``func(task)`` for every task, in order.

    Examples
    --------
    >>> run_all(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    total = len(tasks)
    if backend == "local" and (jobs == 1 or total <= 1):
        results = []
        for task in tasks:
            results.append(func(task))
            if on_done:
                on_done(len(results), total)
        return results
    import joblib

    if backend == "local":
        context: contextlib.AbstractContextManager[int] = contextlib.nullcontext(jobs)
    elif backend == "dask":
        context = _dask(address, jobs)
    elif backend == "ray":
        context = _ray(address, jobs)
    else:
        raise ConfigError(f"unknown backend {backend!r}: choose from local, dask, ray")
    results = []
    with context as n_jobs:
        logger.info("running %d units with backend %s (n_jobs=%d)", total, backend, n_jobs)
        # Some backends (Ray's) cannot stream results; they return them all at the end.
        active, _ = joblib.parallel.get_active_backend()
        streaming = "generator" if active.supports_return_generator else "list"
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as=streaming)
        for result in parallel(joblib.delayed(func)(task) for task in tasks):
            results.append(result)
            if on_done:
                on_done(len(results), total)
    return results
