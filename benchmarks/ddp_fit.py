"""Fit the VAE or the GAN data-parallel over several processes (one per GPU) with torchrun.

Usage (one node with 4 GPUs; every process reads the same file)::

    torchrun --standalone --nproc_per_node=4 benchmarks/ddp_fit.py --model gan \\
        --device cuda --epochs 300 --out runs/gan

    # the same on CPU processes (gloo backend), e.g. to try it on a laptop
    torchrun --standalone --nproc_per_node=2 benchmarks/ddp_fit.py --model vae \\
        --device cpu --rows 2000 --epochs 3 --out /tmp/ddp

Each process trains on its shard of every batch (``distributed=True``); rank 0 alone saves the
model to ``OUT/<model>-model`` and writes ``OUT/result.json`` (history, the VAE's validation loss,
the GAN's sample marginals' distance from the data, world size, seconds). Run without torchrun,
the same command fits in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ADULT = Path(__file__).resolve().parent.parent / "examples" / "adult.csv.gz"


def marginal_tvd(real: pd.DataFrame, fake: pd.DataFrame, columns: list[str]) -> float:
    """Mean total-variation distance of the categorical marginals (0 = identical)."""
    distances = []
    for column in columns:
        p = real[column].astype(str).value_counts(normalize=True)
        q = fake[column].astype(str).value_counts(normalize=True)
        distances.append(0.5 * p.sub(q, fill_value=0.0).abs().sum())
    return float(np.mean(distances))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["vae", "gan", "both"], default="vae")
    parser.add_argument("--data", type=Path, default=ADULT, help="CSV (default: bundled Adult)")
    parser.add_argument("--rows", type=int, help="use the first N rows")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-distributed", action="store_true", help="a plain one-process fit")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import torch.distributed as dist

    from fairlatent.models.gan import TabularGAN
    from fairlatent.models.threads import apply_thread_policy
    from fairlatent.models.vae import TabularVAE

    apply_thread_policy(None)
    frame = pd.read_csv(args.data).drop(columns=["split"], errors="ignore")
    if args.rows:
        frame = frame.head(args.rows).reset_index(drop=True)
    common: dict[str, Any] = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "device": args.device,
        "random_state": args.seed,
        "distributed": not args.no_distributed,
    }
    result: dict[str, Any] = {}
    models = ["vae", "gan"] if args.model == "both" else [args.model]
    for name in models:
        started = time.perf_counter()
        model: Any
        if name == "vae":
            model = TabularVAE(patience=None, **common).fit(frame)
            result["val_loss"] = model.history_[-1]["val_loss"]
        else:
            model = TabularGAN(**common).fit(frame)
        result[f"{name}_seconds"] = time.perf_counter() - started
        result[f"{name}_history"] = model.history_
        result["device"] = str(model.device_)
        # every rank asks; only rank 0 writes (the others get the path back untouched)
        model.save(args.out / f"{name}-model")
        if name == "gan":  # sampling is collective-free: every rank may sample
            categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
            fake = model.sample(len(frame), random_state=args.seed)
            result["marginal_tvd"] = marginal_tvd(frame, fake, categorical)
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    if rank == 0:
        result["world_size"] = world
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(json.dumps({k: v for k, v in result.items() if not k.endswith("history")}))
    else:  # proof for the test that other ranks ran but wrote nothing
        marker = args.out / f"rank{rank}-done"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(os.environ.get("LOCAL_RANK", ""), encoding="utf-8")
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
