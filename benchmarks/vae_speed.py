"""Speed and memory of fairlatent's encoder and VAE next to ctgan's DataTransformer and TVAE.

Usage (from the repository root)::

    .venv/bin/python benchmarks/vae_speed.py --epochs 10 --threads 1 --json /tmp/vae_speed.json

What is measured, all in one process and interleaved (ours, theirs, ours, theirs, ...) so that
the noise of a shared machine hits both libraries alike; the ratios are the result:

(a) encoder: ``TabularEncoder(numeric="quantile")`` against ``ctgan.data_transformer.
    DataTransformer`` on the same Adult training frame (discrete columns passed to both): fit
    seconds, transform seconds, ratio.
(b) VAE training at batch 500 and the same number of epochs: ``TabularVAE`` (val_fraction=0,
    patience=None, so it passes over every row every epoch like TVAE) against ``ctgan.TVAE``.
    Seconds per epoch are the time between consecutive epoch ends, median over epochs 2..E, for
    both libraries: fairlatent's via its ``callbacks=``; ctgan has no epoch callback, so a
    watcher thread polls TVAE's public ``loss_values`` attribute (replaced once per epoch, and
    once right before the first epoch) every few milliseconds and timestamps each replacement.
    Wall seconds and CPU seconds of this process (``time.process_time``) are both recorded; with
    ``--threads 1`` CPU seconds are close to the wall time of a quiet machine.
(c) peak resident memory of one whole fit (data loaded, model fitted), each in a fresh
    subprocess that imports only the library it measures and reports its own peak RSS
    (``VmHWM``; see ``CHILD`` for why not ``ru_maxrss``), next to the peak of the same
    subprocess before fitting (imports + data).
(d) fairlatent's VAE on Adult resampled with replacement (seeded) to 10k, 50k, 100k and 200k
    rows, 3 epochs each: seconds per epoch (mean of epochs 2 and 3) and rows per second.

Data: the bundled ``examples/adult.csv.gz`` (or ``--data PATH``; a ``split`` column is dropped), a
seeded 70% of the rows (34,189, as in the published CTGAN/TVAE figures).

Threads: ``--threads N`` sets ``torch.set_num_threads(N)``, limits BLAS/OpenMP pools to N
(threadpoolctl) and sets ``LOKY_MAX_CPU_COUNT=N`` (ctgan's DataTransformer.transform runs a joblib
``Parallel(n_jobs=-1)`` on frames of 500 rows or more), the same for both libraries.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from ctgan import TVAE
from ctgan.data_transformer import DataTransformer
from harness import ADULT, EpochMarks, LossWatcher, load_avg, md_table, read_adult, start_run

from fairlatent.encoding import TabularEncoder
from fairlatent.models.vae import TabularVAE

BATCH = 500
SCALE_SIZES = (10_000, 50_000, 100_000, 200_000)
SCALE_EPOCHS = 3


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------


def load_adult(seed: int, path: Path = ADULT) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The whole file (``split`` dropped), its seeded 70% and the discrete columns."""
    frame = read_adult(path)
    order = np.random.default_rng(seed).permutation(len(frame))
    train = frame.iloc[order[: round(0.7 * len(frame))]].reset_index(drop=True)
    discrete = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    return frame, train, discrete


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


# ------------------------------------------------------------------------------------------------
# (a) + (b): interleaved rounds
# ------------------------------------------------------------------------------------------------


def encoder_round(train: pd.DataFrame, discrete: list[str]) -> dict[str, float]:
    ours = TabularEncoder(numeric="quantile")
    _, ours_fit, ours_fit_cpu = timed(lambda: ours.fit(train, discrete_columns=discrete))
    _, ours_tr, _ = timed(lambda: ours.transform(train))
    theirs = DataTransformer()
    _, theirs_fit, theirs_fit_cpu = timed(lambda: theirs.fit(train, discrete_columns=discrete))
    _, theirs_tr, _ = timed(lambda: theirs.transform(train))
    return {
        "ours_fit_s": ours_fit, "ours_fit_cpu_s": ours_fit_cpu, "ours_transform_s": ours_tr,
        "ours_dims": int(ours.output_dim_),
        "ctgan_fit_s": theirs_fit, "ctgan_fit_cpu_s": theirs_fit_cpu,
        "ctgan_transform_s": theirs_tr, "ctgan_dims": int(theirs.output_dimensions),
    }


