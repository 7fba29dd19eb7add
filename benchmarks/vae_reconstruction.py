"""How well and how fast does TabularVAE reconstruct held-out Adult rows?

Fits the encoder and the VAE (library defaults unless overridden) on 80% of Adult and reconstructs
the other 20% from their posterior means. Prints the encoder fit time, the time per epoch, the
accuracy of every categorical column and the Pearson correlation of every numeric column.

Targets: mean categorical accuracy >= 0.90, every numeric correlation >= 0.80, fit <= ~30 s.
Also prints the best epoch's validation loss (negative ELBO, lower is better) and how many latent
dimensions carry information, to compare architectures (``--hidden``) on the VAE's own objective.

    .venv/bin/python benchmarks/vae_reconstruction.py
    .venv/bin/python benchmarks/vae_reconstruction.py --epochs 50 --beta 0.5 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairlatent.encoding import TabularEncoder
from fairlatent.models import TabularVAE

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "examples" / "adult.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (script)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--hidden", type=int, nargs="+")
    parser.add_argument("--beta", type=float)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--patience", type=int)
    parser.add_argument("--numeric", choices=["quantile", "gmm"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    frame = pd.read_csv(args.data).drop(columns=["split"], errors="ignore")
    order = np.random.default_rng(args.seed).permutation(len(frame))
    cut = int(0.8 * len(frame))
    train = frame.iloc[order[:cut]].reset_index(drop=True)
    test = frame.iloc[order[cut:]].reset_index(drop=True)

    overrides = {
        "epochs": args.epochs,
        "latent_dim": args.latent_dim,
        "hidden_dims": tuple(args.hidden) if args.hidden else None,
        "beta": args.beta,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "numeric": args.numeric,
    }
    params = {k: v for k, v in overrides.items() if v is not None}

    start = time.perf_counter()
    TabularEncoder(numeric=params.get("numeric", "quantile"), random_state=0).fit(train)
    encoder_seconds = time.perf_counter() - start

    vae = TabularVAE(device=args.device, random_state=args.seed, **params)
    start = time.perf_counter()
    vae.fit(train)
    fit_seconds = time.perf_counter() - start
    epoch_seconds = [h["seconds"] for h in vae.history_]

    rebuilt = vae.reconstruct(test)
    print(f"rows: train {len(train)}, test {len(test)}; torch threads {torch.get_num_threads()}")
    print(f"params: {vae.get_params()}")
    print(f"encoder fit ({params.get('numeric', 'quantile')}): {encoder_seconds:.3f} s")
    print(
        f"VAE fit: {fit_seconds:.1f} s, {len(epoch_seconds)} epochs (best {vae.best_epoch_}), "
        f"s/epoch median {statistics.median(epoch_seconds):.3f} "
        f"min {min(epoch_seconds):.3f} max {max(epoch_seconds):.3f}"
    )
    best = vae.history_[vae.best_epoch_ - 1]
    means, _ = vae.encode(test)
    active = int((means.var(axis=0) > 0.01).sum())
    print(
        f"best epoch: validation loss (negative ELBO) {best['val_loss']:.3f}, train recon "
        f"{best['recon']:.3f}, KL {best['kl']:.3f}; active latent dimensions (variance of the "
        f"test rows' posterior means > 0.01): {active} of {vae.latent_dim}"
    )
    print()
    print(f"{'column':<16}{'kind':<13}{'metric':<10}{'value':>8}")
    accuracies, correlations = [], []
    for column in test.columns:
        if column in vae.encoder_.discrete_columns_:
            value = float((rebuilt[column].astype(object) == test[column].astype(object)).mean())
            accuracies.append(value)
            print(f"{column:<16}{'categorical':<13}{'accuracy':<10}{value:>8.3f}")
        else:
            value = float(np.corrcoef(rebuilt[column], test[column])[0, 1])
            correlations.append(value)
            print(f"{column:<16}{'numeric':<13}{'pearson':<10}{value:>8.3f}")
    mean_acc, min_corr = float(np.mean(accuracies)), float(np.min(correlations))
    print()
    print(
        f"mean categorical accuracy {mean_acc:.3f} (target >= 0.90): "
        f"{'PASS' if mean_acc >= 0.9 else 'FAIL'}"
    )
    print(
        f"min numeric correlation   {min_corr:.3f} (target >= 0.80): "
        f"{'PASS' if min_corr >= 0.8 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
