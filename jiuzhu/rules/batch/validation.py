"""Row checks of the batch files: every row `rules evaluate` would refuse is a bad row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jiuzhu.rules.batch.schema import HOUSEHOLD_MONEY, REGION_SHAPE, RegionCheck, day_numbers, encoded, number_column
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.i18n import translate
from jiuzhu.rules.vocabulary import AREA_TYPES, CATEGORY_BIT, RELATIONS, SEXES

#: Where a chunk's rows are in the file: an offset, or one file row per chunk row.
RowMap = int | np.ndarray


class BadInput(Exception):
    """Rows or columns that cannot be computed; `rows` lists every one found."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        super().__init__(f"{len(rows)} bad rows")

    def as_list(self, lang: str | None = None) -> list[dict[str, Any]]:
        """`{file, row, column, reason}` for each bad row, the reason in the given language."""
        return [{"file": r["file"], "row": r["row"], "column": r["column"],
                 "reason": translate(r["reason"], lang).format(**r.get("args", {}))} for r in self.rows]


@dataclass
class BadRows:
    """Collects bad rows across chunks; stops listing after `limit` but keeps counting."""

    limit: int = 1000
    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, file: str, rows: np.ndarray, column: str, reason: str, offset: RowMap = 0, **args: Any) -> None:
        """`offset`: the file row of the chunk's first row, or each row's file row when reordered."""
        rows = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows
        if isinstance(offset, np.ndarray):
            rows, offset = offset[rows], 0
        self.count += len(rows)
        for r in rows[: max(0, self.limit - len(self.rows))]:
            self.rows.append({"file": file, "row": int(r) + offset, "column": column, "reason": reason,
                              "args": args})


def check_columns(table_schema: pa.Schema, file: str, allowed: tuple[str, ...], required: tuple[str, ...],
                   bad: BadRows) -> None:
    for name in table_schema.names:
        if name not in allowed:
            bad.rows.append({"file": file, "row": None, "column": name, "reason": _("is not a known column"),
                             "args": {}})
            bad.count += 1
    for name in required:
        if name not in table_schema.names:
            bad.rows.append({"file": file, "row": None, "column": name, "reason": _("is required"), "args": {}})
            bad.count += 1


def flagger(n: int, file: str, offset: RowMap, bad: BadRows) -> tuple[np.ndarray, Callable[..., None]]:
    ok = np.ones(n, dtype=np.bool_)

    def flag(mask: np.ndarray, column: str, reason: str, **args: Any) -> None:
        if not mask.any():  # the usual case: one pass over the column
            return
        mask = mask & ok
        if mask.any():
            bad.add(file, mask, column, reason, offset, **args)
            ok[mask] = False

    return ok, flag


def flag_nulls(flag: Callable[..., None], column: pa.ChunkedArray, name: str) -> None:
    """A required value left empty; the null count is known without looking at the rows."""
    if column.null_count:
        flag(column.is_null().to_numpy(zero_copy_only=False), name, _("is required"))


def flag_amounts(flag: Callable[..., None], values: np.ndarray, name: str, high: float | None = None) -> None:
    """Finite, not negative, at most `high`; rows are looked at only if the extremes fail.

    NaN makes both extremes NaN, so a column with one passes only if every row is fine."""
    if len(values) == 0:
        return
    low, top = values.min(), values.max()
    if low >= 0 and top < np.inf and (high is None or top <= high):
        return
    flag(~np.isfinite(values), name, _("must be a finite number"))
    flag(values < 0, name, _("must not be negative"))
    if high is not None:
        flag(values > high, name, _("must be at most {high}"), high=high)


def _twice(codes: np.ndarray, household: np.ndarray) -> np.ndarray:
    """Members whose id appears earlier in the same household (members grouped by household).

    With few distinct ids each id is a bit: a household whose members outnumber the bits set
    has a repeated id, and only such households are looked at one row at a time."""
    n = len(codes)
    twice = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return twice
    starts = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
    ends = np.r_[starts[1:], n]
    top = int(codes.max(initial=0))
    if top < 64 and codes.min(initial=0) >= 0:
        # A household repeats an id exactly when it has more members than distinct id bits;
        # the narrowest integer that holds the bits keeps the pass over millions short.
        bits = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if top < np.iinfo(t).bits)
        seen_bits = np.bitwise_or.reduceat(np.left_shift(bits(1), codes.astype(bits)), starts)
        suspect = (ends - starts) > np.bitwise_count(seen_bits)
    else:
        suspect = np.ones(len(starts), dtype=np.bool_)
    for a, b in zip(starts[suspect], ends[suspect], strict=True):
        seen: set[int] = set()
        for row in range(a, b):
            if codes[row] in seen:
                twice[row] = True
            seen.add(int(codes[row]))
    return twice