def vae_round(train: pd.DataFrame, discrete: list[str], epochs: int, seed: int) -> dict[str, Any]:
    ours = TabularVAE(epochs=epochs, batch_size=BATCH, val_fraction=0.0, patience=None,
                      device="cpu", random_state=seed)
    marks = EpochMarks()
    idle = LossWatcher(ours)
    idle.start()
    _, ours_total, _ = timed(lambda: ours.fit(train, callbacks=[marks.callback]))
    idle.stop()
    ours_wall, ours_cpu = marks.steady()

    theirs = TVAE(epochs=epochs, batch_size=BATCH, enable_gpu=False)
    watcher = LossWatcher(theirs)
    watcher.start()
    start = time.perf_counter()
    _, theirs_total, _ = timed(lambda: theirs.fit(train, discrete_columns=discrete))
    watcher.stop()
    got = len(watcher.marks.wall)
    if got == epochs + 1:  # start mark + one per epoch
        end_marks = EpochMarks()
        end_marks.wall, end_marks.cpu = watcher.marks.wall[1:], watcher.marks.cpu[1:]
        theirs_wall, theirs_cpu = end_marks.steady()
        theirs_pre = watcher.marks.wall[0] - start
        method = "loss_values watcher"
    else:  # fall back to total minus a separately timed transformer (noisy)
        _, dt_s, _ = timed(lambda: _transformer_fit_transform(train, discrete))
        theirs_wall = (theirs_total - dt_s) / epochs
        theirs_cpu = float("nan")
        theirs_pre = dt_s
        method = f"total - transformer ({got} watcher marks, expected {epochs + 1})"
    n = len(train)
    return {
        "ours_s_epoch": ours_wall, "ours_cpu_s_epoch": ours_cpu, "ours_fit_total_s": ours_total,
        "ours_preprocess_s": ours_total - sum(h["seconds"] for h in ours.history_),
        "ours_rows_s": n / ours_wall,
        "tvae_s_epoch": theirs_wall, "tvae_cpu_s_epoch": theirs_cpu,
        "tvae_fit_total_s": theirs_total, "tvae_preprocess_s": theirs_pre,
        "tvae_rows_s": n / theirs_wall, "tvae_method": method,
    }


def warm_up(train: pd.DataFrame, discrete: list[str], seed: int) -> None:
    """One tiny untimed fit of each library, so neither pays torch's first-call set-up."""
    small = train.iloc[:2000]
    TabularVAE(epochs=1, batch_size=BATCH, val_fraction=0.0, patience=None, device="cpu",
               random_state=seed).fit(small)
    TVAE(epochs=1, batch_size=BATCH, enable_gpu=False).fit(small, discrete_columns=discrete)


def _transformer_fit_transform(train: pd.DataFrame, discrete: list[str]) -> Any:
    transformer = DataTransformer()
    transformer.fit(train, discrete_columns=discrete)
    return transformer.transform(train)


# ------------------------------------------------------------------------------------------------
# (c) memory, one fresh subprocess per fit
# ------------------------------------------------------------------------------------------------


#: Program of a memory subprocess: it imports only the library it measures, loads the same rows,
#: fits one model and prints its own peak RSS (KiB) before and after the fit as JSON. The peak is
#: ``VmHWM`` of /proc/self/status, the high-water mark of the process's own address space:
#: ``ru_maxrss`` (RUSAGE_SELF in the child or RUSAGE_CHILDREN in the parent) is useless here
#: because Linux carries the parent's high-water mark across fork + exec into the child's
#: ru_maxrss, so every child reports at least the parent's ~640 MiB.
CHILD = """
import json, os, sys, time, warnings
import numpy as np, pandas as pd, torch


def hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


kind, epochs, threads, seed, batch, data = sys.argv[1:7]
epochs, threads, seed, batch = int(epochs), int(threads), int(seed), int(batch)
torch.set_num_threads(threads)
warnings.filterwarnings("ignore")
if kind == "ours":
    from fairlatent.models.vae import TabularVAE
else:
    from ctgan import TVAE
from threadpoolctl import threadpool_limits
threadpool_limits(limits=threads)
frame = pd.read_csv(data).drop(columns=["split"], errors="ignore")
order = np.random.default_rng(seed).permutation(len(frame))
train = frame.iloc[order[: round(0.7 * len(frame))]].reset_index(drop=True)
discrete = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
before = hwm_kib()
tick = time.perf_counter()
if kind == "ours":
    TabularVAE(epochs=epochs, batch_size=batch, val_fraction=0.0, patience=None, device="cpu",
               random_state=seed).fit(train)
else:
    TVAE(epochs=epochs, batch_size=batch, enable_gpu=False).fit(train, discrete_columns=discrete)
after = hwm_kib()
print(json.dumps({"kind": kind, "before_kib": before, "peak_kib": after,
                  "seconds": time.perf_counter() - tick}))
"""


