"""Read CSV and Parquet files into DataFrames with clear errors for bad files."""

from __future__ import annotations

import csv
import gzip
import logging
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from fairlatent.exceptions import DataError

logger = logging.getLogger(__name__)

#: Tokens read as missing values in feature and target columns (in addition to empty fields and
#: pandas' own list, :data:`PANDAS_NA_TOKENS`). Sensitive columns read only empty fields as missing.
NA_TOKENS: tuple[str, ...] = ("?", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none")
#: pandas' default missing-value tokens (read_csv's ``keep_default_na`` list), also missing in
#: feature and target columns.
PANDAS_NA_TOKENS: tuple[str, ...] = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)
#: Every token read as missing outside the sensitive columns.
MISSING_TOKENS: tuple[str, ...] = tuple(sorted({*NA_TOKENS, *PANDAS_NA_TOKENS}))
PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 64 * 1024


def read_table(path: str | Path, *, literal_columns: Collection[str] = ()) -> pd.DataFrame:
    r"""Read a CSV (optionally gzip-compressed) or Parquet file.

    The CSV delimiter is sniffed among ``, ; TAB |``; quoted fields are honoured; the tokens in
    :data:`NA_TOKENS` (and pandas' own, :data:`PANDAS_NA_TOKENS`) become missing values;
    whitespace around text values and names is stripped; bytes values are decoded as UTF-8
    (undecodable bytes written as ``\xNN``). In the ``literal_columns`` (the sensitive
    attributes) only empty fields are missing: ``NA`` or ``None`` there is a real group, and the
    text is kept exactly (the schema strips whitespace and says when that joins two values),
    unless every other value is a number: then the column is numeric and the tokens missing.

    Parameters
    ----------
    path : str or Path
        File to read.
    literal_columns : collection of str, optional
        Columns (by stripped name) whose text is kept as written, save empty fields.

    Returns
    -------
    DataFrame
        At least one row and one column.

    Raises
    ------
    DataError
        Missing, empty, unreadable or malformed file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("age; job ;income\n31;clerk ;<=50K\n45;?;>50K\n")
    >>> read_table(path)
       age    job income
    0   31  clerk  <=50K
    1   45   <NA>   >50K
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"input file not found: {path}; check the path")
    if path.is_dir():
        raise DataError(f"input path {path} is a directory; pass a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"input file {path} is empty; pass a file with a header row and data rows")
    literal = {str(c).strip() for c in literal_columns}
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    else:
        frame = _read_csv(path, literal)
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"input file {path} has no data rows; it needs a header row and data rows")
    return _tidy(frame, path, literal)


def data_stem(path: str | Path) -> str:
    """File name without data suffixes: ``examples/adult.csv.gz`` -> ``adult``."""
    name = Path(path).name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "data"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise DataError(
            "reading Parquet needs pyarrow: pip install 'fairlatent[parquet]'"
        ) from None
    except Exception as err:  # pyarrow raises many unrelated types
        raise DataError(
            f"cannot read Parquet file {path} ({_first_line(err)}); check the file"
        ) from None


def _read_csv(path: Path, literal: Collection[str] = ()) -> pd.DataFrame:
    compressed = path.suffix.lower() == ".gz"
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            sample = handle.read(_SNIFF_BYTES)
    except (UnicodeDecodeError, OSError, EOFError) as err:
        raise DataError(
            f"cannot read {path} as UTF-8 text ({_first_line(err)}); save it as UTF-8 CSV"
        ) from None
    if not sample.strip():
        raise DataError(f"input file {path} is empty; pass a file with a header row and data rows")
    delimiter = _sniff_delimiter(sample)
    header = next(
        csv.reader([sample.splitlines()[0]], delimiter=delimiter, skipinitialspace=True), []
    )
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        raise DataError(
            f"column name {repeated[0]!r} appears twice in {path}; give every column a unique name"
        )
    missing = list(MISSING_TOKENS)
    raw_literal = [h for h in header if h.strip() in literal]
    na_values: list[str] | dict[str, list[str]] = missing
    if raw_literal:
        na_values = {h: [""] if h in raw_literal else missing for h in header}
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            na_values=na_values,
            keep_default_na=False,
            dtype=dict.fromkeys(raw_literal, "string") or None,
            skipinitialspace=True,
            compression="gzip" if compressed else None,
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"input file {path} is empty; pass a file with a header row and data rows"
        ) from None
    except pd.errors.ParserError as err:
        raise DataError(
            f"malformed CSV {path}: {_first_line(err)}; fix the row or its quoting"
        ) from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"cannot read {path} as UTF-8 text ({_first_line(err)}); save it as UTF-8 CSV"
        ) from None


def _sniff_delimiter(sample: str) -> str:
    lines = sample.splitlines()
    head = "\n".join(lines[: min(len(lines), 50)])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _tidy(frame: pd.DataFrame, path: Path, literal: Collection[str] = ()) -> pd.DataFrame:
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(map(str, c)).strip() for c in frame.columns]
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if unnamed and frame[unnamed].isna().all().all():
        frame = frame.drop(columns=unnamed)
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise DataError(
            f"column name {duplicated[0]!r} appears twice in {path}; give every column a unique name"
        )
    for column in frame.columns:
        series = frame[column]
        if series.dtype == object and series.map(lambda v: isinstance(v, bytes)).any():
            series = series.map(_decoded)
        if column in literal:
            frame[column] = _literal(series)
        elif pd.api.types.is_string_dtype(series) or series.dtype == object:
            stripped = series.astype("string").str.strip()
            frame[column] = stripped.where(~stripped.isin(MISSING_TOKENS), pd.NA)
    return frame


def _literal(series: pd.Series) -> pd.Series:
    """Read a sensitive column: numbers if all values but missing tokens are, else literal text.

    ``age`` with ``NA`` holes stays numeric; text is kept as written (empty -> missing).
    """
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series
    text = series.astype("string")
    text = text.mask(text.str.strip() == "", pd.NA)
    tokens = text.str.strip().isin(MISSING_TOKENS).fillna(False)
    numbers = pd.to_numeric(text.where(~tokens), errors="coerce")
    if numbers.notna().any() and bool((numbers.notna() | text.isna() | tokens).all()):
        return numbers
    return text


def _decoded(value: object) -> object:
    r"""Decode bytes as UTF-8 text (undecodable bytes as ``\xNN``); other values unchanged."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return value


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
