"""Per-epoch metrics, bf16 autocast, torch.compile and the CUDA training path of both models."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from fairlatent.exceptions import ConfigError
from fairlatent.models import TabularVAE
from fairlatent.models.device import autocast, to_device
from fairlatent.models.gan import TabularGAN
from tests.conftest import FAST, make_biased_frame

VAE_SMALL = {**FAST, "hidden_dims": (16,), "latent_dim": 4, "batch_size": 64}
GAN_SMALL = {
    **FAST,
    "embedding_dim": 16,
    "generator_dims": (32,),
    "critic_dims": (32,),
    "batch_size": 100,
    "condition_columns": ["group", "label"],
}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_biased_frame(300, seed=7)


def _collect(model, frame: pd.DataFrame) -> list[tuple[int, int, dict]]:
    calls: list[tuple[int, int, dict]] = []
    model.fit(frame, callbacks=[lambda e, n, m: calls.append((e, n, dict(m)))])
    return calls


@pytest.mark.parametrize(
    ("cls", "params", "losses"),
    [
        (TabularVAE, VAE_SMALL, {"train_loss", "val_loss", "recon", "kl"}),
        (TabularGAN, GAN_SMALL, {"generator_loss", "critic_loss", "condition_loss"}),
    ],
)
def test_every_epoch_reports_losses_and_elapsed_time(frame, cls, params, losses) -> None:
    model = cls(**{**params, "epochs": 3}, device="cpu", random_state=0)
    calls = _collect(model, frame)
    assert [(e, n) for e, n, _ in calls] == [(1, 3), (2, 3), (3, 3)]
    elapsed = []
    for (_, _, metrics), stored in zip(calls, model.history_, strict=True):
        assert metrics == stored
        assert losses | {"loss", "seconds", "elapsed_seconds", "epoch"} <= set(metrics)
        assert all(math.isfinite(metrics[k]) for k in losses | {"loss"})
        assert 0 < metrics["seconds"] <= metrics["elapsed_seconds"]
        elapsed.append(metrics["elapsed_seconds"])
    assert elapsed == sorted(elapsed)
    last = calls[-1][2]
    assert last["loss"] == (last["val_loss"] if cls is TabularVAE else last["critic_loss"])


def test_bf16_autocast_trains_on_cpu(frame) -> None:
    fp32 = TabularVAE(**VAE_SMALL, device="cpu", random_state=0).fit(frame)
    bf16 = TabularVAE(**VAE_SMALL, device="cpu", bf16=True, random_state=0).fit(frame)
    a, b = fp32.history_[-1]["train_loss"], bf16.history_[-1]["train_loss"]
    assert math.isfinite(b) and abs(a - b) < 0.05 * abs(a)
    assert bf16.encode(frame)[0].dtype == np.float32  # inference stays in float32
    gan = TabularGAN(**GAN_SMALL, device="cpu", bf16=True, random_state=0).fit(frame)
    assert all(math.isfinite(h["critic_loss"]) for h in gan.history_)
    rows = gan.sample(50, condition={"group": "B"}, random_state=0)
    assert (rows["group"] == "B").all()
    with pytest.raises(ConfigError, match="bf16"):
        TabularVAE(**VAE_SMALL, bf16="yes").fit(frame)


def test_autocast_and_to_device() -> None:
    with pytest.raises(ConfigError, match="bf16 autocast"):
        autocast(torch.device("mps"), True)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = to_device(array, torch.device("cpu"))
    assert tensor.data_ptr() == torch.from_numpy(array).data_ptr()  # shared, not copied


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit inside inductor
def test_compiled_generator_trains_the_same_numbers_on_cpu(frame) -> None:
    eager = TabularGAN(**GAN_SMALL, device="cpu", random_state=0).fit(frame)
    compiled = TabularGAN(**GAN_SMALL, device="cpu", compile=True, random_state=0).fit(frame)
    assert [h["generator_loss"] for h in compiled.history_] == pytest.approx(
        [h["generator_loss"] for h in eager.history_], rel=1e-4
    )
    assert "_orig_mod" not in "".join(compiled.generator_.state_dict())  # saves the plain net


# -- CUDA ------------------------------------------------------------------------------------------


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("options", [{}, {"bf16": True}])
def test_training_loops_on_cuda(frame, options) -> None:
    vae = TabularVAE(**VAE_SMALL, device="cuda", random_state=0, **options).fit(frame)
    assert vae.device_.type == "cuda" and math.isfinite(vae.history_[-1]["val_loss"])
    assert next(vae.module_.parameters()).is_cuda
    gan = TabularGAN(**GAN_SMALL, device="cuda", random_state=0, **options).fit(frame)
    assert all(math.isfinite(h["critic_loss"]) for h in gan.history_)
    assert (gan.sample(40, condition={"label": "yes"}, random_state=0)["label"] == "yes").all()
    # the CPU and CUDA fits learn the same table (not the same numbers: other kernels)
    cpu = TabularVAE(**VAE_SMALL, device="cpu", random_state=0).fit(frame)
    assert vae.history_[-1]["val_loss"] == pytest.approx(cpu.history_[-1]["val_loss"], rel=0.1)


@pytest.mark.gpu
@needs_cuda
def test_no_host_sync_per_training_step() -> None:
    """Losses are read once per epoch: the number of host syncs must not grow with the steps."""
    rows = make_biased_frame(4000, seed=3)

    def syncs(model) -> int:
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(rows)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    common = {"epochs": 2, "device": "cuda", "random_state": 0}
    few = syncs(TabularVAE(**{**VAE_SMALL, **common, "batch_size": 1000}))
    many = syncs(TabularVAE(**{**VAE_SMALL, **common, "batch_size": 50}))  # 20x the steps
    assert many <= few + 4, (few, many)
    gan_common = {**GAN_SMALL, **common}
    few = syncs(TabularGAN(**{**gan_common, "batch_size": 1000}))
    many = syncs(TabularGAN(**{**gan_common, "batch_size": 50}))
    assert many <= few + 4, (few, many)
