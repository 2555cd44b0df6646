"""What the verified facts say against the declared ones, and the cross-checks (核对比对).

Once department records are linked to persons (`linkage.link`), they are facts about
households: this module compares them with what the household declared (a discrepancy
beyond a tolerance goes to the caseworker), and runs the controls that stop the wrong
people from being paid (人情保/关系保, DOMAIN.md §1, §4.4, §9): the same person enrolled
twice, payments after death, assets over the local limits, and — the other way round —
people whom a department lists as needing help but whom we do not assist (主动发现).

Pure and vectorised: polars frames in, polars frames out, no Django and no row loops.
Money is float64 yuan, rounded half-up to the fen only where it is shown (DOMAIN.md §14);
comparisons are made on unrounded values, except the discrepancy test, which compares
the fen amounts a caseworker sees.

Every cross-check returns the same frame (FINDINGS): `check, household_id, person_id,
detail, amount`, where `detail` is machine-readable `key=value;key=value` text, so the
verification app can store all findings in one table and translate the checks' names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from jiuzhu.rules.vocabulary import FINANCIAL_ASSET_KINDS
from jiuzhu.verification.frames import typed

RECORDS = ("income", "asset", "expense")
FACTS: dict[str, pl.DataType] = {
    "household_id": pl.Int64(), "record": pl.String(), "kind": pl.String(), "amount": pl.Float64(),
}
DISCREPANCIES: dict[str, pl.DataType] = {
    "household_id": pl.Int64(), "record": pl.String(), "kind": pl.String(), "declared": pl.Float64(),
    "verified": pl.Float64(), "difference": pl.Float64(), "relative": pl.Float64(),
}
FINDINGS: dict[str, pl.DataType] = {
    "check": pl.String(), "household_id": pl.Int64(), "person_id": pl.Int64(), "detail": pl.String(),
    "amount": pl.Float64(),
}


@dataclass(frozen=True)
class AssetLimits:
    """The local asset limits (DOMAIN.md §4.4), read from the parameters in force.

    `financial_years_of_standard`: financial assets per counted member may not exceed this
    many years of the annual standard (Da'an: 1). `vehicle_value_cap`: no vehicle worth
    more. `homes`: at most this many homes. `company_roles`: when True, holding a company
    (registered owner, shareholder or legal representative) is reported for review.
    `financial_kinds`: the asset kinds that count as financial (the engine's list).
    """

    financial_years_of_standard: float
    vehicle_value_cap: float
    homes: int
    company_roles: bool
    financial_kinds: tuple[str, ...] = FINANCIAL_ASSET_KINDS


def round_fen(amount: pl.Expr) -> pl.Expr:
    """Half-up to the fen, robust to binary noise: 2.675 → 2.68, 1.005 (100.49999… fen) → 1.01.

    The same rule as the engine's `jiuzhu.rules.arrays.round_fen`: the amount in fen is
    first rounded to 6 decimals, then half a fen is added and the result floored."""
    return ((amount * 100.0).round(6) + 0.5).floor() / 100.0


# --- input -----------------------------------------------------------------------------------------


def _columns(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str,
             nullable: Iterable[str] = ()) -> pl.DataFrame:
    """The named columns in the named types; every other column is dropped. A missing column,
    a value of the wrong type or an empty required cell is an error naming column and rows."""
    out = typed(frame, schema, what)
    optional = set(nullable)
    for name in schema:
        if name in optional:
            continue
        empty = out.select(pl.arg_where(pl.col(name).is_null())).to_series()
        if len(empty):
            rows = ", ".join(str(i + 1) for i in empty.head(5).to_list())
            raise ValueError(f"{what}.{name}: empty in {len(empty)} row(s), e.g. row {rows}")
    for name, dtype in schema.items():
        if dtype == pl.Float64:
            bad = out.select(pl.arg_where(~pl.col(name).is_finite())).to_series()
            if len(bad):
                rows = ", ".join(str(i + 1) for i in bad.head(5).to_list())
                raise ValueError(f"{what}.{name}: not a finite number in {len(bad)} row(s), e.g. row {rows}")
    return out


def _findings(frame: pl.DataFrame) -> pl.DataFrame:
    return (frame.select([pl.col(name).cast(dtype) for name, dtype in FINDINGS.items()])
            .sort(["household_id", "person_id", "check", "detail"], nulls_last=True))


def _ids(column: str) -> pl.Expr:
    """The distinct values of an integer column, sorted and joined with commas ("1,2")."""
    return pl.col(column).unique().sort().cast(pl.String).str.join(",")


def _money(amount: pl.Expr | float) -> pl.Expr:
    """Money as a detail shows it: to the fen with two decimals (12.50, -3.05)."""
    expr = amount if isinstance(amount, pl.Expr) else pl.lit(float(amount))
    fen = (round_fen(expr) * 100.0).round(0).cast(pl.Int64)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format("{}{}.{}", sign, (fen.abs() // 100), (fen.abs() % 100).cast(pl.String).str.zfill(2))


# --- discrepancies ---------------------------------------------------------------------------------


def discrepancies(declared: pl.DataFrame, verified: pl.DataFrame, *, absolute_tolerance: float,
                  relative_tolerance: float) -> pl.DataFrame:
    """Where verified and declared amounts differ beyond the tolerance (核对差异).

    Both frames: `household_id, record ("income"|"asset"|"expense"), kind, amount`, several
    rows per key allowed (summed). A key present on one side only counts as 0 on the other.
    A difference is reported when |verified − declared| > max(absolute_tolerance,
    relative_tolerance × |declared|), compared in fen after rounding each side half-up to
    the fen, so a difference exactly at the tolerance is not reported. Output (DISCREPANCIES),
    one row per reported key, sorted: declared, verified, difference = verified − declared
    (all in yuan, to the fen) and relative = difference / declared (null when declared is 0).
    """
    if absolute_tolerance < 0 or relative_tolerance < 0:
        raise ValueError(f"discrepancies: tolerances may not be negative (absolute {absolute_tolerance}, "
                         f"relative {relative_tolerance})")
    keys = ["household_id", "record", "kind"]
    sides = []
    for name, frame in (("declared", declared), ("verified", verified)):
        facts = _columns(frame, FACTS, name)
        unknown = facts.filter(~pl.col("record").is_in(RECORDS))
        if unknown.height:
            raise ValueError(f"{name}.record: must be one of {', '.join(RECORDS)}; found "
                             f"{', '.join(sorted(set(unknown.get_column('record').to_list())))}")
        sides.append(facts.group_by(keys).agg(round_fen(pl.col("amount").sum()).alias(name)))
    both = sides[0].join(sides[1], on=keys, how="full", coalesce=True).with_columns(
        pl.col("declared").fill_null(0.0), pl.col("verified").fill_null(0.0))
    # In whole fen: both sides are already rounded, so the difference is an exact integer.
    fen = ((pl.col("verified") * 100.0).round(0) - (pl.col("declared") * 100.0).round(0)).cast(pl.Int64)
    tolerance_fen = (pl.max_horizontal(pl.lit(float(absolute_tolerance)),
                                       pl.col("declared").abs() * float(relative_tolerance)) * 100.0).round(6)
    return (both.with_columns(fen.alias("_fen"))
            .filter(pl.col("_fen").abs().cast(pl.Float64) > tolerance_fen)
            .with_columns((pl.col("_fen").cast(pl.Float64) / 100.0).alias("difference"))
            .with_columns(pl.when(pl.col("declared") != 0).then(pl.col("difference") / pl.col("declared"))
                          .otherwise(None).alias("relative"))
            .select([pl.col(name).cast(dtype) for name, dtype in DISCREPANCIES.items()])
            .sort(keys))


# --- cross-checks ----------------------------------------------------------------------------------


def duplicate_enrolment(enrolments: pl.DataFrame, exclusive_pairs: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """The same person assisted twice (重复享受): one row per person and household involved.

    `enrolments`: `person_id, household_id, area_code, programme`, active enrolments only,
    one row per member of an enrolled household. Checks:
    - "duplicate_household": enrolled through two or more households of one area
      (detail `households=…`);
    - "duplicate_area": enrolled in two or more areas (detail `areas=…;households=…`);
    - "exclusive_programmes": enrolled in both programmes of a pair that exclude each other,
      in either order, e.g. ("dibao", "tekun") (detail `programmes=a,b;households=…`).
    """
    e = _columns(enrolments, {"person_id": pl.Int64(), "household_id": pl.Int64(), "area_code": pl.String(),
                              "programme": pl.String()}, "enrolments").unique()
    spread = e.group_by("person_id").agg(
        pl.col("household_id").n_unique().alias("_households"), pl.col("area_code").n_unique().alias("_areas"),
        _ids("household_id").alias("_household_list"),
        pl.col("area_code").unique().sort().str.join(",").alias("_area_list"))
    people = e.select("person_id", "household_id").unique().join(spread, on="person_id")
    households = people.filter((pl.col("_households") > 1) & (pl.col("_areas") == 1)).select(
        pl.lit("duplicate_household").alias("check"), "household_id", "person_id",
        pl.format("households={}", "_household_list").alias("detail"))
    areas = people.filter(pl.col("_areas") > 1).select(
        pl.lit("duplicate_area").alias("check"), "household_id", "person_id",
        pl.format("areas={};households={}", "_area_list", "_household_list").alias("detail"))

    pairs = sorted({tuple(sorted(pair)) for pair in exclusive_pairs if pair[0] != pair[1]})
    found = [households, areas]
    if pairs:
        pair_frame = pl.DataFrame({"programme": [a for a, _ in pairs], "_other": [b for _, b in pairs]})
        left = e.join(pair_frame, on="programme")
        right = e.select("person_id", pl.col("programme").alias("_other"), pl.col("household_id").alias("_hh"))
        both = left.join(right, on=["person_id", "_other"])
        involved = pl.concat([
            both.select("person_id", "programme", "_other", "household_id"),
            both.select("person_id", "programme", "_other", pl.col("_hh").alias("household_id")),
        ]).unique()
        listed = involved.group_by("person_id", "programme", "_other").agg(
            _ids("household_id").alias("_list"), pl.col("household_id").unique())
        found.append(listed.explode("household_id").select(
            pl.lit("exclusive_programmes").alias("check"), "household_id", "person_id",
            pl.format("programmes={},{};households={}", "programme", "_other", "_list").alias("detail")))
    return _findings(pl.concat([f.with_columns(pl.lit(None, pl.Float64).alias("amount")) for f in found]))


def _month_index(column: str) -> pl.Expr:
    """Months since year 0, so that month differences are subtractions."""
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64)


def paid_after_death(enrolments: pl.DataFrame, deaths: pl.DataFrame) -> pl.DataFrame:
    """Members who died before the date their household is paid until (死亡后仍领取).

    `enrolments`: `household_id, programme, person_id, paid_until` (one row per member of
    an enrolled household), optionally `monthly_amount`; `deaths`: `person_id, death_date`
    (the earliest date counts when a person is listed twice). Detail:
    `programme=…;death_date=…;paid_until=…;months=n`, where n counts the months paid after
    the month of death (a death on 10 March paid until 30 June: 3). `amount` = n ×
    monthly_amount, to the fen, when the monthly amount is given (an addition to the brief's
    columns), else null.
    """
    schema: dict[str, pl.DataType] = {"household_id": pl.Int64(), "programme": pl.String(),
                                      "person_id": pl.Int64(), "paid_until": pl.Date()}
    has_amount = "monthly_amount" in enrolments.columns
    if has_amount:
        schema["monthly_amount"] = pl.Float64()
    e = _columns(enrolments, schema, "enrolments", nullable=("monthly_amount",))
    d = (_columns(deaths, {"person_id": pl.Int64(), "death_date": pl.Date()}, "deaths")
         .group_by("person_id").agg(pl.col("death_date").min()))
    months = (_month_index("paid_until") - _month_index("death_date")).alias("_months")
    hit = e.join(d, on="person_id").filter(pl.col("death_date") < pl.col("paid_until")).with_columns(months)
    amount = round_fen(pl.col("_months") * pl.col("monthly_amount")) if has_amount else pl.lit(None, pl.Float64)
    return _findings(hit.select(
        pl.lit("paid_after_death").alias("check"), "household_id", "person_id",
        pl.format("programme={};death_date={};paid_until={};months={}", "programme",
                  pl.col("death_date").dt.strftime("%Y-%m-%d"), pl.col("paid_until").dt.strftime("%Y-%m-%d"),
                  "_months").alias("detail"),
        amount.alias("amount")))


def assets_over_limits(verified_assets: pl.DataFrame, households: pl.DataFrame, limits: AssetLimits) -> pl.DataFrame:
    """Verified assets beyond the local limits (DOMAIN.md §4.4), compared unrounded as the engine does.

    `verified_assets`: `household_id, person_id (nullable), kind, amount, count (nullable:
    one)`; `households`: `household_id, counted_members, annual_standard`. Checks:
    - "financial_assets_over_limit": financial assets per counted member > years × standard;
      amount = the household's financial assets, detail `per_capita=…;limit=…;members=n`;
    - "vehicle_over_cap": a vehicle worth more than the cap (one row per vehicle record);
    - "homes_over_limit": more homes than allowed (detail `homes=n;limit=m`, amount = their value);
    - "company_registered": a company role, when `limits.company_roles` (one row per person,
      amount = the registered value, detail `companies=n`).
    """
    assets = _columns(verified_assets, {"household_id": pl.Int64(), "person_id": pl.Int64(), "kind": pl.String(),
                                        "amount": pl.Float64(), "count": pl.Int64()},
                      "verified_assets", nullable=("person_id", "count"))
    homes_of = _columns(households, {"household_id": pl.Int64(), "counted_members": pl.Int64(),
                                     "annual_standard": pl.Float64()}, "households")
    unknown = assets.join(homes_of, on="household_id", how="anti").get_column("household_id").unique().sort()
    if len(unknown):
        raise ValueError(f"verified_assets.household_id: {len(unknown)} household(s) not in households, e.g. "
                         f"{unknown.item(0)}")
    empty = homes_of.filter(pl.col("counted_members") <= 0).get_column("household_id")
    if len(empty):
        raise ValueError(f"households.counted_members: must be at least 1; household {empty.item(0)} has "
                         f"{homes_of.filter(pl.col('household_id') == empty.item(0)).item(0, 'counted_members')}")
    found = []

    financial = (assets.filter(pl.col("kind").is_in(limits.financial_kinds))
                 .group_by("household_id").agg(pl.col("amount").sum().alias("_total"))
                 .join(homes_of, on="household_id")
                 .with_columns((pl.col("_total") / pl.col("counted_members")).alias("_per_capita"),
                               (pl.col("annual_standard") * limits.financial_years_of_standard).alias("_limit")))
    found.append(financial.filter(pl.col("_per_capita") > pl.col("_limit")).select(
        pl.lit("financial_assets_over_limit").alias("check"), "household_id", pl.lit(None, pl.Int64).alias("person_id"),
        pl.format("per_capita={};limit={};members={}", _money(pl.col("_per_capita")), _money(pl.col("_limit")),
                  "counted_members").alias("detail"),
        round_fen(pl.col("_total")).alias("amount")))

    found.append(assets.filter((pl.col("kind") == "vehicle") & (pl.col("amount") > limits.vehicle_value_cap)).select(
        pl.lit("vehicle_over_cap").alias("check"), "household_id", "person_id",
        pl.format("value={};cap={}", _money(pl.col("amount")), _money(limits.vehicle_value_cap)).alias("detail"),
        round_fen(pl.col("amount")).alias("amount")))

    homes = (assets.filter(pl.col("kind") == "home").group_by("household_id")
             .agg(pl.col("count").fill_null(1).sum().alias("_homes"), pl.col("amount").sum().alias("_value")))
    found.append(homes.filter(pl.col("_homes") > limits.homes).select(
        pl.lit("homes_over_limit").alias("check"), "household_id", pl.lit(None, pl.Int64).alias("person_id"),
        pl.format("homes={};limit={}", "_homes", pl.lit(limits.homes)).alias("detail"),
        round_fen(pl.col("_value")).alias("amount")))

    if limits.company_roles:
        companies = (assets.filter(pl.col("kind") == "company").group_by("household_id", "person_id")
                     .agg(pl.col("count").fill_null(1).sum().alias("_companies"), pl.col("amount").sum().alias("_v")))
        found.append(companies.select(
            pl.lit("company_registered").alias("check"), "household_id", "person_id",
            pl.format("companies={}", "_companies").alias("detail"), round_fen(pl.col("_v")).alias("amount")))
    return _findings(pl.concat(found, how="vertical_relaxed"))


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier, clamped to the month's end (31 May − 3 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


def illness_warnings(claims: pl.DataFrame, threshold: float, window_months: int, today: dt.date) -> pl.DataFrame:
    """Households whose medical out-of-pocket spending in the window exceeds the threshold (因病支出型预警).

    `claims`: `person_id, household_id, claim_date, out_of_pocket`. The window is the last
    `window_months` calendar months up to `today`: claims after the same day that many
    months before and on or before today (today 30 June, 12 months: 1 July to 30 June).
    One row per household, `amount` = its out-of-pocket total; strictly more than the
    threshold warns. Detail: `from=…;to=…;claims=n;threshold=…`.
    """
    if window_months < 1:
        raise ValueError(f"illness_warnings: window_months must be at least 1, got {window_months}")
    c = _columns(claims, {"person_id": pl.Int64(), "household_id": pl.Int64(), "claim_date": pl.Date(),
                          "out_of_pocket": pl.Float64()}, "claims", nullable=("person_id",))
    start = months_before(today, window_months)
    totals = (c.filter((pl.col("claim_date") > start) & (pl.col("claim_date") <= today))
              .group_by("household_id").agg(pl.col("out_of_pocket").sum().alias("_total"), pl.len().alias("_n")))
    return _findings(totals.filter(pl.col("_total") > threshold).select(
        pl.lit("illness_warning").alias("check"), "household_id", pl.lit(None, pl.Int64).alias("person_id"),
        pl.format("from={};to={};claims={};threshold={}", pl.lit((start + dt.timedelta(days=1)).isoformat()),
                  pl.lit(today.isoformat()), "_n", _money(threshold)).alias("detail"),
        round_fen(pl.col("_total")).alias("amount")))


def discovery(candidates: pl.DataFrame, enrolled_person_ids: pl.Series | Iterable[int]) -> pl.DataFrame:
    """People a department lists as in need whom we do not assist (主动发现): candidates to invite.

    `candidates`: department list rows already linked to persons, `person_id, household_id
    (nullable: not in any household), kind` (e.g. "severe_disability", "serious_illness",
    "orphan", "long_unemployment"); rows without a person_id (not linked) are left out.
    One row per person not in `enrolled_person_ids`, detail `lists=a,b`. Whether they are
    eligible is the rules engine's question, asked by the caller.
    """
    c = _columns(candidates, {"person_id": pl.Int64(), "household_id": pl.Int64(), "kind": pl.String()},
                 "candidates", nullable=("person_id", "household_id"))
    enrolled = (enrolled_person_ids if isinstance(enrolled_person_ids, pl.Series)
                else pl.Series(list(enrolled_person_ids), dtype=pl.Int64))
    enrolled_frame = enrolled.cast(pl.Int64).drop_nulls().unique().to_frame("person_id")
    open_ = c.filter(pl.col("person_id").is_not_null()).join(enrolled_frame, on="person_id", how="anti")
    return _findings(open_.group_by("person_id").agg(
        pl.col("household_id").drop_nulls().min().alias("household_id"),
        pl.col("kind").unique().sort().str.join(",").alias("_lists")).select(
        pl.lit("discovery").alias("check"), "household_id", "person_id",
        pl.format("lists={}", "_lists").alias("detail"), pl.lit(None, pl.Float64).alias("amount")))
