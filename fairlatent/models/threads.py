"""How many CPU threads torch, BLAS and OpenMP use: one policy, applied once per process.

The generative models here are small (a few hundred thousand weights, batches of 500 rows): a step
is a handful of matrix products of a few MFLOP each. Spread over several threads they gain little
on an idle machine and lose badly on a shared one: an OpenMP team waits at every barrier for its
slowest thread, and a thread that shares its core with a busy neighbour process stalls the whole
team. On a 2-core machine with a second fit running, two threads made a VAE epoch 20-40x slower
than one thread (``benchmarks/RESULTS.md``, section ``threads.py``). So the default is
:data:`SMALL_MODEL_THREADS` (one) thread per process, capped by the cores the process may really
use; an audit gets its parallelism from running units side by side (``--jobs``), each of them on
that one thread.

The count is decided as follows (first that applies):

1. an explicit ``threads`` (``--threads N`` on ``audit``, ``debias`` and ``synth``, or the config
   field ``threads``); ``-1`` means every usable core;
2. the environment variable ``FAIRLATENT_THREADS`` (what :func:`apply_thread_policy` exports, so
   that worker processes started afterwards, e.g. by joblib or a local Dask cluster, inherit it);
3. ``OMP_NUM_THREADS``, when set (the usual way to ask any OpenMP program for N threads);
4. the policy default ``min(SMALL_MODEL_THREADS, usable_cores())``.

"Usable cores" are those of the CPU affinity mask (:func:`os.sched_getaffinity`), further limited by
the cgroup CPU quota (``cpu.max`` in cgroup v2, ``cpu.cfs_quota_us / cpu.cfs_period_us`` in v1),
as in a container limited to 2 CPUs on a 64-core host; :func:`os.cpu_count` counts the host's.

:func:`apply_thread_policy` sets torch's intra-op threads, limits every BLAS / OpenMP pool that is
loaded (``threadpoolctl``, shipped with scikit-learn) and exports ``FAIRLATENT_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` (for libraries loaded later
and for child processes). Every model fit calls :func:`ensure_thread_policy`, which applies the
resolved count once per process (again only if ``FAIRLATENT_THREADS`` changes), so a worker that
runs units of an audit trains with the same count as the parent: a parallel audit gives the same
numbers as a serial one. An engine that runs units on remote workers (which do not inherit the
parent's environment) calls ``apply_thread_policy(n)`` there with the parent's resolved ``n``.
A program that sets torch's thread count itself and then fits a model should set
``FAIRLATENT_THREADS`` (or call :func:`apply_thread_policy`) instead: the first fit applies the
policy.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from fairlatent.exceptions import ConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "ENV_THREADS",
    "SMALL_MODEL_THREADS",
    "apply_thread_policy",
    "cgroup_cpu_limit",
    "check_threads",
    "ensure_thread_policy",
    "resolve_threads",
    "usable_cores",
]

#: Environment variable holding the thread count a process (and its children) should use.
ENV_THREADS = "FAIRLATENT_THREADS"

#: Default threads per process for the small table models (measured in ``benchmarks/threads.py``).
SMALL_MODEL_THREADS = 1

#: Environment variables read by OpenMP / MKL / OpenBLAS when they are loaded.
_POOL_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

ERR_THREADS = "threads={value!r}: use a positive number of threads, or -1 for every usable core"
ERR_ENV = "{name}={value!r} is not a positive integer; unset it or give a thread count"

_CGROUP_ROOT = Path("/sys/fs/cgroup")

# (pid, count) of the last application in this process; a forked child sees another pid
_applied: tuple[int, int] | None = None


#: Warning for ``--threads`` above the usable cores (the count is lowered to the cores).
WARN_OVERSUBSCRIBED = (
    "--threads %d is more than the %d usable core(s); threads beyond the cores only slow the run "
    "down, so %d are used"
)


def check_threads(value: object) -> int | None:
    """Validate a ``threads`` option: ``None`` (policy default), ``-1`` (every core) or N >= 1.

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_threads(2), check_threads(None), check_threads(-1)
    (2, None, -1)
    >>> check_threads(0)
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: threads=0: use a positive number of threads, or -1 for every usable core
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (value < 1 and value != -1):
        raise ConfigError(ERR_THREADS.format(value=value))
    return value


