"""Data-parallel training (DDP) on CPU processes with the gloo backend, started by torchrun."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from fairlatent.exceptions import ConfigError
from fairlatent.models import TabularVAE
from fairlatent.models.distributed import SINGLE, Distributed, is_main_process, setup_distributed
from tests.conftest import FAST, make_biased_frame

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "ddp_fit.py"


def test_shards_cover_every_item_once() -> None:
    for n in (0, 1, 5, 500, 501):
        for world in (1, 2, 3, 4):
            parts = [Distributed(rank, world).shard(n) for rank in range(world)]
            covered = [i for part in parts for i in range(n)[part]]
            assert covered == list(range(n))
            sizes = [part.stop - part.start for part in parts]
            assert max(sizes) - min(sizes) <= 1


def test_alone_a_distributed_fit_is_a_plain_fit(monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert setup_distributed(True, torch.device("cpu")) == (SINGLE, torch.device("cpu"))
    assert setup_distributed(False, torch.device("cpu"))[0] is SINGLE
    with pytest.raises(ConfigError, match="distributed"):
        TabularVAE(distributed="yes").fit(make_biased_frame(50))
    frame = make_biased_frame(120, seed=4)
    params = {**FAST, "hidden_dims": (8,), "latent_dim": 2, "device": "cpu", "random_state": 0}
    plain = TabularVAE(**params).fit(frame)
    alone = TabularVAE(**params, distributed=True).fit(frame)
    assert plain.history_[-1]["train_loss"] == alone.history_[-1]["train_loss"]


def test_only_rank_zero_saves(monkeypatch, tmp_path: Path) -> None:
    vae = TabularVAE(**FAST, hidden_dims=(8,), latent_dim=2, device="cpu", random_state=0)
    vae.fit(make_biased_frame(80, seed=1))
    monkeypatch.setenv("RANK", "1")
    assert not is_main_process()
    assert vae.save(tmp_path / "model") == tmp_path / "model"
    assert not (tmp_path / "model").exists()
    monkeypatch.setenv("RANK", "0")
    vae.save(tmp_path / "model")
    assert (tmp_path / "model" / "weights.pt").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    common = ["--model", "both", "--device", "cpu", "--rows", "1200", "--epochs", "3",
              "--batch-size", "200", "--out", str(out)]
    done = subprocess.run([*args, str(SCRIPT), *common], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "result.json").read_text())


@pytest.mark.slow
def test_two_gloo_processes_train_like_one(tmp_path: Path) -> None:
    """torchrun with 2 CPU processes: each trains on half of every batch, gradients averaged.

    The result matches a one-process fit of the same settings in quality (not bit for bit:
    the shards' sums are added in another order); only rank 0 writes the models.
    """
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
                "--nproc_per_node=2", "--rdzv-backend=c10d",
                f"--rdzv-endpoint=127.0.0.1:{_free_port()}"]
    two = _run(torchrun, tmp_path / "ddp")
    one = _run([sys.executable], tmp_path / "single")
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert abs(two["val_loss"] - one["val_loss"]) <= 0.02 * abs(one["val_loss"]) + 0.05
    assert two["marginal_tvd"] <= one["marginal_tvd"] + 0.05
    assert len(two["gan_history"]) == len(one["gan_history"]) == 3
    for name in ("vae", "gan"):
        assert (tmp_path / "ddp" / f"{name}-model" / "weights.pt").is_file()
    assert (tmp_path / "ddp" / "rank1-done").is_file()  # rank 1 ran, and wrote no model
    reloaded = TabularVAE.load(tmp_path / "ddp" / "vae-model")
    assert len(reloaded.sample(5, random_state=0)) == 5
    assert isinstance(pd.DataFrame(two["vae_history"]), pd.DataFrame)
