"""TabularGAN on Adult: fit time per epoch and synthetic-data quality.

Usage::

    .venv/bin/python benchmarks/gan_quality.py --epochs 50
    .venv/bin/python benchmarks/gan_quality.py --epochs 3 --no-quality   # speed only

Split: the whole file (``split`` column dropped) is split 70/30 with a fixed seed, giving 34,189
training rows as in the CTGAN reference figures of REFERENCES.md (3.6 s/epoch, mean KS 0.199,
mean TVD 0.097 at 300 epochs, batch 500, 2 CPU cores). The GAN is conditioned on
``["sex", "income"]``; the conditional hit rate is the share of rows asked for
``sex=Female, income=>50K`` that land in that cell (CTGAN: 5.7%).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairlatent.metrics.synthetic import quality_warnings, synthetic_quality
from fairlatent.models.gan import TabularGAN

ADULT = Path(__file__).resolve().parent.parent / "examples" / "adult.csv.gz"


def load_adult(seed: int = 0, path: Path = ADULT) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(path).drop(columns=["split"], errors="ignore")
    order = np.random.default_rng(seed).permutation(len(frame))
    n_train = round(0.7 * len(frame))
    return (
        frame.iloc[order[:n_train]].reset_index(drop=True),
        frame.iloc[order[n_train:]].reset_index(drop=True),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--numeric", default="quantile", choices=["quantile", "gmm"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-quality", action="store_true", help="only time the fit")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--data", type=Path, default=ADULT, help="Adult CSV (default: bundled)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    train, test = load_adult(args.seed, args.data)
    gan = TabularGAN(
        condition_columns=["sex", "income"],
        epochs=args.epochs,
        batch_size=args.batch_size,
        numeric=args.numeric,
        device="cpu",
        random_state=args.seed,
    )

    cpu_marks = [time.process_time()]

    def progress(epoch: int, epochs: int, metrics: dict) -> None:
        cpu_marks.append(time.process_time())
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            print(
                f"  epoch {epoch:4d}/{epochs}  G {metrics['generator_loss']:+.3f}  "
                f"D {metrics['critic_loss']:+.3f}  cond {metrics['condition_loss']:.3f}  "
                f"{metrics['seconds']:.2f} s",
                flush=True,
            )

    gan.fit(train, callbacks=[progress])
    seconds = [h["seconds"] for h in gan.history_]
    steady = seconds[1:] if len(seconds) > 1 else seconds
    row: dict[str, object] = {
        "rows": len(train),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "numeric": args.numeric,
        "threads": torch.get_num_threads(),
        "encoder_s": round(gan.encode_seconds_, 2),
        "s_per_epoch": round(float(np.median(steady)), 3),
        # CPU seconds of this process per epoch: on a shared machine the wall time above also
        # counts other people's jobs; with --threads 1 this is the quiet-machine wall time
        "cpu_s_per_epoch": round(
            float(np.median(np.diff(cpu_marks)[1:] if args.epochs > 1 else np.diff(cpu_marks))), 3
        ),
        "fit_s": round(gan.fit_seconds_, 1),
    }
    if not args.no_quality:
        tick = time.perf_counter()
        synthetic = gan.sample(len(train), random_state=1)
        row["sample_s"] = round(time.perf_counter() - tick, 2)
        report = synthetic_quality(
            train, synthetic, real_test=test, target="income", random_state=args.seed
        )
        cell = gan.sample(2000, condition={"sex": "Female", "income": ">50K"}, random_state=2)
        hit = float(((cell["sex"] == "Female") & (cell["income"] == ">50K")).mean())
        row.update(
            mean_ks=round(report["mean_ks"], 3),
            mean_tvd=round(report["mean_tvd"], 3),
            corr_diff=round(report["correlation"]["mean_abs_diff"], 3),
            pearson_diff=round(report["correlation"]["numeric_pearson_mean_abs_diff"], 3),
            detection_auc=round(report["detection"]["auc"], 3),
            tstr_acc=round(report["utility"]["accuracy_synthetic"], 3),
            trtr_acc=round(report["utility"]["accuracy_real"], 3),
            copy_share=round(report["privacy"]["copy_share"], 4),
            dcr_ratio=round(report["privacy"]["dcr_median_ratio"], 3),
            cond_hit_rate=hit,
            cond_acceptance=round(gan.last_sample_stats_["acceptance_rate"], 3),
        )
        per_column = {c: round(v.get("ks", v.get("tvd")), 3) for c, v in report["columns"].items()}
        print("per column (KS or TVD):", per_column)
        for warning in quality_warnings(report):
            print(warning)
    width = max(len(k) for k in row)
    print("\nTabularGAN on Adult")
    for key, value in row.items():
        print(f"  {key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
