"""Helpers shared by the benchmarks: the run's record and thread budget, epoch timing, tables.

The side-by-side benchmarks (``vae_speed.py``, ``gan_vs_ctgan.py``) use all of it; the others the
run record (:func:`run_meta`), the Adult reader and the tables.

Imported as a sibling module: the scripts run as ``python benchmarks/<script>.py``, which puts
this folder on ``sys.path``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

#: The Adult table bundled with the repository (48,842 rows, 15 columns).
ADULT = Path(__file__).resolve().parent.parent / "examples" / "adult.csv.gz"


def read_adult(path: str | Path | None = None) -> pd.DataFrame:
    """Read Adult (the bundled copy unless ``path`` is given), without a ``split`` column."""
    return pd.read_csv(path or ADULT).drop(columns=["split"], errors="ignore")


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


def run_meta(**figures: Any) -> dict[str, Any]:
    """Start a run's record: its date and command line, then ``figures`` in the order given."""
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", *sys.argv]),
        **figures,
    }


def start_run(threads: int, **figures: Any) -> dict[str, Any]:
    """Start a side-by-side run: ``threads`` threads for both libraries, warnings off, the record.

    The record holds the date, command, ``cpus``, ``threads`` and then ``figures``.
    """
    set_threads(threads)
    warnings.filterwarnings("ignore")
    return run_meta(cpus=os.cpu_count(), threads=threads, **figures)


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


def resample_rows(frame: pd.DataFrame, n: int, seed: int = 0, noise: float = 0.05) -> pd.DataFrame:
    """``n`` rows drawn with replacement from ``frame``, with noise on the numeric columns.

    Each numeric value moves by a normal draw of ``noise`` times its column's standard deviation,
    is clipped to the column's range and, for integer columns, rounded (so rows are rarely exact
    copies and the dtypes stay); in a mostly-zero column (capital-gain) zeros stay zero.
    Categorical columns keep the drawn row's values.
    """
    rng = np.random.default_rng(seed)
    out = frame.iloc[rng.integers(0, len(frame), size=n)].reset_index(drop=True)
    for column in out.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = out[column].to_numpy(dtype=float)
        moved = values + rng.normal(0.0, noise * float(series.std()), size=n)
        if (series == 0).mean() > 0.5:
            moved = np.where(values == 0, 0.0, moved)
        moved = np.clip(moved, float(series.min()), float(series.max()))
        if pd.api.types.is_integer_dtype(series):
            out[column] = np.rint(moved).astype(series.dtype)
        else:
            out[column] = moved
    return out
