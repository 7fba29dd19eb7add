"""Tabular encoding: DataFrame <-> float32 matrix described by spans."""

from fairlatent.encoding.encoder import TabularEncoder
from fairlatent.encoding.spans import Span, SpanKind

__all__ = ["Span", "SpanKind", "TabularEncoder"]