def memory_run(
    kind: str, epochs: int, threads: int, seed: int, data: Path = ADULT
) -> dict[str, Any]:
    """One fit in a fresh interpreter; its peak RSS (VmHWM) before and after the fit."""
    cmd = [sys.executable, "-c", CHILD, kind, str(epochs), str(threads), str(seed), str(BATCH),
           str(data)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = [s for s in out.stdout.splitlines() if s.startswith("{")][-1]
    return json.loads(line)


# ------------------------------------------------------------------------------------------------
# (d) scaling
# ------------------------------------------------------------------------------------------------


def scaling(frame: pd.DataFrame, seed: int) -> list[dict[str, Any]]:
    rows = []
    for size in SCALE_SIZES:
        idx = np.random.default_rng(seed + size).integers(0, len(frame), size=size)
        data = frame.iloc[idx].reset_index(drop=True)
        vae = TabularVAE(epochs=SCALE_EPOCHS, batch_size=BATCH, val_fraction=0.0, patience=None,
                         device="cpu", random_state=seed)
        marks = EpochMarks()
        vae.fit(data, callbacks=[marks.callback])
        seconds = [h["seconds"] for h in vae.history_]
        # epochs 2..3 for both clocks (the first epoch pays one-off set-up)
        per_epoch = float(np.mean(np.diff(marks.wall)))
        cpu_per_epoch = float(np.mean(np.diff(marks.cpu)))
        rows.append({
            "rows": size, "encoder_s": vae.fit_seconds_ - sum(seconds),
            "s_epoch": per_epoch, "cpu_s_epoch": cpu_per_epoch, "rows_s": size / per_epoch,
            "s_epoch_all": float(np.mean(seconds)), "load": load_avg()[0],
        })
        print(f"  scaling {size:>7,} rows: {per_epoch:.2f} s/epoch", flush=True)
    return rows


# ------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="VAE epochs for both (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--memory-epochs", type=int, default=2, help="epochs of the memory fits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--data", type=Path, default=ADULT, help="Adult CSV (default: bundled)")
    args = parser.parse_args()

    started = time.perf_counter()
    meta = start_run(
        args.threads, epochs=args.epochs, batch_size=BATCH, rounds=args.rounds,
        load_before=load_avg(), python=platform.python_version(), torch=torch.__version__,
        pandas=pd.__version__, ctgan=_version("ctgan"),
    )
    frame, train, discrete = load_adult(args.seed, args.data)
    meta["train_rows"] = len(train)
    print(f"vae_speed: {len(train):,} rows, threads={args.threads}, epochs={args.epochs}, "
          f"load before {meta['load_before']}", flush=True)

    warm_up(train, discrete, args.seed)
    enc_rounds, vae_rounds = [], []
    for r in range(args.rounds):
        enc_rounds.append(encoder_round(train, discrete))
        print(f"  round {r + 1} encoder: ours {enc_rounds[-1]['ours_fit_s']:.2f} s, "
              f"ctgan {enc_rounds[-1]['ctgan_fit_s']:.2f} s", flush=True)
        vae_rounds.append(vae_round(train, discrete, args.epochs, args.seed + r))
        print(f"  round {r + 1} VAE: ours {vae_rounds[-1]['ours_s_epoch']:.3f} s/epoch, "
              f"TVAE {vae_rounds[-1]['tvae_s_epoch']:.3f} s/epoch", flush=True)

    memory = []
    if not args.skip_memory:
        for kind in ("ours", "tvae"):
            memory.append(
                memory_run(kind, args.memory_epochs, args.threads, args.seed, args.data)
            )
            print(f"  memory {kind}: {memory[-1]['peak_kib'] / 1024:.0f} MiB", flush=True)
    scale = [] if args.skip_scaling else scaling(frame, args.seed)
    meta["load_after"] = load_avg()
    meta["wall_s"] = time.perf_counter() - started

    print_tables(meta, enc_rounds, vae_rounds, memory, scale)
    if args.json:
        doc = {"meta": meta, "encoder": enc_rounds, "vae": vae_rounds, "memory": memory,
               "scaling": scale}
        args.json.write_text(json.dumps(doc, indent=1, default=float))


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def print_tables(meta: dict[str, Any], enc: list[dict[str, float]], vae: list[dict[str, Any]],
                 memory: list[dict[str, Any]], scale: list[dict[str, Any]]) -> None:
    print(f"\n## vae_speed ({meta['date']})")
    print(f"command: `{meta['command']}`; {meta['cpus']} CPUs, threads={meta['threads']}, "
          f"load (1/5/15 min) before {meta['load_before']}, after {meta['load_after']}; "
          f"train rows {meta['train_rows']:,}; wall {meta['wall_s']:.0f} s")

    print("\n(a) encoder on the Adult train frame (median of interleaved rounds)")
    rows = []
    for label, ours_key, ctgan_key in (("fit wall s", "ours_fit_s", "ctgan_fit_s"),
                                       ("fit CPU s", "ours_fit_cpu_s", "ctgan_fit_cpu_s"),
                                       ("transform wall s", "ours_transform_s",
                                        "ctgan_transform_s")):
        o, c = median([e[ours_key] for e in enc]), median([e[ctgan_key] for e in enc])
        ratios = [e[ctgan_key] / e[ours_key] for e in enc]
        rows.append([label, o, c, median(ratios)])
    o = median([e["ours_fit_s"] + e["ours_transform_s"] for e in enc])
    c = median([e["ctgan_fit_s"] + e["ctgan_transform_s"] for e in enc])
    rows.append(["fit + transform wall s", o, c, c / o])
    rows.append(["encoded width", enc[0]["ours_dims"], enc[0]["ctgan_dims"], "-"])
    print(md_table(["", "fairlatent TabularEncoder (quantile)", "ctgan DataTransformer",
                    "ctgan / fairlatent"], rows))

    print(f"\n(b) VAE training, batch {BATCH}, {meta['epochs']} epochs each "
          "(median over epochs 2..E, then over interleaved rounds)")
    rows = []
    for label, ours_key, tvae_key in (("s/epoch (wall)", "ours_s_epoch", "tvae_s_epoch"),
                                      ("s/epoch (CPU)", "ours_cpu_s_epoch", "tvae_cpu_s_epoch"),
                                      ("rows/s (wall)", "ours_rows_s", "tvae_rows_s"),
                                      ("preprocessing s", "ours_preprocess_s",
                                       "tvae_preprocess_s"),
                                      ("whole fit s", "ours_fit_total_s", "tvae_fit_total_s")):
        o, t = median([v[ours_key] for v in vae]), median([v[tvae_key] for v in vae])
        if label.startswith("rows"):
            ratio = median([v[ours_key] / v[tvae_key] for v in vae])
        else:
            ratio = median([v[tvae_key] / v[ours_key] for v in vae])
        rows.append([label, o, t, ratio])
    print(md_table(["", "fairlatent TabularVAE", "ctgan TVAE", "speed-up (x)"], rows))
    print("per round s/epoch (ours, TVAE): "
          + ", ".join(f"({v['ours_s_epoch']:.3f}, {v['tvae_s_epoch']:.3f})" for v in vae)
          + f"; TVAE timing: {vae[0]['tvae_method']}")

    if memory:
        print(f"\n(c) peak RSS of one fit in a fresh subprocess ({memory[0].get('kind')} first)")
        rows = [[m["kind"], m["before_kib"] / 1024, m["peak_kib"] / 1024,
                 (m["peak_kib"] - m["before_kib"]) / 1024, m["seconds"]] for m in memory]
        print(md_table(["model", "MiB after imports + data", "peak MiB", "added by fit MiB",
                        "fit s"], rows))
    if scale:
        print(f"\n(d) fairlatent TabularVAE scaling ({SCALE_EPOCHS} epochs, resampled Adult)")
        base = scale[0]["s_epoch"] / scale[0]["rows"]
        rows = [[s["rows"], s["encoder_s"], s["s_epoch"], s["cpu_s_epoch"], s["rows_s"],
                 s["s_epoch"] / s["rows"] / base, s["load"]] for s in scale]
        print(md_table(["rows", "encoder s", "s/epoch (wall, epochs 2-3)",
                        "s/epoch (CPU, epochs 2-3)", "rows/s (wall)", "time per row vs 10k",
                        "load 1 min"], rows))


if __name__ == "__main__":
    main()
