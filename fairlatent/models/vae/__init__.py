"""TabularVAE: a variational autoencoder for mixed-type tables that keeps its encoder.

The model fits its own :class:`~fairlatent.encoding.TabularEncoder`, encodes the whole table once
to a float32 tensor on the training device and trains an MLP encoder ``x -> (mu, log_var)`` and an
MLP decoder ``z -> logits`` on a mixed likelihood: a Gaussian with a learned standard deviation per
numeric dimension, and a softmax cross-entropy for every one-hot span (categories, GMM modes and
missing-value indicators). The KL term is weighted by ``beta``.

After ``fit`` the model gives latent codes (:meth:`TabularVAE.encode`, the input of the DB-VAE
debiasing strategy), reconstructions, per-row reconstruction errors and new samples.

Modules: ``estimator`` (:class:`TabularVAE`), ``networks`` (encoder/decoder MLPs and the KL term)
and ``training`` (the ELBO loop with early stopping).
"""

from fairlatent.models.params import EpochCallback
from fairlatent.models.vae.estimator import TabularVAE

__all__ = ["EpochCallback", "TabularVAE"]
