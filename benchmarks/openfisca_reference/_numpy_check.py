#!/usr/bin/env python
"""Check run.py's output against a plain float64 NumPy implementation of the same rules.

    .venv/bin/python _numpy_check.py --households H.parquet --members M.parquet \
        --params P.json --result R.parquet

Independent of OpenFisca (same reading conventions as run.py). Prints one JSON line:
households compared, how many differ by more than 1 yuan, how many of those are
eligibility flips at the boundary (per-capita net income within 0.01 yuan of the
standard in float64), and the largest difference otherwise. A development aid, not
part of the timed benchmark.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from run import DEDUCTIONS, income_rules


def col(t: pa.Table, name: str, default: float = 0.0) -> np.ndarray:
    if name not in t.column_names:
        return np.full(t.num_rows, default)
    return pc.fill_null(t.column(name).cast(pa.float64()), default).to_numpy()


def completed_years(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    def ymd(d):
        y = d.astype("datetime64[Y]").astype(int) + 1970
        m = d.astype("datetime64[M]").astype(int) % 12 + 1
        day = (d - d.astype("datetime64[M]")).astype(int) + 1
        return y, m, day

    by, bm, bd = ymd(birth)
    oy, om, od = ymd(on)
    return oy - by - ((om < bm) | ((om == bm) & (od < bd)))


def half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x * 100 + 0.5 + 1e-9) / 100


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", required=True)
    ap.add_argument("--members", required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--show", type=int, default=5, help="print this many differing households")
    a = ap.parse_args()
    with open(a.params, encoding="utf-8") as f:
        params = json.load(f)
    h = pq.read_table(a.households)
    m = pq.read_table(a.members)
    n = h.num_rows

    county = np.array([r[:6] for r in h.column("region").to_pylist()])
    rules = {c: income_rules(params, c) for c in set(county.tolist())}
    excluded = [rules[c][0] for c in county]
    deductible = [rules[c][1] for c in county]
    income = np.zeros(n)
    necessary = np.zeros(n)
    for c in h.column_names:
        if c.startswith("income_"):
            income += col(h, c) * np.array([c[7:] not in e for e in excluded])
        elif c.startswith("expense_") and c[8:] in DEDUCTIONS:
            income -= col(h, c)
        elif c.startswith("expense_"):
            necessary += col(h, c) * np.array([c[8:] in d for d in deductible])
    income -= col(h, "income_wage") * np.array([rules[c][2] for c in county])
    urban = np.array(h.column("area_type").to_pylist()) == "urban"
    cp = params["counties"]

    def per_county(fn):
        lut = {c: fn(v) for c, v in cp.items()}
        return np.array([lut[c] for c in county], dtype=np.float64)

    standard = np.where(
        urban, per_county(lambda v: v["standard"]["urban"]), per_county(lambda v: v["standard"]["rural"])
    )
    minimum = per_county(lambda v: v["minimum_amount"])
    big_m = per_county(lambda v: v["adjustment_index"])

    idx = pc.index_in(m.column("household_id"), value_set=h.column("household_id").combine_chunks())
    idx = idx.to_numpy().astype(np.int64)
    on = h.column("date").to_numpy().astype("datetime64[D]")[idx]
    age = completed_years(m.column("birth_date").to_numpy().astype("datetime64[D]"), on)
    grade = col(m, "disability_grade")
    given = col(m, "health_coefficient", -1.0)
    health = np.where(given >= 0, given, np.where(grade == 0, 1.0, (grade - 1) / 10))
    age_c = np.select([age < 18, age < 60, age < 65, age < 70], [0.0, 1.0, 0.6, 0.2], 0.0)
    sex_c = np.where(np.array(m.column("sex").to_pylist()) == "male", 1.0, 0.8)
    counted = (
        pc.fill_null(m.column("counted"), True).to_numpy(zero_copy_only=False)
        if "counted" in m.column_names
        else np.ones(m.num_rows, bool)
    )
    size = np.bincount(idx, weights=counted, minlength=n)
    wci = np.bincount(idx, weights=health * age_c * sex_c * counted, minlength=n)
    big_l = np.where(size > 0, wci / np.maximum(size, 1), 0.0)
    imputed = col(m, "imputed_monthly_reference") * col(m, "imputed_months") * counted
    base = np.bincount(idx, weights=imputed, minlength=n)
    net = np.maximum(0.0, income + base * big_l - necessary)
    pc_net = net / np.maximum(size, 1)
    assets_ok = (
        (
            col(h, "assets_financial") / np.maximum(size, 1)
            <= per_county(lambda v: v["financial_limit_years"]) * standard
        )
        & (col(h, "homes") <= per_county(lambda v: v["max_homes"]))
        & (col(h, "vehicle_value") <= per_county(lambda v: v["vehicle_cap"]))
    )
    eligible = assets_ok & (size > 0) & (pc_net < standard)
    refused = np.zeros(m.num_rows, bool)
    if "refused_work" in m.column_names:
        refused = pc.fill_null(m.column("refused_work"), False).to_numpy(zero_copy_only=False)
    n_refused = np.bincount(idx, weights=refused & counted, minlength=n)
    withheld = np.where(
        n_refused > 0, n_refused / np.maximum(size, 1) * params.get("refused_work_share_reduction", 1.0), 0
    )
    exit_months = params.get("gradual_exit_months", 0)
    exiting = np.zeros(n, bool)
    if "employment_started" in h.column_names and exit_months > 0:
        start = h.column("employment_started").to_pylist()
        on_dates = h.column("date").to_pylist()
        since = np.array(
            [
                np.inf if s is None else (d.year - s.year) * 12 + d.month - s.month - (d.day < s.day)
                for s, d in zip(start, on_dates, strict=True)
            ]
        )
        exiting = ~eligible & assets_ok & (col(h, "previous_topup") > 0) & (since < exit_months)
    gap = np.where(eligible, np.maximum(0.0, (standard - pc_net) * size), 0.0)
    gap = np.where((gap > 0) & (gap < minimum), minimum, gap) * (1 - withheld)
    topup = half_up(np.where(exiting, col(h, "previous_topup"), gap))
    classified = np.where(eligible, half_up(standard * (1 - big_l) * big_m * size * (1 - withheld)), 0.0)
    total = topup + classified

    r = pq.read_table(a.result)
    assert r.column("household_id").equals(h.column("household_id")), "row order differs"
    r_total = r.column("total").to_numpy()
    diff = np.abs(r_total - total)
    bad = diff > 1.0
    boundary = np.abs(pc_net - standard) < 0.01
    flips = bad & boundary
    others = bad & ~boundary
    report = {
        "households": n,
        "eligible_float64": int(eligible.sum()),
        "sum_total_float64": round(float(total.sum()), 2),
        "sum_total_result": round(float(np.nansum(r_total)), 2),
        "differ_over_1_yuan": int(bad.sum()),
        "boundary_flips": int(flips.sum()),
        "other_differences": int(others.sum()),
        "max_abs_diff_non_flip": float(diff[~flips].max()) if n else 0.0,
        "differ_over_0_01": int((diff > 0.011).sum()),
    }
    print(json.dumps(report))
    ids = np.array(h.column("household_id").to_pylist())
    for i in np.flatnonzero(bad)[: a.show]:
        print(
            json.dumps(
                {
                    "household_id": ids[i],
                    "expected_total": total[i],
                    "result_total": r_total[i],
                    "per_capita_net_income": pc_net[i],
                    "standard": standard[i],
                    "size": int(size[i]),
                    "L": big_l[i],
                }
            )
        )


if __name__ == "__main__":
    main()
