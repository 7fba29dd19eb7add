"""Data-parallel training of the VAE and the GAN on several devices (``torchrun``, DDP).

A fit with ``distributed=True`` started by ``torchrun --nproc_per_node=K script.py`` (which sets
``WORLD_SIZE`` and friends) runs one process per device; outside ``torchrun`` the same fit runs in
one process. Every process reads the
same table, fits the same encoder and builds the same networks (the seeds are broadcast from rank
0, so ``random_state=None`` works too); the networks are wrapped in
:class:`torch.nn.parallel.DistributedDataParallel`, which averages the gradients of every step.
Every rank draws the same global batch from a shared generator (the same epoch permutation for the
VAE, the same conditions and real rows for the GAN) and trains on its own contiguous shard of it,
so one step processes ``batch_size`` rows in total, ``batch_size / K`` on each device; the noise
that must differ between rows (gumbel noise, dropout masks, gradient-penalty mixing weights) comes
from a per-rank generator. Per-epoch losses and the VAE's validation loss are summed over the ranks
(so early stopping decides the same on all of them). Only rank 0 writes files
(:func:`is_main_process`, checked by ``save``).

With one process nothing here is used: a single-process fit runs exactly the code it ran before
(same numbers on CPU).

Backends: NCCL on CUDA devices (rank ``r`` uses ``cuda:<LOCAL_RANK>``), gloo on CPU (useful for
tests; no speed-up on one machine). Batch-norm statistics of the GAN's generator are per rank (no
``SyncBatchNorm``): each rank normalises its shard, as with any per-device batch norm.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fairlatent.exceptions import ConfigError

logger = logging.getLogger(__name__)

__all__ = ["SINGLE", "Distributed", "is_main_process", "setup_distributed", "world_size_from_env"]

ERR_MPS = "distributed training needs CUDA devices (NCCL) or the CPU (gloo), not {device}"
ERR_DISTRIBUTED = "distributed must be True or False, got {value!r}"


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a data-parallel fit.

    Parameters
    ----------
    rank : int
        This process's rank (0 is the main process).
    world_size : int
        Number of processes.
    """

    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    def shard(self, n: int) -> slice:
        """Return this rank's contiguous part of ``n`` items (sizes differ by at most one).

        Examples
        --------
        >>> [Distributed(r, 3).shard(10) for r in range(3)]
        [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
        """
        base, extra = divmod(int(n), self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """Wrap ``module`` in DistributedDataParallel (return it as it is when alone)."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, output_device=ids[0] if ids else None)

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place (nothing when alone); return it."""
        if self.enabled:
            import torch.distributed as dist

            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def broadcast_ints(self, values: Sequence[int]) -> list[int]:
        """Rank 0's ``values`` on every rank (e.g. seeds drawn from fresh entropy)."""
        if not self.enabled:
            return list(values)
        import torch.distributed as dist

        holder: list[Any] = [list(values)]
        dist.broadcast_object_list(holder, src=0)
        return [int(v) for v in holder[0]]


#: A single-process fit.
SINGLE = Distributed()


def world_size_from_env() -> int:
    """``WORLD_SIZE`` of the environment (``torchrun`` sets it), 1 when absent."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def is_main_process() -> bool:
    """Whether this process may write files: rank 0 of a distributed job, or not distributed.

    Examples
    --------
    >>> is_main_process()
    True
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return os.environ.get("RANK", "0") == "0"


def check_distributed(value: object) -> None:
    """Require ``True`` or ``False``.

    Raises
    ------
    ConfigError
    """
    if value is not True and value is not False:
        raise ConfigError(ERR_DISTRIBUTED.format(value=value))


def setup_distributed(
    distributed: bool, device: torch.device
) -> tuple[Distributed, torch.device]:
    """Join (or start) the process group of a ``torchrun`` job when asked to; pick the device.

    Parameters
    ----------
    distributed : bool
        ``False``: a single-process fit. ``True``: data-parallel when the job has several
        processes (``WORLD_SIZE > 1`` or an initialised process group), else single-process.
    device : torch.device
        The resolved device option; a ``cuda`` device without index becomes ``cuda:<LOCAL_RANK>``.

    Returns
    -------
    (Distributed, torch.device)
        This process's place and its training device.

    Raises
    ------
    ConfigError
        Several processes on an MPS device.
    """
    check_distributed(distributed)
    if distributed is False:
        return SINGLE, device
    import torch.distributed as dist

    initialised = dist.is_available() and dist.is_initialized()
    world = dist.get_world_size() if initialised else world_size_from_env()
    if world <= 1:
        return SINGLE, device
    if device.type == "mps":
        raise ConfigError(ERR_MPS.format(device=device))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not initialised:
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        logger.info("joined a %s process group of %d processes", backend, dist.get_world_size())
    return Distributed(rank=dist.get_rank(), world_size=dist.get_world_size()), device
