"""TabularGAN: a fast conditional WGAN-GP for mixed-type tables (the CTGAN family).

Ideas from the CTGAN paper (Xu et al., 2019), implemented from the paper:

* the shared :class:`~fairlatent.encoding.TabularEncoder` turns the frame into a float32 matrix
  described by spans; the generator outputs one logit per encoded dimension, numeric spans pass
  through and every one-hot span gets a gumbel-softmax (``gumbel_tau``, 0.2) during training;
  :meth:`TabularGAN.sample` draws every one-hot span from its softmax (gumbel-max), the
  distribution the critic judged, rather than taking its argmax (which would pile the rows of an
  uncertain span onto its most likely category);
* a **conditional vector** (one one-hot block per categorical column) is fed to both networks;
  *training-by-sampling* draws a condition by log-frequency, the critic sees real rows drawn from
  that condition, and the generator pays a cross-entropy penalty when its conditioned spans miss it;
* the fitted generator is an exponential moving average of the trained generator's weights
  (``ema_decay``; Yazici et al., 2019) with batch-norm statistics recomputed for it, which damps
  the epoch-to-epoch oscillation of the marginals;
* residual generator blocks (``Linear -> BatchNorm -> ReLU`` concatenated to their input), a
  PacGAN critic (``pac`` rows packed per critic input, LeakyReLU 0.2, dropout 0.5), the WGAN-GP
  loss with gradient penalty ``gp_lambda`` and Adam with betas (0.5, 0.9).

Two departures from the paper, both for speed: the rows of one critic pack share one condition
(drawn once per pack; the condition enters the critic once per pack instead of once per row), and
the generator update reuses the fake batch of the last critic update instead of generating a new
one.

Conditioning columns
--------------------
With ``condition_columns=[...]`` (e.g. ``["sex", "income"]`` or one combined group x label
column) every condition sets a **cell**: one value of every conditioning column, all at once; the
cells are the value combinations present in the data. On top of the cell, each training condition
also sets one value of one *other* categorical column (the paper's training-by-sampling, which
keeps rare categories of every column alive); at sampling time that extra part is drawn from the
data's frequencies within the cell. With ``condition_columns=None`` there is no cell and a
condition is one value of one categorical column (exactly the paper's scheme); any categorical
column can then be conditioned on. Numeric columns named in ``condition_columns`` are one-hot
encoded.

What makes it fast
------------------
The encoded table, the condition table and per-condition row indices live on the training device
for the whole fit; a batch's real rows are drawn with one gather (``order[offset + u * count]``),
the span activations and the conditional penalty are dense over all spans (no Python loop per
span, no scatter in the backward pass), real and fake packs go through the critic in one forward
and the gradient penalty's double backward runs over the interpolated packs only, the optimisers
are fused, and losses are summed on the device and read once per epoch. No ``.cpu()`` inside the
loop. The span operations are those of :mod:`fairlatent.models.nn`.

Honest conditioning
-------------------
:meth:`TabularGAN.sample` with a ``condition`` returns only rows whose conditioned columns hold the
asked values: generated rows that miss are rejected (the check is done on the generator's
one-hot spans and again on the decoded values) and generation continues in batches until ``n``
rows are collected or ``max_tries`` batches were spent, which raises
:class:`~fairlatent.exceptions.FairlatentError`. ``last_sample_stats_`` records the tries and the
acceptance rate.

Modules
-------
``estimator`` (:class:`TabularGAN`: parameters, fit, sample, save/load), ``networks`` (generator
and critic), ``conditions`` (:class:`~fairlatent.models.gan.conditions.ConditionTable`),
``training`` (the training loop, weight average, gradient and condition penalties) and
``sampling`` (rejection sampling under a condition).
"""

from fairlatent.models.gan.estimator import MAX_SAMPLE_TRIES, TabularGAN
from fairlatent.models.params import EpochCallback

__all__ = ["MAX_SAMPLE_TRIES", "EpochCallback", "TabularGAN"]
