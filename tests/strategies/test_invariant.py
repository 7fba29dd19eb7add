"""The ``invariant`` strategy repairs any rows, including categories its training rows lacked."""

import pandas as pd

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.strategies import StrategyContext, get_strategy
from tests.conftest import make_biased_frame


def test_invariant_repairs_rows_with_categories_unseen_in_training():
    data = prepare(make_biased_frame(300), target="label", sensitive=["group"]).frame
    context = StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN,
                              random_state=0, device="cpu", epochs=2)
    fitted = get_strategy("invariant", latent_dim=2, hidden_dims=[8]).fit(data.iloc[:200], context)
    held_out = data.iloc[200:].copy()
    held_out["job"] = held_out["job"].astype(object)
    held_out.iloc[:3, held_out.columns.get_loc("job")] = "astronaut"  # never seen in fit
    out = fitted.transform(held_out, fitted.default())
    assert len(out.frame) == len(held_out) and "astronaut" not in set(out.frame["job"])
    pd.testing.assert_series_equal(out.frame["label"], held_out["label"])
    assert list(out.frame.dtypes) == list(held_out.dtypes)
