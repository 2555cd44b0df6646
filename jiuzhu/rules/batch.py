"""`rules batch`: the vectorised means test over Parquet files, chunk by chunk.

Memory stays flat: households are read in chunks and each chunk's members with them.
Every row is validated as `rules evaluate` would validate the same household; if any
row is bad the report lists each (file, row, column, reason) and no output is left.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.rules import engine
from jiuzhu.rules.arrays import Households, ParamArrays, Persons
from jiuzhu.rules.case import ages_on, effective_region
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.evaluate import output_columns
from jiuzhu.rules.i18n import translate
from jiuzhu.rules.parameters import ParameterContext, ParameterTree, Scalar, default_tree
from jiuzhu.rules.vocabulary import AREA_TYPES, CATEGORY_BIT, EXPENSE_KINDS, INCOME_KINDS, RELATIONS, SEXES

RegionCheck = Callable[[str], bool]

HOUSEHOLD_REQUIRED = ("household_id", "region", "date", "area_type")
HOUSEHOLD_MONEY = (
    *(f"income_{k}" for k in INCOME_KINDS), *(f"expense_{k}" for k in EXPENSE_KINDS),
    "assets_financial", "vehicle_value", "previous_topup",
)
HOUSEHOLD_COLUMNS = (*HOUSEHOLD_REQUIRED, *HOUSEHOLD_MONEY, "homes", "employment_started")
MEMBER_REQUIRED = ("household_id", "member_id", "sex", "birth_date")
MEMBER_COLUMNS = (*MEMBER_REQUIRED, "relation", "disability_grade", "health_coefficient", "categories",
                  "counted", "imputed_monthly_reference", "imputed_months", "refused_work")
DEFAULT_CHUNK = 1_000_000
#: Text columns with few distinct values, read as dictionaries: no string per row is made.
DICTIONARY_COLUMNS = ("region", "area_type", "sex", "relation", "categories", "member_id")


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


def _column(table: pa.Table, name: str, kind: str, n: int) -> np.ndarray:
    """A numeric column as NumPy, absent → zeros; nulls become 0, or NaN for `kind="float"`."""
    if name not in table.column_names:
        return np.zeros(n, dtype=np.float64)
    col = table.column(name)
    if col.null_count and kind != "float":
        col = col.fill_null(0)
    # One chunk of float64 without nulls is handed over without a copy.
    array = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    values: np.ndarray = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return values


def _bool(table: pa.Table, name: str, default: bool, n: int) -> np.ndarray:
    if name not in table.column_names:
        return np.full(n, default, dtype=np.bool_)
    col = table.column(name)
    result: np.ndarray = (col.fill_null(default) if col.null_count else col).to_numpy().astype(np.bool_)
    return result


def _days(col: pa.ChunkedArray) -> np.ndarray:
    if not pa.types.is_date32(col.type):
        col = col.cast(pa.date32())
    days: np.ndarray = (col.fill_null(0) if col.null_count else col).cast(pa.int32()).to_numpy().astype(np.int64)
    return days


def _ymd(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dates as year × 10000 + month × 100 + day, computed by Arrow (fast on millions)."""
    if not pa.types.is_date32(col.type):
        col = col.cast(pa.date32())
    if col.null_count:
        col = col.fill_null(pa.scalar(0, pa.int32()).cast(pa.date32()))
    ymd: np.ndarray = (pc.year(col).to_numpy().astype(np.int64) * 10_000 + pc.month(col).to_numpy() * 100
                       + pc.day(col).to_numpy())
    return ymd


