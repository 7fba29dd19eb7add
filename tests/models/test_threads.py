from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fairlatent.exceptions import ConfigError
from fairlatent.models import threads
from fairlatent.models.threads import (
    ENV_THREADS,
    apply_thread_policy,
    cgroup_cpu_limit,
    check_threads,
    ensure_thread_policy,
    resolve_threads,
    usable_cores,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_threads(monkeypatch):
    """Undo what apply_thread_policy does to the environment and to torch."""
    for name in (ENV_THREADS, "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    before, applied = torch.get_num_threads(), threads._applied
    yield
    torch.set_num_threads(before)
    threads._limit_pools(before)
    threads._applied = applied


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_check_threads_rejects(bad) -> None:
    with pytest.raises(ConfigError, match="threads="):
        check_threads(bad)


def test_cgroup_v2_and_v1_quotas(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1.5
    v1 = tmp_path / "cpu"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1.5
    (v1 / "cpu.cfs_quota_us").write_text("50000\n")
    assert cgroup_cpu_limit(tmp_path) == 0.5  # the tightest quota wins


def test_usable_cores_from_affinity_and_quota(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda root=None: None)
    assert usable_cores() == 8
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda root=None: 2.5)
    assert usable_cores() == 3  # a fractional quota rounds up
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda root=None: 0.2)
    assert usable_cores() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda root=None: 16.0)
    assert usable_cores() == 1


def test_resolution_order(monkeypatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 6)
    monkeypatch.delenv(ENV_THREADS, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert resolve_threads(None) == threads.SMALL_MODEL_THREADS == 1
    assert resolve_threads(-1) == 6
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads(None) == 3
    monkeypatch.setenv(ENV_THREADS, "4")
    assert resolve_threads(None) == 4
    assert resolve_threads(2) == 2
    monkeypatch.setenv(ENV_THREADS, "lots")
    with pytest.raises(ConfigError, match="FAIRLATENT_THREADS"):
        resolve_threads(None)


def test_apply_sets_torch_pools_and_environment(restore_threads) -> None:
    from threadpoolctl import threadpool_info

    assert apply_thread_policy(2) == 2
    assert torch.get_num_threads() == 2
    assert os.environ[ENV_THREADS] == os.environ["OMP_NUM_THREADS"] == "2"
    assert all(pool["num_threads"] == 2 for pool in threadpool_info())
    assert ensure_thread_policy() == 2  # the exported count: nothing to change
    assert apply_thread_policy(1) == 1 and torch.get_num_threads() == 1


def test_a_child_process_applies_the_parents_count() -> None:
    """A worker started with the parent's FAIRLATENT_THREADS trains with that count, even when
    its launcher (e.g. a Dask nanny) set OMP_NUM_THREADS=1."""
    code = (
        "import torch; from fairlatent.models.threads import ensure_thread_policy;"
        "print(torch.get_num_threads(), ensure_thread_policy(), torch.get_num_threads())"
    )
    env = {**os.environ, ENV_THREADS: "2", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "2", "2"]


def _unit_threads(_: int) -> int:
    return torch.get_num_threads()


def test_parallel_workers_use_the_parents_count(restore_threads) -> None:
    from fairlatent.engine.parallel import run_all

    apply_thread_policy(2)  # not the count loky would give 2 workers on this machine's cores
    assert run_all(_unit_threads, [0, 1, 2], jobs=2) == [2, 2, 2]


@pytest.mark.slow
def test_parallel_audit_equals_serial_with_models(restore_threads) -> None:
    """Same thread count in the workers as serially, so the numbers are the same bits.

    One thread (the default): two threads per process would be correct too, but on a shared
    2-core test machine they make each fit many times slower (see ``threads.py``).
    """
    import fairlatent
    from tests.conftest import make_biased_frame

    frame = make_biased_frame(400, seed=2)
    options = {
        "target": "label",
        "sensitive": "group",
        "strategies": ["none", "vae", "gan"],
        "classifiers": ["logreg"],
        "epochs": 2,
        "n_boot": 0,
        "tune": False,
        "device": "cpu",
        "threads": 1,
    }
    serial = fairlatent.audit(frame, **options).metrics
    parallel = fairlatent.audit(frame, jobs=2, **options).metrics
    assert serial.equals(parallel)
