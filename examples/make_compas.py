"""Rebuild ``compas_scores.csv.gz`` from ProPublica's ``compas-scores-two-years.csv`` (see README.md).

Usage: ``python examples/make_compas.py PATH/compas-scores-two-years.csv``
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "priors_count",
           "c_charge_degree", "decile_score", "score_text", "two_year_recid"]


def main(raw_path: str) -> None:
    raw = pd.read_csv(raw_path)
    kept = raw[
        raw["days_b_screening_arrest"].between(-30, 30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
    ]  # ProPublica's filter (Compas Analysis.ipynb)
    out = Path(__file__).with_name("compas_scores.csv.gz")
    kept[COLUMNS].reset_index(drop=True).to_csv(out, index=False, compression={"method": "gzip", "mtime": 0})
    sys.stdout.write(f"{out}: {len(kept)} rows\n")


if __name__ == "__main__":
    main(sys.argv[1])