def _quota(text: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` line (``"max 100000"`` or ``"200000 100000"``)."""
    parts = text.split()
    if len(parts) < 2 or parts[0] == "max":
        return None
    quota, period = float(parts[0]), float(parts[1])
    return quota / period if quota > 0 and period > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_dirs(root: Path) -> tuple[list[Path], list[Path]]:
    """List the v2 and v1 (cpu controller) directories of this process's cgroup, innermost first."""
    v2: list[Path] = []
    v1: list[Path] = []
    text = _read(Path("/proc/self/cgroup")) or ""
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, relative = fields
        relative = relative.lstrip("/")
        if controllers == "":
            bases = [root, root / "unified"]  # unified: the v2 tree of a hybrid v1/v2 host
            target = v2
        elif "cpu" in controllers.split(","):
            bases = [root / controllers, root / "cpu", root / "cpu,cpuacct"]
            target = v1
        else:
            continue
        for base in bases:
            path = base / relative
            while True:
                target.append(path)
                if path == base:
                    break
                path = path.parent
    v2 += [root, root / "unified"]
    v1 += [root / "cpu", root / "cpu,cpuacct"]
    return v2, v1


def cgroup_cpu_limit(root: str | Path = _CGROUP_ROOT) -> float | None:
    """CPUs this process's cgroup may use per period (the tightest quota on its path), or None.

    Reads cgroup v2 ``cpu.max`` and cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` of the
    process's own cgroup and its ancestors (``/proc/self/cgroup``), and of the mount root, as seen
    inside a container.

    Parameters
    ----------
    root : str or Path, default "/sys/fs/cgroup"
        Where the cgroup file systems are mounted.

    Returns
    -------
    float or None
        E.g. ``1.5`` for a quota of 150 ms per 100 ms period; ``None`` when no quota is set.
    """
    v2, v1 = _cgroup_dirs(Path(root))
    limits: list[float] = []
    for directory in dict.fromkeys(v2):
        text = _read(directory / "cpu.max")
        value = _quota(text) if text else None
        if value is not None:
            limits.append(value)
    for directory in dict.fromkeys(v1):
        quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
        try:
            q, p = float(quota or "-1"), float(period or "0")
        except ValueError:
            continue
        if q > 0 and p > 0:
            limits.append(q / p)
    return min(limits) if limits else None


def usable_cores() -> int:
    """Cores this process may really use: its affinity mask, capped by the cgroup CPU quota.

    Returns
    -------
    int
        At least 1. A fractional quota is rounded up (1.5 CPUs: 2 threads can both make progress).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _env_count(name: str) -> int | None:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(ERR_ENV.format(name=name, value=text)) from None
    if value < 1:
        raise ConfigError(ERR_ENV.format(name=name, value=text))
    return value


def resolve_threads(threads: int | None = None) -> int:
    """Return the thread count to use: explicit, else the environment, else the policy default.

    Parameters
    ----------
    threads : int, optional
        ``N >= 1`` threads, ``-1`` for every usable core, ``None`` for the environment or the
        default (see the module docstring for the order).

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ConfigError
        A bad ``threads`` or a bad ``FAIRLATENT_THREADS`` / ``OMP_NUM_THREADS``.

    Examples
    --------
    >>> resolve_threads(1)
    1
    """
    check_threads(threads)
    if threads == -1:
        return usable_cores()
    if threads is not None:
        cores = usable_cores()
        if threads > cores:  # more threads than cores only makes them wait for each other
            logger.warning(WARN_OVERSUBSCRIBED, threads, cores, cores)
            return cores
        return threads
    for name in (ENV_THREADS, "OMP_NUM_THREADS"):
        value = _env_count(name)
        if value is not None:
            return value
    return max(1, min(SMALL_MODEL_THREADS, usable_cores()))


def _limit_pools(count: int) -> None:
    """Limit the BLAS / OpenMP pools loaded now (threadpoolctl), when it is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return
    threadpool_limits(limits=count)


def apply_thread_policy(threads: int | None = None) -> int:
    """Resolve the thread count and apply it to this process and the processes it starts.

    Sets torch's intra-op thread count, limits the loaded BLAS / OpenMP pools (threadpoolctl) and
    exports ``FAIRLATENT_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and
    ``OPENBLAS_NUM_THREADS``. Call it once at the start of a command, and in every worker process
    that runs audit units, with the count the parent resolved.

    Parameters
    ----------
    threads : int, optional
        See :func:`resolve_threads`.

    Returns
    -------
    int
        The count applied.

    """
    global _applied
    count = resolve_threads(threads)
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    _limit_pools(count)
    os.environ[ENV_THREADS] = str(count)
    for name in _POOL_VARIABLES:
        os.environ[name] = str(count)
    if _applied is None or _applied != (os.getpid(), count):
        logger.info(
            "using %d thread(s) for torch/BLAS/OpenMP (%d usable core(s))", count, usable_cores()
        )
    _applied = (os.getpid(), count)
    return count


def ensure_thread_policy() -> int:
    """Apply the policy if this process has not applied the count it resolves to; return it.

    Called by every model fit: cheap after the first call. In a worker process started by an
    audit it picks up the parent's ``FAIRLATENT_THREADS``.

    Returns
    -------
    int
        The count in force.
    """
    count = resolve_threads(None)
    if _applied != (os.getpid(), count):
        apply_thread_policy(count)
    return count
