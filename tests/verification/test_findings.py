"""Discrepancies and cross-checks on small hand-built frames, answers worked out in the comments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from jiuzhu.rules.arrays import round_fen as engine_round_fen
from jiuzhu.verification import findings
from jiuzhu.verification.findings import (
    DISCREPANCIES,
    FINDINGS,
    AssetLimits,
    assets_over_limits,
    discovery,
    discrepancies,
    duplicate_enrolment,
    illness_warnings,
    months_before,
    paid_after_death,
    round_fen,
)

FACT = {"household_id": pl.Int64, "record": pl.String, "kind": pl.String, "amount": pl.Float64}
A = "220882100201"
B = "220882101203"


def facts(rows: list[tuple[int, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FACT, orient="row")


def rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return frame.rows()


# --- rounding ------------------------------------------------------------------------------------------


def test_round_fen_is_half_up_like_the_engine() -> None:
    values = [2.675, 1.005, 0.125, 5200.000000000001, 0.0, 1234.5649999, 2.665]
    got = pl.DataFrame({"x": values}).select(round_fen(pl.col("x"))).to_series().to_list()
    # 2.675 is stored as 2.67499999…: Python's round(2.675, 2) gives 2.67, the pencil-and-paper rule 2.68;
    # 1.005 × 100 is 100.49999999999999 in binary, which a plain round() of the fen takes down to 1.00.
    assert got == [2.68, 1.01, 0.13, 5200.0, 0.0, 1234.56, 2.67]
    assert round(2.675, 2) == 2.67
    assert got == engine_round_fen(np.array(values)).tolist()


# --- discrepancies -------------------------------------------------------------------------------------


def test_discrepancies_beyond_the_larger_tolerance_only() -> None:
    declared = facts([
        (1, "income", "wages", 600.0), (1, "income", "wages", 400.0),  # summed: 1000
        (2, "asset", "deposit", 10_000.0),
        (2, "expense", "medical_out_of_pocket", 300.0),
        (3, "income", "pension", 1.005),                                # 100.49999…9 fen: rounds to 1.01
    ])
    verified = facts([
        (1, "income", "wages", 1100.0),       # +100 = max(100, 5% of 1000 = 50): exactly at tolerance, not reported
        (1, "income", "pension", 500.0),      # declared nothing: +500 > 100, relative unknown
        (2, "asset", "deposit", 10_500.01),   # +500.01 > max(100, 500): reported, 500.01 / 10000
        (3, "income", "pension", 101.01),     # 101.01 − 1.01 = 100.00: at tolerance (1.00 would make it 100.01)
    ])                                        # household 2's expense is not verified: −300, reported
    result = discrepancies(declared, verified, absolute_tolerance=100.0, relative_tolerance=0.05)
    assert result.schema == pl.Schema(DISCREPANCIES)
    assert rows(result) == [
        (1, "income", "pension", 0.0, 500.0, 500.0, None),
        (2, "asset", "deposit", 10_000.0, 10_500.01, 500.01, pytest.approx(0.050001)),
        (2, "expense", "medical_out_of_pocket", 300.0, 0.0, -300.0, -1.0),
    ]


def test_relative_tolerance_is_taken_on_the_declared_amount() -> None:
    declared = facts([(1, "asset", "deposit", 50_000.0)])
    # 2% of 50000 = 1000 > 100: a difference of 1000 is tolerated, 1000.01 is not.
    at = discrepancies(declared, facts([(1, "asset", "deposit", 51_000.0)]), absolute_tolerance=100,
                       relative_tolerance=0.02)
    over = discrepancies(declared, facts([(1, "asset", "deposit", 48_999.99)]), absolute_tolerance=100,
                         relative_tolerance=0.02)
    assert at.height == 0
    assert rows(over) == [(1, "asset", "deposit", 50_000.0, 48_999.99, -1000.01, pytest.approx(-0.0200002))]


def test_discrepancies_refuse_bad_input() -> None:
    good = facts([(1, "income", "wages", 1.0)])
    with pytest.raises(ValueError, match=r"verified.record: must be one of income, asset, expense; found salary"):
        discrepancies(good, facts([(1, "salary", "wages", 1.0)]), absolute_tolerance=0, relative_tolerance=0)
    with pytest.raises(ValueError, match=r"declared: missing column\(s\) amount"):
        discrepancies(good.drop("amount"), good, absolute_tolerance=0, relative_tolerance=0)
    with pytest.raises(ValueError, match=r"declared.amount: empty in 1 row\(s\), e.g. row 2"):
        discrepancies(pl.concat([good, facts([(2, "income", "wages", None)])]), good,  # type: ignore[list-item]
                      absolute_tolerance=0, relative_tolerance=0)
    with pytest.raises(ValueError, match=r"verified.amount: not a finite number in 1 row\(s\), e.g. row 1"):
        discrepancies(good, facts([(1, "income", "wages", float("nan"))]), absolute_tolerance=0, relative_tolerance=0)
    with pytest.raises(ValueError, match="may not be negative"):
        discrepancies(good, good, absolute_tolerance=-1, relative_tolerance=0)


# --- duplicate enrolment -------------------------------------------------------------------------------


def test_duplicate_enrolment_finds_households_areas_and_exclusive_programmes() -> None:
    enrolments = pl.DataFrame([
        (1, 10, A, "dibao"), (1, 11, A, "dibao"),    # person 1: two households, one area
        (2, 20, A, "dibao"), (2, 21, B, "dibao"),    # person 2: two areas (so two households too)
        (3, 30, A, "dibao"), (3, 30, A, "tekun"),    # person 3: dibao and tekun in one household
        (4, 40, A, "dibao"), (4, 40, A, "dibao"),    # person 4: the same enrolment listed twice — fine
        (5, 50, A, "dibao"), (5, 50, A, "temporary"),  # person 5: two programmes that may go together
    ], schema={"person_id": pl.Int64, "household_id": pl.Int64, "area_code": pl.String, "programme": pl.String},
        orient="row")
    result = duplicate_enrolment(enrolments, [("tekun", "dibao")])
    assert result.schema == pl.Schema(FINDINGS)
    assert rows(result) == [
        ("duplicate_household", 10, 1, "households=10,11", None),
        ("duplicate_household", 11, 1, "households=10,11", None),
        ("duplicate_area", 20, 2, f"areas={A},{B};households=20,21", None),
        ("duplicate_area", 21, 2, f"areas={A},{B};households=20,21", None),
        ("exclusive_programmes", 30, 3, "programmes=dibao,tekun;households=30", None),
    ]
    assert duplicate_enrolment(enrolments, []).filter(pl.col("check") == "exclusive_programmes").height == 0


# --- paid after death ----------------------------------------------------------------------------------


def test_paid_after_death_counts_the_months_after_the_month_of_death() -> None:
    june = dt.date(2025, 6, 30)
    enrolments = pl.DataFrame([
        (1, "dibao", 11, june, 400.0), (1, "dibao", 12, june, 400.0),
        (2, "tekun", 21, june, 650.5), (3, "dibao", 31, june, 400.0),
    ], schema={"household_id": pl.Int64, "programme": pl.String, "person_id": pl.Int64, "paid_until": pl.Date,
               "monthly_amount": pl.Float64}, orient="row")
    deaths = pl.DataFrame([
        (11, dt.date(2025, 3, 10)), (11, dt.date(2025, 4, 2)),  # listed twice: the earlier date counts
        (21, dt.date(2025, 6, 15)),                             # died in June, paid until 30 June: 0 months
        (31, dt.date(2025, 7, 1)),                              # died after the paid period: nothing
    ], schema={"person_id": pl.Int64, "death_date": pl.Date}, orient="row")
    result = paid_after_death(enrolments, deaths)
    assert rows(result) == [
        # April, May, June after a death in March: 3 × 400
        ("paid_after_death", 1, 11, "programme=dibao;death_date=2025-03-10;paid_until=2025-06-30;months=3", 1200.0),
        ("paid_after_death", 2, 21, "programme=tekun;death_date=2025-06-15;paid_until=2025-06-30;months=0", 0.0),
    ]
    without_amount = paid_after_death(enrolments.drop("monthly_amount"), deaths)
    assert without_amount.get_column("amount").to_list() == [None, None]


# --- assets over limits --------------------------------------------------------------------------------


def test_assets_over_limits() -> None:
    households = pl.DataFrame({"household_id": [1, 2], "counted_members": [2, 1], "annual_standard": [4800.0, 4800.0]})
    assets = pl.DataFrame([
        (1, 11, "deposit", 5000.0, None), (1, 12, "fund", 4600.01, None),  # 9600.01 / 2 = 4800.005 > 4800
        (2, 21, "deposit", 4800.0, None),                                  # 4800 / 1: at the limit, fine
        (2, 21, "livestock", 90_000.0, None),                              # exempt: not financial
        (1, 11, "vehicle", 30_000.0, 1), (2, 21, "vehicle", 30_000.01, 1),  # at the cap fine; over it not
        (1, 11, "home", 200_000.0, 1), (1, 12, "home", 50_000.0, 1),       # two homes > 1
        (2, 21, "home", 80_000.0, None),                                   # one home (count empty = one)
        (2, 21, "company", 100_000.0, 1),
    ], schema={"household_id": pl.Int64, "person_id": pl.Int64, "kind": pl.String, "amount": pl.Float64,
               "count": pl.Int64}, orient="row")
    limits = AssetLimits(financial_years_of_standard=1.0, vehicle_value_cap=30_000.0, homes=1, company_roles=True)
    result = assets_over_limits(assets, households, limits)
    assert rows(result) == [
        ("financial_assets_over_limit", 1, None, "per_capita=4800.01;limit=4800.00;members=2", 9600.01),
        ("homes_over_limit", 1, None, "homes=2;limit=1", 250_000.0),
        ("company_registered", 2, 21, "companies=1", 100_000.0),
        ("vehicle_over_cap", 2, 21, "value=30000.01;cap=30000.00", 30_000.01),
    ]
    no_company = assets_over_limits(assets, households, AssetLimits(1.0, 30_000.0, 1, company_roles=False))
    assert "company_registered" not in no_company.get_column("check").to_list()


def test_assets_of_an_unknown_household_are_refused() -> None:
    households = pl.DataFrame({"household_id": [1], "counted_members": [2], "annual_standard": [4800.0]})
    assets = pl.DataFrame({"household_id": [9], "person_id": [None], "kind": ["deposit"], "amount": [1.0],
                           "count": [None]}, schema_overrides={"person_id": pl.Int64, "count": pl.Int64})
    with pytest.raises(ValueError, match=r"1 household\(s\) not in households, e.g. 9"):
        assets_over_limits(assets, households, AssetLimits(1.0, 1.0, 1, True))


# --- illness warnings ----------------------------------------------------------------------------------


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    assert months_before(dt.date(2025, 6, 30), 12) == dt.date(2024, 6, 30)
    assert months_before(dt.date(2025, 5, 31), 3) == dt.date(2025, 2, 28)
    assert months_before(dt.date(2024, 5, 31), 3) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2025, 1, 15), 1) == dt.date(2024, 12, 15)


def test_illness_warnings_over_the_window() -> None:
    claims = pl.DataFrame([
        (1, 1, dt.date(2024, 6, 30), 10_000.0),   # the day the window opens after: outside
        (1, 1, dt.date(2024, 7, 1), 15_000.0),    # first day inside
        (2, 1, dt.date(2025, 6, 30), 5_000.01),   # today: inside → 20000.01 > 20000
        (3, 2, dt.date(2025, 7, 1), 50_000.0),    # after today: outside
        (3, 2, dt.date(2025, 1, 1), 20_000.0),    # exactly the threshold: no warning
    ], schema={"person_id": pl.Int64, "household_id": pl.Int64, "claim_date": pl.Date, "out_of_pocket": pl.Float64},
        orient="row")
    result = illness_warnings(claims, threshold=20_000.0, window_months=12, today=dt.date(2025, 6, 30))
    assert rows(result) == [
        ("illness_warning", 1, None, "from=2024-07-01;to=2025-06-30;claims=2;threshold=20000.00", 20_000.01)]


# --- discovery -----------------------------------------------------------------------------------------


def test_discovery_lists_people_in_need_we_do_not_assist() -> None:
    candidates = pl.DataFrame([
        (1, 10, "severe_disability"), (1, 10, "serious_illness"),  # one person on two lists
        (2, 20, "orphan"),                                         # already enrolled
        (3, None, "long_unemployment"),                            # in no household yet
        (None, None, "orphan"),                                    # not linked to anyone: left out
    ], schema={"person_id": pl.Int64, "household_id": pl.Int64, "kind": pl.String}, orient="row")
    result = discovery(candidates, [2, 7])
    assert rows(result) == [
        ("discovery", 10, 1, "lists=serious_illness,severe_disability", None),
        ("discovery", None, 3, "lists=long_unemployment", None),
    ]
    assert discovery(candidates, pl.Series([1, 2, 3])).height == 0


def test_every_check_returns_the_findings_frame_even_when_empty() -> None:
    empty_enrolments = pl.DataFrame(schema={"person_id": pl.Int64, "household_id": pl.Int64,
                                            "area_code": pl.String, "programme": pl.String})
    assert duplicate_enrolment(empty_enrolments, [("dibao", "tekun")]).schema == pl.Schema(FINDINGS)
    claims = pl.DataFrame(schema={"person_id": pl.Int64, "household_id": pl.Int64, "claim_date": pl.Date,
                                  "out_of_pocket": pl.Float64})
    assert illness_warnings(claims, 1.0, 12, dt.date(2025, 1, 1)).schema == pl.Schema(FINDINGS)
    assert findings.FINDINGS == FINDINGS
