"""Strategies hand their samplers' and models' options on by name, with one default each."""

import inspect

import pytest

from fairlatent.models.vae.invariant import InvariantEncoder
from fairlatent.samplers import LatentDensityResampler, OutlierBalancedResampler
from fairlatent.samplers.synthesis import DEFAULT_GAN_PARAMS
from fairlatent.strategies import get_strategy
from fairlatent.strategies.base import StrategyContext
from fairlatent.strategies.common import defaults_of

#: Strategies that train a neural model, and the epoch options they take.
EPOCH_OPTIONS = {
    "vae": {"vae_epochs"},
    "gan": {"gan_epochs"},
    "vae+gan": {"gan_epochs", "vae_epochs"},
    "latent-eo": {"vae_epochs", "gan_epochs"},
    "invariant": {"vae_epochs"},
}


def options(name):
    return set(inspect.signature(type(get_strategy(name)).__init__).parameters) - {"self"}


@pytest.mark.parametrize("name", sorted(EPOCH_OPTIONS))
def test_epochs_options_name_their_model(name):
    # `epochs` means one thing (the audit's --epochs, every model); a strategy names the model
    assert {o for o in options(name) if "epochs" in o} == EPOCH_OPTIONS[name]


def test_shared_options_keep_the_samplers_defaults():
    vae = get_strategy("vae")
    sampler = defaults_of(LatentDensityResampler)
    for name in ("scope", "density", "alpha", "bins", "rule", "n_components"):
        assert getattr(vae, name) == sampler[name]
    outlier = get_strategy("vae+gan")
    assert outlier.alpha == defaults_of(OutlierBalancedResampler)["alpha"]
    encoder = defaults_of(InvariantEncoder)
    invariant = get_strategy("invariant")
    assert (invariant.latent_dim, tuple(invariant.hidden_dims), invariant.beta) == (
        encoder["latent_dim"], encoder["hidden_dims"], encoder["beta"])


def test_strategies_hand_their_options_to_the_sampler():
    context = StrategyContext(target="label", group_column="_g", sensitive=["sex"],
                              random_state=3, device="cpu")
    sampler = get_strategy("vae", alpha=0.2, bins=7, latent_dim=3, vae_epochs=4).resampler(context)
    assert (sampler.alpha, sampler.bins, sampler.epochs, sampler.sampling) == (0.2, 7, 4, "weights")
    assert sampler.vae_params == {"latent_dim": 3, "hidden_dims": (128,)}
    gan = get_strategy("vae+gan", candidate_factor=2, keep_size=False)._sampler(context)
    assert isinstance(gan, OutlierBalancedResampler)
    assert (gan.candidate_factor, gan.keep_size) == (2, False)
    # the GAN of a debiasing strategy trains the sampler's default epochs, 100 (unchanged)
    assert gan.epochs == DEFAULT_GAN_PARAMS["epochs"] == 100
    assert get_strategy("gan", gan_epochs=7)._sampler(context).epochs == 7