def _encoded(col: pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes and values of a text column: work on the few distinct values."""
    if pa.types.is_dictionary(col.type):  # read as a dictionary: only the chunks' dictionaries differ
        encoded = col.unify_dictionaries().combine_chunks() if col.num_chunks else pc.dictionary_encode(col)
    else:
        encoded = pc.dictionary_encode(col).combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _is(encoded: tuple[np.ndarray, list[Any]], value: str) -> np.ndarray:
    """Rows whose text is `value`, from the codes (no string comparison per row)."""
    codes, values = encoded
    if value not in values:
        return np.zeros(len(codes), dtype=np.bool_)
    result: np.ndarray = codes == values.index(value)
    return result


class ContextIndex:
    """Parameter contexts shared by all chunks: one per (parameter level, date, area type)."""

    def __init__(self, tree: ParameterTree, overrides: Mapping[str, Scalar] | None = None):
        self.tree = tree
        self.overrides = dict(overrides or {})
        self.contexts: list[ParameterContext] = []
        self.keys: dict[tuple[str, int, str], int] = {}

    def assign(self, regions: tuple[np.ndarray, list[Any]], days: np.ndarray, urban: np.ndarray) -> np.ndarray:
        codes, values = regions
        levels = sorted({self._level(v) for v in values})
        level_of_value = np.array([levels.index(self._level(v)) for v in values] or [0], dtype=np.int64)
        level_index = level_of_value[np.maximum(codes, 0)]
        offset = days - days.min() if len(days) else days
        span = int(offset.max()) + 1 if len(days) else 1
        key = (level_index * 2 + urban.astype(np.int64)) * span + offset
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        out = np.empty(len(unique), dtype=np.int64)
        for u, row in enumerate(first):
            level, area = levels[level_index[row]], "urban" if urban[row] else "rural"
            date = dt.date.fromordinal(_EPOCH + int(days[row]))
            k = (level, date.toordinal(), area)
            if k not in self.keys:
                self.keys[k] = len(self.contexts)
                self.contexts.append(ParameterContext(self.tree, level, date, area, self.overrides))
            out[u] = self.keys[k]
        result: np.ndarray = out[inverse]
        return result

    def _level(self, region: str | None) -> str:
        return effective_region(self.tree, region) if region else ""


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _check_columns(table_schema: pa.Schema, file: str, allowed: tuple[str, ...], required: tuple[str, ...],
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


_REGION_SHAPE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def _flagger(n: int, file: str, offset: RowMap, bad: BadRows) -> tuple[np.ndarray, Callable[..., None]]:
    ok = np.ones(n, dtype=np.bool_)

    def flag(mask: np.ndarray, column: str, reason: str, **args: Any) -> None:
        if not mask.any():  # the usual case: one pass over the column
            return
        mask = mask & ok
        if mask.any():
            bad.add(file, mask, column, reason, offset, **args)
            ok[mask] = False

    return ok, flag


def _twice(codes: np.ndarray, household: np.ndarray) -> np.ndarray:
    """Members whose id appears earlier in the same household (members grouped by household).

    With few distinct ids a bit per id is summed and or-ed per household; a household whose
    sum and or differ has a repeated id, and only its rows are looked at one by one."""
    n = len(codes)
    twice = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return twice
    starts = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
    if codes.max(initial=0) < 62 and codes.min(initial=0) >= 0:
        bit = np.left_shift(np.int64(1), codes.astype(np.int64))
        suspect = np.add.reduceat(bit, starts) != np.bitwise_or.reduceat(bit, starts)
    else:
        suspect = np.ones(len(starts), dtype=np.bool_)
    ends = np.r_[starts[1:], n]
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
    ok, flag = _flagger(t.num_rows, "households.parquet", offset, bad)
    flag(t.column("household_id").is_null().to_numpy(zero_copy_only=False), "household_id", _("is required"))
    codes, values = regions
    shape_ok = np.array([isinstance(v, str) and bool(_REGION_SHAPE.match(v)) for v in values] or [True])
    flag((codes < 0) | ~shape_ok[np.maximum(codes, 0)], "region",
         _("must be a division code of 6, 9 or 12 digits, written as text"))
    if known_region is not None:
        known = np.array([not (isinstance(v, str) and _REGION_SHAPE.match(v)) or known_region(v) for v in values]
                         or [True])
        flag(~known[np.maximum(codes, 0)], "region", _("is not a known division code"))
    flag(t.column("date").is_null().to_numpy(zero_copy_only=False), "date", _("is required"))
    area_codes, area_values = _encoded(t.column("area_type"))
    area_ok = np.array([v in AREA_TYPES for v in area_values] or [True])
    flag((area_codes < 0) | ~area_ok[np.maximum(area_codes, 0)], "area_type", _("must be urban or rural"))
    if "employment_started" in t.column_names:
        started = t.column("employment_started")
        flag(~started.is_null().to_numpy(zero_copy_only=False) & (_days(started) > _days(t.column("date"))),
             "employment_started", _("is after the case date"))
    for name in (*HOUSEHOLD_MONEY, "homes"):
        if name in t.column_names:
            values_ = _column(t, name, "float", t.num_rows)
            flag(np.isinf(values_), name, _("must be a number"))
            flag(values_ < 0, name, _("must not be negative"))
    return ok


def validate_members(t: pa.Table, sex: tuple[np.ndarray, list[Any]], birth_days: np.ndarray,
                     household_days: np.ndarray, member_household: np.ndarray, offset: RowMap,
                     bad: BadRows) -> np.ndarray:
    """Row checks of members.parquet; returns the rows that are fine."""
    ok, flag = _flagger(t.num_rows, "members.parquet", offset, bad)
    flag(t.column("member_id").is_null().to_numpy(zero_copy_only=False), "member_id", _("is required"))
    flag(_twice(_encoded(t.column("member_id"))[0], member_household), "member_id", _("is used twice"))
    if "relation" in t.column_names:
        codes, values = _encoded(t.column("relation"))
        known = np.array([v in RELATIONS for v in values] or [True])
        flag((codes >= 0) & ~known[np.maximum(codes, 0)], "relation", _("is not a known relation"))
    sex_codes, sex_values = sex
    sex_ok = np.array([v in SEXES for v in sex_values] or [True])
    flag((sex_codes < 0) | ~sex_ok[np.maximum(sex_codes, 0)], "sex", _("must be male or female"))
    flag(t.column("birth_date").is_null().to_numpy(zero_copy_only=False), "birth_date", _("is required"))
    flag(birth_days > household_days, "birth_date", _("is after the case date"))
    if "disability_grade" in t.column_names:
        g = _column(t, "disability_grade", "float", t.num_rows)
        flag(~np.isnan(g) & ((g < 1) | (g > 10) | (g != np.round(g))), "disability_grade",
             _("must be a whole number from 1 (most severe) to 10"))
    if "health_coefficient" in t.column_names:
        h = _column(t, "health_coefficient", "float", t.num_rows)
        flag((h < 0) | (h > 1), "health_coefficient", _("must be between 0 and 1"))
    for name, high in (("imputed_monthly_reference", None), ("imputed_months", 12.0)):
        if name in t.column_names:
            v = _column(t, name, "float", t.num_rows)
            flag(v < 0, name, _("must not be negative"))
            if high is not None:
                flag(v > high, name, _("must be at most {high}"), high=high)
    return ok


def category_bits(t: pa.Table, flag: Callable[..., None] | None = None) -> np.ndarray:
    """Bit sets of the comma-separated tags, computed once per distinct text."""
    if "categories" not in t.column_names:
        return np.zeros(t.num_rows, dtype=np.int64)
    codes, values = _encoded(t.column("categories"))
    bits = np.zeros(len(values) + 1, dtype=np.int64)
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


def arrays_from_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, context: np.ndarray,
                       contexts: ContextIndex, household_days: np.ndarray, birth_days: np.ndarray,
                       categories: np.ndarray, female: np.ndarray) -> tuple[Households, Persons, ParamArrays]:
    n, k = h.num_rows, m.num_rows
    months_since = np.full(n, np.nan)
    if "employment_started" in h.column_names:
        col = h.column("employment_started")
        has = ~col.is_null().to_numpy(zero_copy_only=False)
        if has.any():
            start, on = _ymd(col), _ymd(h.column("date"))
            months = (on // 10_000 - start // 10_000) * 12 + (on // 100 % 100 - start // 100 % 100)
            months_since = np.where(has, months - (on % 100 < start % 100), np.nan)
    households = Households(
        ids=np.empty(n, dtype=object),  # the ids stay in Arrow; the kernels never need them
        context=context,
        income={kind: _column(h, f"income_{kind}", "money", n) for kind in INCOME_KINDS
                if f"income_{kind}" in h.column_names},
        expense={kind: _column(h, f"expense_{kind}", "money", n) for kind in EXPENSE_KINDS
                 if f"expense_{kind}" in h.column_names},
        assets_financial=_column(h, "assets_financial", "money", n),
        homes=_column(h, "homes", "money", n),
        vehicle_value=_column(h, "vehicle_value", "money", n),
        previous_topup=_column(h, "previous_topup", "money", n),
        months_since_employment=months_since,
    )
    health = _column(m, "health_coefficient", "float", k) if "health_coefficient" in m.column_names \
        else np.full(k, np.nan)
    persons = Persons(
        household=member_household,
        ids=np.empty(k, dtype=object),
        female=female,
        age=ages_on(birth_days, household_days, member_household),
        disability_grade=_column(m, "disability_grade", "money", k).astype(np.int64),
        health_coefficient=health,
        categories=categories,
        counted=_bool(m, "counted", True, k),
        imputed_base=_column(m, "imputed_monthly_reference", "money", k) * _column(m, "imputed_months", "money", k),
        refused_work=_bool(m, "refused_work", False, k),
    )
    return households, persons, ParamArrays(contexts.contexts, context)


def output_table(ids: pa.Array | pa.ChunkedArray, results: engine.Results) -> pa.Table:
    """One row per household, the field names and values of `rules evaluate`."""
    columns: dict[str, Any] = {"household_id": ids}
    for name, values in output_columns(results).items():
        columns[name] = pa.array(values.astype(np.int32) if name == "size" else values)
    return pa.table(columns)


def compute_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, contexts: ContextIndex,
                   bad: BadRows, *, h_offset: int = 0, m_offset: RowMap = 0,
                   known_region: RegionCheck | None = None) -> pa.Table | None:
    """Validate and compute one chunk; None if it had bad rows (they are in `bad`)."""
    regions = _encoded(h.column("region"))
    sex = _encoded(m.column("sex"))
    h_ok = validate_households(h, regions, h_offset, bad, known_region)
    household_days = _days(h.column("date"))
    birth_days = _days(m.column("birth_date"))
    m_ok = validate_members(m, sex, birth_days, household_days[member_household], member_household, m_offset, bad)
    _ok, flag = _flagger(m.num_rows, "members.parquet", m_offset, bad)
    categories = category_bits(m, flag)
    m_ok &= _ok
    counted = np.bincount(member_household[_bool(m, "counted", True, m.num_rows)], minlength=h.num_rows)
    no_member = (counted == 0) & h_ok
    if no_member.any():
        bad.add("households.parquet", no_member, "household_id", _("needs at least one counted member"), h_offset)
        h_ok &= ~no_member
    if not (h_ok.all() and m_ok.all()):
        return None
    urban = _is(_encoded(h.column("area_type")), "urban")
    context = contexts.assign(regions, household_days, urban)
    households, persons, params = arrays_from_tables(h, m, member_household, context, contexts, household_days,
                                                     birth_days, categories, _is(sex, "female"))
    results = engine.compute(households, persons, params, detail=False)
    if not results.valid.all():
        codes, values = regions
        for i, (exc, ctx) in params.failed.items():
            rows = context == i
            for code in np.unique(codes[rows]):
                bad.add("households.parquet", rows & (codes == code), "region", exc.template, h_offset,
                        name=exc.name, region=str(values[code]), date=ctx.date.isoformat())
        return None
    return output_table(h.column("household_id"), results)


#: Below this many households a chunk is computed in one thread (threads cost more than they save).
PARALLEL_MIN_ROWS = 200_000
SLICES_PER_WORKER = 4
SLICE_MIN_ROWS = 100_000


def compute_chunk(h: pa.Table, m: pa.Table, member_household: np.ndarray, contexts: ContextIndex,
                  bad: BadRows, *, h_offset: int = 0, m_offset: RowMap = 0,
                  known_region: RegionCheck | None = None, workers: int | None = None,
                  min_rows: int = PARALLEL_MIN_ROWS) -> pa.Table | None:
    """`compute_tables` on contiguous slices in parallel threads, results and bad rows in order.

    NumPy and Arrow release the GIL in their loops, so slices of one chunk use every core."""
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers < 2 or h.num_rows < max(min_rows, workers):
        return compute_tables(h, m, member_household, contexts, bad, h_offset=h_offset, m_offset=m_offset,
                              known_region=known_region)
    # Smaller slices than threads: each slice's temporaries are freed before the next is made,
    # so the chunk needs less fresh memory (page faults are much of the cost on a VM).
    slices = max(workers, min(SLICES_PER_WORKER * workers, h.num_rows // SLICE_MIN_ROWS))
    bounds = np.linspace(0, h.num_rows, slices + 1).astype(np.int64)
    # Slices on the table's own chunk (row-group) boundaries hand every column over without a copy.
    chunk_ends = np.cumsum([0, *(len(c) for c in h.column(0).chunks)])
    if workers <= len(chunk_ends) - 1 <= 2 * slices:
        bounds = chunk_ends.astype(np.int64)
    member_bounds = np.searchsorted(member_household, bounds)
    parts = []
    for a, b, ma, mb in zip(bounds[:-1], bounds[1:], member_bounds[:-1], member_bounds[1:], strict=True):
        rows = m_offset[ma:mb] if isinstance(m_offset, np.ndarray) else m_offset + int(ma)
        parts.append((int(a), int(b), int(ma), int(mb), rows, BadRows(limit=bad.limit),
                      ContextIndex(contexts.tree, contexts.overrides)))

    def run(part: tuple[int, int, int, int, RowMap, BadRows, ContextIndex]) -> pa.Table | None:
        a, b, ma, mb, rows, part_bad, part_contexts = part
        return compute_tables(h.slice(a, b - a), m.slice(ma, mb - ma), member_household[ma:mb] - a, part_contexts,
                              part_bad, h_offset=h_offset + a, m_offset=rows, known_region=known_region)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        tables = list(pool.map(run, parts))
    for part in parts:
        part_bad = part[5]
        bad.rows.extend(part_bad.rows[: max(0, bad.limit - len(bad.rows))])
        bad.count += part_bad.count
    if bad.count or any(t is None for t in tables):
        return None
    return pa.concat_tables([t for t in tables if t is not None])


@dataclass
class Layout:
    """Where each member's household is (its row in households.parquet)."""

    member_household: np.ndarray
    ordered: bool  # members grouped in the order of the households: read both side by side


def _run_starts(ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Where a new household's members begin, and the id of each run.

    Members' household ids are read as dictionaries (each row group stores them so): runs are
    found by comparing the small integer codes, and only one id per run is made as text. A
    code change between equal texts only adds a false run, which the caller's check rejects."""
    if not pa.types.is_dictionary(ids.type):
        start = np.ones(len(ids), dtype=np.bool_)
        start[1:] = ~pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
        return start, ids.take(pa.array(np.flatnonzero(start)))
    starts, values = [], []
    last: Any = None
    for chunk in ids.chunks:
        if len(chunk) == 0:
            continue
        codes = chunk.indices.to_numpy(zero_copy_only=False)
        start = np.ones(len(codes), dtype=np.bool_)
        np.not_equal(codes[1:], codes[:-1], out=start[1:])
        if last is not None:
            start[0] = chunk.dictionary[int(codes[0])] != last
        starts.append(start)
        values.append(chunk.dictionary.take(pa.array(codes[start])))
        last = chunk.dictionary[int(codes[-1])]
    return np.concatenate(starts), pa.chunked_array(values, type=ids.type.value_type)


def _ordered_layout(h_ids: pa.ChunkedArray, m_ids: pa.ChunkedArray) -> np.ndarray | None:
    """The cheap path: ids strictly increasing and members grouped in the same order."""
    if h_ids.null_count or m_ids.null_count or len(h_ids) == 0 or len(m_ids) == 0:
        return None
    if len(h_ids) > 1 and not pc.all(pc.less(h_ids[:-1], h_ids[1:])).as_py():
        return None
    start, run_ids = _run_starts(m_ids)
    runs = np.flatnonzero(start)
    if len(runs) != len(h_ids) or not pc.all(pc.equal(run_ids, h_ids)).as_py():
        return None
    household: np.ndarray = np.repeat(np.arange(len(runs), dtype=np.int64), np.diff(runs, append=len(m_ids)))
    return household


def plan(h_ids: pa.ChunkedArray, m_ids: pa.ChunkedArray, bad: BadRows) -> Layout | None:
    """Orphans, duplicates and whether members follow the households' order."""
    fast = _ordered_layout(h_ids, m_ids)
    if fast is not None:
        return Layout(fast, True)
    if pa.types.is_dictionary(m_ids.type):
        m_ids = m_ids.cast(m_ids.type.value_type)
    h_ids, m_ids = h_ids.combine_chunks(), m_ids.combine_chunks()
    counts = pc.value_counts(h_ids)
    duplicated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(duplicated):
        bad.add("households.parquet", pc.is_in(h_ids, duplicated).to_numpy(zero_copy_only=False), "household_id",
                _("is used twice"))
    position = pc.index_in(m_ids, value_set=h_ids)
    orphan = position.is_null().to_numpy(zero_copy_only=False)
    if orphan.any():
        bad.add("members.parquet", orphan, "household_id", _("refers to a household that is not in the file"))
    if bad.count:
        return None
    where = position.to_numpy(zero_copy_only=False).astype(np.int64)
    return Layout(where, bool(np.all(np.diff(where) >= 0)))


def _row_group_chunks(file: pq.ParquetFile, chunk_rows: int) -> list[list[int]]:
    """Whole row groups per chunk, about `chunk_rows` rows each (a larger group is its own chunk)."""
    chunks: list[list[int]] = [[]]
    rows = 0
    for group in range(file.metadata.num_row_groups):
        size = file.metadata.row_group(group).num_rows
        if chunks[-1] and rows + size > chunk_rows:
            chunks.append([])
            rows = 0
        chunks[-1].append(group)
        rows += size
    return [c for c in chunks if c]


class _RowGroupReader:
    """Members in slices of exactly the sizes asked for, read row group by row group on all cores."""

    def __init__(self, file: pq.ParquetFile, columns: list[str]):
        self.file, self.columns = file, columns
        self.next_group = 0
        self.buffer = file.schema_arrow.empty_table().select(columns)

    def take(self, rows: int) -> pa.Table:
        groups = []
        buffered = self.buffer.num_rows
        while buffered < rows and self.next_group < self.file.metadata.num_row_groups:
            groups.append(self.next_group)
            buffered += self.file.metadata.row_group(self.next_group).num_rows
            self.next_group += 1
        if groups:
            read = self.file.read_row_groups(groups, columns=self.columns, use_threads=True)
            self.buffer = pa.concat_tables([self.buffer, read], promote_options="permissive") \
                if self.buffer.num_rows else read
        taken, self.buffer = self.buffer.slice(0, rows), self.buffer.slice(rows)
        return taken


class _Output:
    """Writes to a hidden file beside the target and renames it only when all went well."""

    def __init__(self, path: Path):
        self.path = path
        fd, tmp = tempfile.mkstemp(prefix=".batch-", suffix=".parquet", dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> None:
        if self.writer is None:
            pq.write_table(output_table(pa.array([], pa.string()), _empty_results()), self.tmp)
        else:
            self.writer.close()
            self.writer = None
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        """Rename into place if all went well; otherwise leave nothing behind."""
        if kind is None:
            self.commit()
        else:
            self.discard()


def _dictionary(file: pq.ParquetFile) -> list[str]:
    return [c for c in DICTIONARY_COLUMNS if c in file.schema_arrow.names]


def _open(path: str | Path, *also: str) -> pq.ParquetFile:
    """A Parquet file whose few-valued text columns (and `also`) are read as dictionaries."""
    return pq.ParquetFile(path, read_dictionary=[*_dictionary(pq.ParquetFile(path)), *also])


def _columns_to_read(file: pq.ParquetFile) -> list[str]:
    """Every column except optional numbers that are zero in every row group.

    Files often carry an income or expense column for every kind, most of them all zero;
    the row-group statistics say so without reading them, and an absent amount is zero."""
    names = file.schema_arrow.names
    metadata = file.metadata
    skip = set()
    for index, name in enumerate(names):
        if name not in HOUSEHOLD_MONEY and name not in ("imputed_monthly_reference", "imputed_months"):
            continue
        zero = metadata.num_row_groups > 0
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(index).statistics
            if stats is None or not stats.has_min_max or stats.null_count != 0 or stats.min != 0 or stats.max != 0:
                zero = False
                break
        if zero:
            skip.add(name)
    return [n for n in names if n not in skip]


def compute_files(households_path: str | Path, members_path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK,
                  tree: ParameterTree | None = None, known_region: RegionCheck | None = None,
                  progress: Callable[[int], None] | None = None,
                  overrides: Mapping[str, Scalar] | None = None) -> Iterator[pa.Table]:
    """Result tables chunk by chunk; raises BadInput at the end if any row was bad.

    A caller must not keep results before the iteration has finished cleanly."""
    tree = tree or default_tree()
    bad = BadRows()
    h_file, m_file = _open(households_path), _open(members_path, "household_id")
    _check_columns(h_file.schema_arrow, "households.parquet", HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED, bad)
    _check_columns(m_file.schema_arrow, "members.parquet", MEMBER_COLUMNS, MEMBER_REQUIRED, bad)
    if bad.count:
        raise BadInput(bad.rows)
    contexts = ContextIndex(tree, overrides)
    n = h_file.metadata.num_rows
    if n == 0:  # nothing to compute; the caller writes an empty result
        return
    if n <= chunk_rows:  # one chunk: read each file once, on all cores
        with ThreadPoolExecutor(max_workers=2) as pool:  # both files at once: decoding overlaps
            h_read = pool.submit(h_file.read, columns=_columns_to_read(h_file), use_threads=True)
            m_read = pool.submit(m_file.read, columns=_columns_to_read(m_file), use_threads=True)
            h, m = h_read.result(), m_read.result()
        layout = plan(h.column("household_id"), m.column("household_id"), bad)
        if layout is None:
            raise BadInput(bad.rows)
        m_rows: RowMap = 0
        if not layout.ordered:
            m_rows = np.argsort(layout.member_household, kind="stable")
            m, layout.member_household = m.take(pa.array(m_rows)), layout.member_household[m_rows]
        table = compute_chunk(h, m, layout.member_household, contexts, bad, m_offset=m_rows,
                               known_region=known_region)
        if progress is not None:
            progress(n)
        if table is None or bad.count:
            raise BadInput(bad.rows)
        yield table
        return
    layout = plan(h_file.read(columns=["household_id"]).column(0), m_file.read(columns=["household_id"]).column(0),
                  bad)
    if layout is None:
        raise BadInput(bad.rows)
    order: np.ndarray | None = None
    reader: _RowGroupReader | None = None
    all_members = None
    if layout.ordered:
        reader = _RowGroupReader(m_file, _columns_to_read(m_file))
    else:  # members out of order: gather them by household once (memory grows with the file)
        order = np.argsort(layout.member_household, kind="stable")
        all_members = m_file.read(columns=_columns_to_read(m_file)).take(pa.array(order))
        layout.member_household = layout.member_household[order]
    h_columns = _columns_to_read(h_file)
    h_offset = 0
    for groups in _row_group_chunks(h_file, chunk_rows):
        h = h_file.read_row_groups(groups, columns=h_columns, use_threads=True)
        lo, hi = np.searchsorted(layout.member_household, [h_offset, h_offset + h.num_rows])
        lo, hi = int(lo), int(hi)
        m = reader.take(hi - lo) if reader is not None else all_members.slice(lo, hi - lo)  # type: ignore[union-attr]
        table = compute_chunk(h, m, layout.member_household[lo:hi] - h_offset, contexts, bad, h_offset=h_offset,
                               m_offset=lo if order is None else order[lo:hi], known_region=known_region)
        if table is not None and not bad.count:
            yield table
        h_offset += h.num_rows
        if progress is not None:
            progress(h.num_rows)
    if bad.count:
        raise BadInput(bad.rows)


def run_batch(households_path: str | Path, members_path: str | Path, out_path: str | Path, *,
              chunk_rows: int = DEFAULT_CHUNK, tree: ParameterTree | None = None,
              known_region: RegionCheck | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Compute every household into `out_path`; BadInput and no output if any row is bad."""
    with _Output(Path(out_path)) as output:
        for table in compute_files(households_path, members_path, chunk_rows=chunk_rows, tree=tree,
                                   known_region=known_region, progress=progress):
            output.write(table)
    return output.rows


def _empty_results() -> engine.Results:
    return engine.Results(household={name: np.zeros(0) for name in engine.OUTPUT_FIELDS}, member={},
                          valid=np.zeros(0, dtype=np.bool_))
