import numpy as np

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.metrics.synthesis_audit import synthesis_audit
from fairlatent.strategies import StrategyContext, get_strategy
from tests.conftest import FAST, GAN_FAST, VAE_FAST, make_biased_frame


def test_gan_and_vae_gan_share_one_gan_and_balance_base_rates():
    data = prepare(make_biased_frame(500, seed=2), target="label", sensitive=["group"])
    ctx = StrategyContext(
        target="label",
        sensitive=["group"],
        group_column=GROUP_COLUMN,
        random_state=0,
        device="cpu",
        epochs=FAST["epochs"],
    )
    gan = get_strategy("gan", gan_params=GAN_FAST).apply(data.frame, ctx)
    both = get_strategy(
        "vae+gan", gan_params=GAN_FAST, vae_params=VAE_FAST
    ).apply(data.frame, ctx)
    assert both.artifacts["gan"] is gan.artifacts["gan"]  # trained once per split
    for output in (gan, both):
        assert list(output.frame.columns) == list(data.frame.columns)
        assert output.is_synthetic.sum() > 0
        rates = output.frame.groupby(GROUP_COLUMN)["label"].mean()
        assert abs(rates["A"] - rates["B"]) < 0.02
        assert (
            output.frame.groupby(GROUP_COLUMN).size().to_dict()
            == data.frame.groupby(GROUP_COLUMN).size().to_dict()
        )
    sel = both.diagnostics["selection"]
    assert sel["kept"] == both.is_synthetic.sum() and sel["candidates"] == 4 * sel["kept"]
    assert sel["mean_rarity_kept"] >= sel["mean_rarity_candidates"]
    assert gan.diagnostics["gan"]["epochs"] == 2

    test = prepare(make_biased_frame(300, seed=9), target="label", sensitive=["group"]).frame
    quality = synthesis_audit(
        {"gan": gan, "vae+gan": both},
        train=data.frame,
        test=test,
        target="label",
        group_column=GROUP_COLUMN,
    )
    assert set(quality) == {"gan", "vae+gan"}
    assert quality["gan"]["generator"] is quality["vae+gan"]["generator"]
    assert 0.0 <= quality["gan"]["generator"]["detection"]["auc"] <= 1.0
    assert quality["gan"]["added_rows"]["n_synthetic"] == int(np.sum(gan.is_synthetic))
    assert quality["gan"]["marginals"][0]["kind"] == "categorical"
