"""Reading data and preparing it for the audit."""

from fairlatent.data.io import NA_TOKENS, read_table
from fairlatent.data.kinds import infer_kind, is_numeric
from fairlatent.data.schema import GROUP_COLUMN, PreparedData, Schema, prepare

__all__ = [
    "GROUP_COLUMN",
    "NA_TOKENS",
    "PreparedData",
    "Schema",
    "infer_kind",
    "is_numeric",
    "prepare",
    "read_table",
]
