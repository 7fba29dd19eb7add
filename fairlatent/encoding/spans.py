"""Span: the one contract between the tabular encoding and the generative models.

An encoded row is a float32 vector. The encoder describes it as an ordered list of spans; each span
covers a contiguous slice of the vector and says how the models must treat it (activation and loss).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

SpanKind = Literal["numeric", "categorical", "mode", "missing"]


@dataclass(frozen=True)
class Span:
    """A contiguous slice of the encoded vector belonging to one source column.

    Parameters
    ----------
    column : str
        Source column name in the original DataFrame.
    kind : {"numeric", "categorical", "mode", "missing"}
        ``numeric``: real values (identity activation, Gaussian/MSE loss).
        ``categorical``: one-hot over categories (softmax / gumbel-softmax, cross-entropy).
        ``mode``: one-hot over mixture modes of a GMM-normalised numeric column (softmax, CE).
        ``missing``: one-hot [present, missing] indicator of a numeric column with NaNs (softmax, CE).
    start : int
        First index of the slice in the encoded vector.
    width : int
        Number of encoded dimensions.
    """

    column: str
    kind: SpanKind
    start: int
    width: int

    @property
    def stop(self) -> int:
        """Index one past the end of the slice."""
        return self.start + self.width

    @property
    def slice(self) -> slice:
        """Python slice over the encoded vector."""
        return slice(self.start, self.stop)

    @property
    def is_discrete(self) -> bool:
        """Whether the span is a one-hot block (softmax activation, cross-entropy loss)."""
        return self.kind != "numeric"

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return asdict(self)
