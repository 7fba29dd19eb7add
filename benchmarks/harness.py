"""Timing helpers shared by the side-by-side benchmarks (``vae_speed.py``, ``gan_vs_ctgan.py``).

Imported as a sibling module: the scripts run as ``python benchmarks/<script>.py``, which puts
this folder on ``sys.path``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def set_threads(n: int) -> None:
    """Same thread budget for both libraries: torch, BLAS/OpenMP pools and joblib."""
    os.environ["LOKY_MAX_CPU_COUNT"] = str(n)  # ctgan's DataTransformer runs joblib n_jobs=-1
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(n)  # inherited by subprocesses
    torch.set_num_threads(n)
    threadpool_limits(limits=n)


def load_avg() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


class EpochMarks:
    """Timestamps (wall, CPU) of epoch ends, via a fairlatent callback or a ctgan watcher."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def mark(self) -> None:
        self.wall.append(time.perf_counter())
        self.cpu.append(time.process_time())

    def callback(self, epoch: int, epochs: int, metrics: Any) -> None:
        self.mark()

    def steady(self, skip: int = 0) -> tuple[float, float]:
        """Median seconds between consecutive marks after the first ``skip`` marks: wall, CPU."""
        wall, cpu = np.diff(self.wall[skip:]), np.diff(self.cpu[skip:])
        if wall.size == 0:
            return float("nan"), float("nan")
        return float(np.median(wall)), float(np.median(cpu))


class LossWatcher(threading.Thread):
    """Poll a ctgan model's public ``loss_values`` and mark every time it is replaced.

    ctgan assigns a fresh ``loss_values`` DataFrame right before its first epoch and a new,
    longer one at the end of every epoch; that gives one mark per epoch end plus a start mark.
    The same watcher also runs (idle) around fairlatent's fits, keeping the polling overhead
    symmetric.
    """

    def __init__(self, model: Any, interval: float = 0.003) -> None:
        super().__init__(daemon=True)
        self.model = model
        self.interval = interval
        self.marks = EpochMarks()
        self._stop_event = threading.Event()

    @staticmethod
    def _key(obj: Any) -> tuple[int, int]:
        return id(obj), (len(obj) if obj is not None else -1)

    def run(self) -> None:
        last = self._key(getattr(self.model, "loss_values", None))
        while True:
            stopping = self._stop_event.is_set()  # read first: one more poll after stop()
            key = self._key(getattr(self.model, "loss_values", None))
            if key != last:
                self.marks.mark()
                last = key
            if stopping:
                break
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; floats to 3 significant digits, large numbers with separators."""

    def fmt(v: Any) -> str:
        if v is None:
            return "n/a"
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, float):
            if not np.isfinite(v):
                return "n/a"
            return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
