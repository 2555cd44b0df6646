"""The explained scalar path and the vectorised batch path agree to the fen.

Hypothesis draws households, members, incomes and parameter values; the same cases go
through `evaluate` one by one (JSON) and through `run_batch` from Parquet, and every
output field must be identical. The gap top-up is also checked against exact decimals.
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.rules.batch import run_batch
from jiuzhu.rules.engine import OUTPUT_FIELDS
from jiuzhu.rules.evaluate import evaluate
from jiuzhu.rules.parameters import DatedValue, ParameterTree, default_tree
from tests.rules.tabular import write_tables

REGIONS = ("220882", "511703", "150102", "320582", "220882100201")
money = st.decimals(min_value=0, max_value=60000, places=2).map(float)


@st.composite
def members(draw: st.DrawFn, date: dt.date) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        age_days = draw(st.integers(0, 95 * 365))
        member: dict[str, Any] = {"id": f"m{i}", "sex": draw(st.sampled_from(["male", "female"])),
                                  "birth_date": (date - dt.timedelta(days=age_days)).isoformat()}
        if draw(st.booleans()):
            member["disability_grade"] = draw(st.integers(1, 10))
        if draw(st.integers(0, 5)) == 0:
            member["health_coefficient"] = draw(st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3)))
        member["categories"] = draw(st.lists(st.sampled_from(["serious_illness", "single_parent", "student"]),
                                             max_size=2, unique=True))
        if draw(st.integers(0, 8)) == 0:
            member["refused_work"] = True
        if i > 0 and draw(st.integers(0, 10)) == 0:
            member["not_counted_reason"] = "prison"
        out.append(member)
    return out


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    date = draw(st.dates(dt.date(2018, 7, 1), dt.date(2025, 12, 31)))
    people = draw(members(date))
    ids = [m["id"] for m in people]
    income = [{"kind": draw(st.sampled_from(["wage", "business", "land_transfer", "pension", "scholarship",
                                             "central_basic_pension", "gift"])), "amount": draw(money)}
              for _ in range(draw(st.integers(0, 4)))]
    # Wages earned by named members or by nobody named (one earner): the earners count
    # where employment costs are taken of the minimum wage.
    for _ in range(draw(st.integers(0, 3))):
        wage: dict[str, Any] = {"kind": "wage", "amount": draw(money)}
        if draw(st.booleans()):
            wage["member"] = draw(st.sampled_from(ids))
        income.append(wage)
    for member in draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)):
        income.append({"kind": "imputed_wage", "member": member,
                       "monthly_reference": draw(st.sampled_from([1500, 2000, 2333.33])),
                       "months": draw(st.integers(0, 12))})
    expenses = [{"kind": draw(st.sampled_from(["medical_out_of_pocket", "special_needs", "education", "tax"])),
                 "amount": draw(money)} for _ in range(draw(st.integers(0, 2)))]
    assets = [{"kind": "deposit", "value": draw(money)}] if draw(st.booleans()) else []
    if draw(st.integers(0, 6)) == 0:
        assets.append({"kind": "vehicle", "value": draw(money)})
    return {"region": draw(st.sampled_from(REGIONS)), "date": date.isoformat(),
            "area_type": draw(st.sampled_from(["urban", "rural"])),
            "household": {"id": "x", "members": people, "income": income, "expenses": expenses, "assets": assets}}


@st.composite
def trees(draw: st.DrawFn) -> ParameterTree:
    """The shipped tree with Da'an's values replaced by drawn ones (from 2018-07-01)."""
    tree = copy.deepcopy(default_tree())
    since = dt.date(2018, 7, 1)

    def put(name: str, value: Any) -> None:
        tree.values.setdefault(name, {})["220882"] = [DatedValue(since, value, "drawn by the test")]

    put("dibao.standard.rural", float(draw(st.decimals(1000, 15000, places=2))))
    put("dibao.standard.urban", float(draw(st.decimals(1000, 15000, places=2))))
    put("dibao.minimum_amount", float(draw(st.sampled_from([0, 120, 360.5]))))
    put("classified.method", draw(st.sampled_from(["none", "category_increments", "working_capacity"])))
    put("classified.adjustment_index", draw(st.sampled_from([0.25, 0.4, 0.333])))
    put("income.imputation.working_capacity_basis", draw(st.sampled_from(["none", "household", "individual"])))
    put("assets.financial_per_capita_limit_years", float(draw(st.integers(1, 3))))
    # Employment costs for every region at once (national values from the same day), so
    # that most drawn households meet the basis drawn.
    for name, value in (("income.employment_cost_rate", draw(st.sampled_from([0.0, 0.1, 0.15]))),
                        ("income.employment_cost_basis", draw(st.sampled_from(["earnings", "minimum_wage"]))),
                        ("income.minimum_wage_monthly", draw(st.sampled_from([1320.0, 1780.0])))):
        national = tree.values.setdefault(name, {}).setdefault("national", [])
        national[:] = [v for v in national if v.start < since] + [DatedValue(since, value, "drawn by the test")]
    return tree


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cases(), min_size=1, max_size=12), trees())
def test_batch_equals_evaluate_to_the_fen(drawn: list[dict[str, Any]], tree: ParameterTree) -> None:
    scalar = [evaluate(case, tree=tree, with_trace=False) for case in drawn]
    with tempfile.TemporaryDirectory() as folder:
        h, m = write_tables(drawn, Path(folder))
        run_batch(h, m, Path(folder) / "out.parquet", tree=tree, chunk_rows=5)
        rows = pq.read_table(Path(folder) / "out.parquet").to_pylist()
    assert len(rows) == len(scalar)
    for one, row in zip(scalar, rows, strict=True):
        for name in OUTPUT_FIELDS:
            assert row[name] == one[name], (name, row, one)


def _half_up(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=200, deadline=None)
@given(st.decimals(1000, 15000, places=2), st.lists(money, min_size=1, max_size=4), st.integers(1, 6))
def test_gap_topup_matches_exact_decimals(standard: Decimal, incomes: list[float], size: int) -> None:
    people = [{"id": f"m{i}", "sex": "male", "birth_date": "1950-01-01"} for i in range(size)]
    case = {"region": "220882", "date": "2019-06-30", "area_type": "rural",
            "parameters": {"dibao.standard": float(standard), "classified.method": "none",
                           "assets.financial_per_capita_limit_years": 1},
            "household": {"members": people, "income": [{"kind": "wage", "amount": a} for a in incomes]}}
    result = evaluate(case, with_trace=False)
    net = sum(Decimal(str(a)) for a in incomes)
    expected = _half_up(max(Decimal(0), (standard - net / size) * size)) if net / size < standard else Decimal(0)
    assert Decimal(str(result["topup"])) == expected
    assert Decimal(str(result["total_monthly"])) == _half_up(expected / 12)
