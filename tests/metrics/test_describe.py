import pandas as pd

from fairlatent.metrics import representation
from fairlatent.metrics.describe import describe_rows


def test_describe_rows():
    ref = pd.DataFrame({
        "sex": ["F"] * 10 + ["M"] * 30,
        "age": list(range(60, 70)) + list(range(20, 50)),
        "hours": [55.0] * 10 + [40.0] * 30,
        "job": ["a", "b"] * 20,
    })
    terms = describe_rows(ref.iloc[:10], ref, ["sex", "age", "hours", "job"], max_terms=4)
    texts = [t["text"] for t in terms]
    assert texts == ["sex=F", "hours=55", "age 61-68"]
    assert not any(t.startswith("job") for t in texts)
    assert describe_rows(ref, ref, ["sex", "age"]) == []


def test_representation_reexports_describe_rows():
    assert representation.describe_rows is describe_rows