def validate_households(t: pa.Table, regions: tuple[np.ndarray, list[Any]], offset: int, bad: BadRows,
                        known_region: RegionCheck | None) -> np.ndarray:
    """Row checks of households.parquet, on the distinct values where possible."""
    ok, flag = flagger(t.num_rows, "households.parquet", offset, bad)
    flag_nulls(flag, t.column("household_id"), "household_id")
    codes, values = regions
    shape_ok = np.array([isinstance(v, str) and bool(REGION_SHAPE.match(v)) for v in values] or [True])
    flag((codes < 0) | ~shape_ok[np.maximum(codes, 0)], "region",
         _("must be a division code of 6, 9 or 12 digits, written as text"))
    if known_region is not None:
        known = np.array([not (isinstance(v, str) and REGION_SHAPE.match(v)) or known_region(v) for v in values]
                         or [True])
        flag(~known[np.maximum(codes, 0)], "region", _("is not a known division code"))
    flag_nulls(flag, t.column("date"), "date")
    area_codes, area_values = encoded(t.column("area_type"))
    area_ok = np.array([v in AREA_TYPES for v in area_values] or [True])
    flag((area_codes < 0) | ~area_ok[np.maximum(area_codes, 0)], "area_type", _("must be urban or rural"))
    if "employment_started" in t.column_names and t.column("employment_started").null_count < t.num_rows:
        started = t.column("employment_started")
        flag(~started.is_null().to_numpy(zero_copy_only=False) & (day_numbers(started) > day_numbers(t.column("date"))),
             "employment_started", _("is after the case date"))
    for name in (*HOUSEHOLD_MONEY, "homes"):
        if name in t.column_names:
            flag_amounts(flag, number_column(t, name, "money", t.num_rows), name)  # null is zero
    if "wage_earners" in t.column_names:  # null: one earner where there are wages
        earners = number_column(t, "wage_earners", "float", t.num_rows)
        flag(~np.isnan(earners) & ((earners < 0) | (earners != np.floor(earners))), "wage_earners",
             _("must be a whole number, 0 or more"))
    return ok


def validate_members(t: pa.Table, sex: tuple[np.ndarray, list[Any]], birth_days: np.ndarray,
                     household_days: np.ndarray, member_household: np.ndarray, offset: RowMap,
                     bad: BadRows) -> np.ndarray:
    """Row checks of members.parquet; returns the rows that are fine."""
    ok, flag = flagger(t.num_rows, "members.parquet", offset, bad)
    flag_nulls(flag, t.column("member_id"), "member_id")
    flag(_twice(encoded(t.column("member_id"))[0], member_household), "member_id", _("is used twice"))
    if "relation" in t.column_names:
        codes, values = encoded(t.column("relation"))
        known = np.array([v in RELATIONS for v in values] or [True])
        flag((codes >= 0) & ~known[np.maximum(codes, 0)], "relation", _("is not a known relation"))
    sex_codes, sex_values = sex
    sex_ok = np.array([v in SEXES for v in sex_values] or [True])
    flag((sex_codes < 0) | ~sex_ok[np.maximum(sex_codes, 0)], "sex", _("must be male or female"))
    flag_nulls(flag, t.column("birth_date"), "birth_date")
    flag(birth_days > household_days, "birth_date", _("is after the case date"))  # per member, or one for all
    if "disability_grade" in t.column_names:
        column = t.column("disability_grade")
        if pa.types.is_integer(column.type):  # whole numbers already: only the range to check
            grades = (column.fill_null(1) if column.null_count else column).to_numpy()
            wrong = (grades < 1) | (grades > 10)
        else:
            g = number_column(t, "disability_grade", "float", t.num_rows)
            wrong = ~np.isnan(g) & ((g < 1) | (g > 10) | (g != np.round(g)))
        flag(wrong, "disability_grade", _("must be a whole number from 1 (most severe) to 10"))
    if "health_coefficient" in t.column_names:
        column = t.column("health_coefficient")
        low, high = pc.min_max(column).values()  # nulls (not assessed) and NaN left out
        if (low.is_valid and low.as_py() < 0) or (high.is_valid and high.as_py() > 1):
            h = number_column(t, "health_coefficient", "float", t.num_rows)
            flag((h < 0) | (h > 1), "health_coefficient", _("must be between 0 and 1"))
    for name, high in (("imputed_monthly_reference", None), ("imputed_months", 12.0)):
        if name in t.column_names:
            flag_amounts(flag, number_column(t, name, "money", t.num_rows), name, high)
    return ok


def category_bits(t: pa.Table, flag: Callable[..., None] | None = None) -> np.ndarray:
    """Bit sets of the comma-separated tags, computed once per distinct text."""
    if "categories" not in t.column_names:
        return np.zeros(t.num_rows, dtype=np.int64)
    codes, values = encoded(t.column("categories"))
    bits = np.zeros(len(values) + 1, dtype=np.int32)
    unknown = np.zeros(len(values) + 1, dtype=np.bool_)
    for i, text in enumerate(values):
        for tag in (x.strip() for x in (text or "").split(",")):
            if tag in CATEGORY_BIT:
                bits[i] |= CATEGORY_BIT[tag]
            elif tag:
                unknown[i] = True
    if flag is not None:
        flag(unknown[codes], "categories", _("has a category that is not known"))
    result: np.ndarray = bits[codes]  # code -1 (null) takes the last, empty slot
    return result
