#!/usr/bin/env python
"""Tiny synthetic data for testing run.py (the benchmark itself uses the project's generator).

    python _devdata.py --households 1000 --out /tmp/of1k [--seed 1]

writes households.parquet, members.parquet and params.json in --out. Household sizes
1–6 with p = .10/.22/.35/.20/.10/.03. Household "H0" is the DOMAIN.md §13 case (Da'an,
rural, M = 0.25): head male 35 grade 5, spouse female 33 with 2000 × 3 imputed,
child 10, land transfer 3200 → topup 5200, classified 1620.
Needs numpy and pyarrow only (the reference .venv has both).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATE = "2018-07-01"
COUNTIES = {
    "220882": {
        "standard": {"urban": 5760, "rural": 3600},
        "minimum_amount": 0,
        "adjustment_index": 0.25,
        "financial_limit_years": 1,
        "max_homes": 1,
        "vehicle_cap": 30000,
    },
    "320582": {
        "standard": {"urban": 9600, "rural": 9600},
        "minimum_amount": 120,
        "adjustment_index": 0.2,
        "financial_limit_years": 2,
        "max_homes": 1,
        "vehicle_cap": 50000,
    },
    "511702": {
        "standard": {"urban": 6360, "rural": 4200},
        "minimum_amount": 60,
        "adjustment_index": 0.3,
        "financial_limit_years": 2,
        "max_homes": 2,
        "vehicle_cap": 40000,
    },
}


def generate(n: int, seed: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice(np.arange(1, 7), size=n, p=[0.10, 0.22, 0.35, 0.20, 0.10, 0.03])
    sizes[0] = 3
    codes = np.array(list(COUNTIES))
    county = codes[rng.integers(0, len(codes), n)]
    county[0] = "220882"
    rural = rng.random(n) < 0.6
    rural[0] = True
    std = np.array([COUNTIES[c]["standard"]["rural" if r else "urban"] for c, r in zip(county, rural, strict=True)])
    # Incomes around the standard, in whole hundreds (so that boundary cases occur).
    per_capita = rng.uniform(0.0, 1.6, n) * std
    income_total = np.round(per_capita * sizes, -2)
    wage_share = rng.random(n)
    income_wage = np.round(income_total * wage_share, -2)
    income_land = income_total - income_wage
    income_scholarship = np.where(rng.random(n) < 0.05, 1000.0, 0.0)  # excluded kind
    expense_tax = np.where(rng.random(n) < 0.05, 100.0, 0.0)
    medical = np.where(rng.random(n) < 0.2, np.round(rng.uniform(0, 5000, n), -1), 0.0)
    special = np.where(rng.random(n) < 0.1, 600.0, 0.0)
    assets = np.round(rng.exponential(0.6, n) * std, -2)
    homes = rng.choice([0, 1, 2], size=n, p=[0.2, 0.75, 0.05]).astype(np.int32)
    vehicles = np.where(rng.random(n) < 0.05, 45000.0, 0.0)
    income_wage[0], income_land[0], income_scholarship[0], expense_tax[0] = 0, 3200, 0, 0
    medical[0], special[0], assets[0], homes[0], vehicles[0] = 0, 0, 1500, 1, 0
    ids = np.char.add("H", np.arange(n).astype(str))
    households = pa.table(
        {
            "household_id": pa.array(ids),
            "region": pa.array(county),
            "date": pa.array(np.full(n, np.datetime64(DATE, "D"))),
            "area_type": pa.array(np.where(rural, "rural", "urban")),
            "income_wage": income_wage,
            "income_land_transfer": income_land,
            "income_scholarship": income_scholarship,
            "expense_tax": expense_tax,
            "expense_medical_out_of_pocket": medical,
            "expense_special_needs": special,
            "assets_financial": assets,
            "homes": pa.array(homes, pa.int32()),
            "vehicle_value": vehicles,
        }
    )

    p = int(sizes.sum())
    hh = np.repeat(np.arange(n), sizes)
    rank = np.arange(p) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    age_days = rng.integers(0, 90 * 365, p)
    birth = np.datetime64(DATE, "D") - age_days
    female = rng.random(p) < 0.5
    grade = np.where(rng.random(p) < 0.08, rng.integers(1, 11, p), 0)
    health = np.where(rng.random(p) < 0.02, np.round(rng.random(p), 2), np.nan)
    counted = rng.random(p) >= 0.02
    works = rng.random(p) < 0.3
    monthly = np.where(works, rng.choice([1200.0, 1500.0, 2000.0], p), 0.0)
    months = np.where(works, rng.integers(1, 13, p).astype(float), 0.0)
    # DOMAIN §13 household H0: persons 0, 1, 2.
    birth[0:3] = np.array(["1983-03-01", "1985-01-01", "2008-01-01"], dtype="datetime64[D]")
    female[0:3] = [False, True, True]
    grade[0:3] = [5, 0, 0]
    health[0:3] = np.nan
    counted[0:3] = True
    monthly[0:3] = [0, 2000, 0]
    months[0:3] = [0, 3, 0]
    members = pa.table(
        {
            "household_id": pa.array(ids[hh]),
            "member_id": pa.array(np.char.add("m", (rank + 1).astype(str))),
            "sex": pa.array(np.where(female, "female", "male")),
            "birth_date": pa.array(birth),
            "disability_grade": pa.array(grade.astype(np.int8), pa.int8(), mask=grade == 0),
            "health_coefficient": pa.array(health, pa.float64(), from_pandas=True),
            "counted": pa.array(counted),
            "imputed_monthly_reference": monthly,
            "imputed_months": months,
        }
    )
    return households, members


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=1000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    households, members = generate(a.households, a.seed)
    pq.write_table(households, os.path.join(a.out, "households.parquet"))
    pq.write_table(members, os.path.join(a.out, "members.parquet"))
    with open(os.path.join(a.out, "params.json"), "w", encoding="utf-8") as f:
        json.dump({"date": DATE, "counties": COUNTIES}, f, indent=1)
    print(f"{households.num_rows} households, {members.num_rows} persons → {a.out}")


if __name__ == "__main__":
    main()
