import gzip

import pandas as pd
import pytest

from fairlatent.data.io import data_stem, read_table
from fairlatent.exceptions import DataError


def test_reads_semicolon_csv_with_quotes_and_na_tokens(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('name;city;n\n"Smith; J";north;1\nLee; ? ;2\nKim;;?\n', encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["name", "city", "n"]
    assert frame.loc[0, "name"] == "Smith; J"
    assert frame["city"].isna().sum() == 2
    assert frame["n"].isna().sum() == 1


def test_strips_whitespace_in_names_and_values(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(" a , b \n x , 1\n y , 2\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["a", "b"]
    assert list(frame["a"]) == ["x", "y"]


def test_reads_gzip_and_parquet(tmp_path, biased_frame):
    gz = tmp_path / "d.csv.gz"
    with gzip.open(gz, "wt") as handle:
        biased_frame.to_csv(handle, index=False)
    assert read_table(gz).shape == biased_frame.shape
    pq = tmp_path / "d.parquet"
    biased_frame.to_parquet(pq)
    back = read_table(pq)
    assert back.shape == biased_frame.shape
    pd.testing.assert_series_equal(back["age"], biased_frame["age"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("   \n\n", "is empty"),
        ("a,b,c\n", "no data rows"),
        ('a,b\n1,"unterminated\n2,3\n', "malformed CSV"),
        ("a,b\n1,2\n3,4,5,6\n", "malformed CSV"),
        ("a,a\n1,2\n", "appears twice"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_table(tmp_path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\ncafé,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        read_table(path)


def test_data_stem():
    assert data_stem("examples/adult.csv.gz") == "adult"
    assert data_stem("x/bank.parquet") == "bank"


def test_sensitive_columns_keep_na_tokens_as_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("race,age,x\nNA,NA,1\nNone,31,None\n,40,?\nwhite ,NA,2\n")
    frame = read_table(path, literal_columns=["race", "age"])
    assert frame["race"].tolist()[:2] == ["NA", "None"] and pd.isna(frame["race"][2])
    assert frame["race"][3] == "white "  # kept as written; the schema strips and says so
    assert frame["age"].isna().tolist() == [True, False, False, True]  # numeric: tokens missing
    assert frame["x"].isna().tolist() == [False, True, True, False]
    plain = read_table(path)
    assert plain["race"].isna().tolist() == [True, True, True, False]
