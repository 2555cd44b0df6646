"""Turning JSON cases into the Parquet tables of `rules batch` (docs/batch_schema.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jiuzhu.rules.vocabulary import EXEMPT_ASSET_KINDS, FINANCIAL_ASSET_KINDS


def to_tables(cases: list[dict[str, Any]]) -> tuple[pa.Table, pa.Table]:
    households: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for i, case in enumerate(cases):
        h = case["household"]
        counted = {m["id"] for m in h["members"] if m.get("counted", True) and not m.get("not_counted_reason")}
        row: dict[str, Any] = {"household_id": f"H{i:06d}", "region": case["region"],
                               "date": dt.date.fromisoformat(case["date"]), "area_type": case["area_type"],
                               "assets_financial": 0.0, "homes": 0, "vehicle_value": 0.0}
        imputed: dict[str, tuple[float, float]] = {}
        earners: set[str] = set()
        for item in h.get("income", []):
            if item.get("member") and item["member"] not in counted:
                continue
            if item["kind"] == "imputed_wage":
                monthly, months = imputed.get(item["member"], (0.0, 0.0))
                assert months == 0, "one imputed item per member in tabular form"
                imputed[item["member"]] = (item["monthly_reference"], item["months"])
            else:
                key = f"income_{item['kind']}"
                row[key] = row.get(key, 0.0) + item["amount"]
                if item["kind"] == "wage" and item["amount"] > 0:  # earners as `rules evaluate` counts them
                    earners.add(item.get("member") or "")
        row["wage_earners"] = len(earners)
        for item in h.get("expenses", []):
            key = f"expense_{item['kind']}"
            row[key] = row.get(key, 0.0) + item["amount"]
        for item in h.get("assets", []):
            if item.get("exempt") or item["kind"] in EXEMPT_ASSET_KINDS:
                continue
            if item["kind"] in FINANCIAL_ASSET_KINDS:
                row["assets_financial"] += item["value"]
            elif item["kind"] == "home":
                row["homes"] += item.get("count", 1)
            elif item["kind"] == "vehicle":
                row["vehicle_value"] += item["value"]
        households.append(row)
        for m in h["members"]:
            monthly, months = imputed.get(m["id"], (0.0, 0.0))
            members.append({
                "household_id": row["household_id"], "member_id": m["id"], "sex": m["sex"],
                "birth_date": dt.date.fromisoformat(m["birth_date"]),
                "disability_grade": m.get("disability_grade"), "health_coefficient": m.get("health_coefficient"),
                "categories": ",".join(m.get("categories", [])), "counted": m["id"] in counted,
                "imputed_monthly_reference": monthly, "imputed_months": months,
                "refused_work": bool(m.get("refused_work", False)),
            })
    keys = sorted({k for r in households for k in r})
    h_table = pa.table({k: [r.get(k, 0.0 if k.startswith(("income_", "expense_")) else None) for r in households]
                        for k in keys})
    m_table = pa.Table.from_pylist(members, schema=pa.schema([
        ("household_id", pa.string()), ("member_id", pa.string()), ("sex", pa.string()),
        ("birth_date", pa.date32()), ("disability_grade", pa.int8()), ("health_coefficient", pa.float64()),
        ("categories", pa.string()), ("counted", pa.bool_()), ("imputed_monthly_reference", pa.float64()),
        ("imputed_months", pa.float64()), ("refused_work", pa.bool_())]))
    return h_table, m_table


def write_tables(cases: list[dict[str, Any]], folder: Path) -> tuple[Path, Path]:
    h, m = to_tables(cases)
    pq.write_table(h, folder / "households.parquet")
    pq.write_table(m, folder / "members.parquet")
    return folder / "households.parquet", folder / "members.parquet"
