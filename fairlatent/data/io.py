"""Read CSV and Parquet files into DataFrames with clear errors for bad files."""

from __future__ import annotations

import csv
import gzip
import logging
from pathlib import Path

import pandas as pd

from fairlatent.exceptions import DataError

logger = logging.getLogger(__name__)

#: Tokens read as missing values (in addition to empty fields).
NA_TOKENS: tuple[str, ...] = ("?", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none")
PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 64 * 1024


def read_table(path: str | Path) -> pd.DataFrame:
    r"""Read a CSV (optionally gzip-compressed) or Parquet file.

    The CSV delimiter is sniffed among ``, ; TAB |``; quoted fields are honoured; the tokens in
    :data:`NA_TOKENS` become missing values; whitespace around text values and names is stripped.

    Parameters
    ----------
    path : str or Path
        File to read.

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
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    else:
        frame = _read_csv(path)
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"input file {path} has no data rows; it needs a header row and data rows")
    return _tidy(frame, path)


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


def _read_csv(path: Path) -> pd.DataFrame:
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
    header = next(csv.reader([sample.splitlines()[0]], delimiter=delimiter), [])
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        raise DataError(
            f"column name {repeated[0]!r} appears twice in {path}; give every column a unique name"
        )
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            na_values=list(NA_TOKENS),
            keep_default_na=True,
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


def _tidy(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
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
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            stripped = series.astype("string").str.strip()
            frame[column] = stripped.where(~stripped.isin(NA_TOKENS), pd.NA)
    return frame


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
