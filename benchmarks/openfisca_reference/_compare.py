#!/usr/bin/env python
"""Compare run.py's R.parquet with `jiuzhu rules batch`'s result.parquet, household by household.

    .venv/bin/python _compare.py --openfisca R.parquet --jiuzhu result.parquet [--show 5]

Both files must list the same households in the same order (both keep the order of
households.parquet). Prints one JSON line per compared column (max |difference|, how
many households differ by more than a fen and by more than 1 yuan), then a summary line
with the eligibility flips (when R.parquet was written with --extra) and the sums, then
up to --show differing households.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pyarrow.parquet as pq

# OpenFisca column → Jiuzhu column
COLUMNS = {
    "topup": "topup",
    "classified": "classified",
    "total": "total_annual",
    "size": "size",
    "working_capacity_index": "working_capacity_index",
    "net_income": "net_income",
    "standard": "standard",
    "assets_within_limit": "assets_within_limit",
    "dibao_eligible": "dibao_eligible",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--openfisca", required=True)
    ap.add_argument("--jiuzhu", required=True)
    ap.add_argument("--show", type=int, default=5)
    a = ap.parse_args()
    o = pq.read_table(a.openfisca)
    j = pq.read_table(a.jiuzhu)
    if not o.column("household_id").equals(j.column("household_id")):
        raise SystemExit("the two files do not list the same households in the same order")

    def values(table, name):
        return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)

    for of_name, jz_name in COLUMNS.items():
        if of_name not in o.column_names or jz_name not in j.column_names:
            continue
        diff = np.abs(values(o, of_name) - values(j, jz_name))
        print(
            json.dumps(
                {
                    "column": of_name,
                    "max_abs_diff": float(np.nanmax(diff)) if len(diff) else 0.0,
                    "over_0_01": int((diff > 0.011).sum()),
                    "over_1": int((diff > 1).sum()),
                }
            )
        )
    total_diff = np.abs(values(o, "total") - values(j, "total_annual"))
    summary = {
        "households": o.num_rows,
        "total_over_1": int((total_diff > 1).sum()),
        "sum_openfisca": round(float(np.nansum(values(o, "total"))), 2),
        "sum_jiuzhu": round(float(values(j, "total_annual").sum()), 2),
    }
    if "dibao_eligible" in o.column_names:
        flips = values(o, "dibao_eligible") != values(j, "dibao_eligible")
        summary["eligibility_flips"] = int(flips.sum())
    print(json.dumps(summary))
    ids = o.column("household_id").to_pylist()
    shown = [
        c
        for c in (
            "topup",
            "classified",
            "total_annual",
            "net_income",
            "per_capita_net_income",
            "dibao_eligible",
            "gradual_exit",
            "standard",
        )
        if c in j.column_names
    ]
    for i in np.flatnonzero(total_diff > 0.011)[: a.show]:
        print(
            json.dumps(
                {
                    "household_id": ids[i],
                    "openfisca": {c: o.column(c)[i].as_py() for c in o.column_names[1:]},
                    "jiuzhu": {c: j.column(c)[i].as_py() for c in shown},
                }
            )
        )


if __name__ == "__main__":
    main()
