"""`rules batch`: the vectorised means test over Parquet files, chunk by chunk.

Memory stays flat: households are read in chunks and each chunk's members with them.
Every row is validated as `rules evaluate` would validate the same household; if any
row is bad the report lists each (file, row, column, reason) and no output is left.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.rules import engine
from jiuzhu.rules.arrays import Households, ParamArrays, Persons
from jiuzhu.rules.case import completed_years, effective_region
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.evaluate import output_columns
from jiuzhu.rules.i18n import translate
from jiuzhu.rules.parameters import ParameterContext, ParameterTree, default_tree
from jiuzhu.rules.vocabulary import AREA_TYPES, CATEGORIES, CATEGORY_BIT, EXPENSE_KINDS, INCOME_KINDS, SEXES

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
DEFAULT_CHUNK = 250_000


class BadInput(Exception):
    """Rows or columns that cannot be computed; `rows` lists every one found."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        super().__init__(f"{len(rows)} bad rows")

    def as_list(self, lang: str | None = None) -> list[dict[str, Any]]:
        return [{**r, "reason": translate(r["reason"], lang).format(**r.get("args", {}))}
                for r in self.rows]


@dataclass
class BadRows:
    """Collects bad rows across chunks; stops listing after `limit` but keeps counting."""

    limit: int = 1000
    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, file: str, rows: np.ndarray, column: str, reason: str, offset: int = 0, **args: Any) -> None:
        rows = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows
        self.count += len(rows)
        for r in rows[: max(0, self.limit - len(self.rows))]:
            self.rows.append({"file": file, "row": int(r) + offset, "column": column, "reason": reason,
                              "args": args})


def _column(table: pa.Table, name: str, kind: str, n: int) -> np.ndarray:
    """A numeric column as NumPy, absent → zeros; nulls become NaN (checked by the caller)."""
    if name not in table.column_names:
        return np.zeros(n, dtype=np.float64)
    col = table.column(name).cast(pa.float64())
    values: np.ndarray = (col if kind == "float" else col.fill_null(0)).to_numpy(zero_copy_only=False)
    return values


def _bool(table: pa.Table, name: str, default: bool, n: int) -> np.ndarray:
    if name not in table.column_names:
        return np.full(n, default, dtype=np.bool_)
    result: np.ndarray = table.column(name).fill_null(default).to_numpy(zero_copy_only=False).astype(np.bool_)
    return result


def _days(col: pa.ChunkedArray) -> np.ndarray:
    days: np.ndarray = col.cast(pa.date32()).cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
    return days.astype("datetime64[D]")


class ContextIndex:
    """Parameter contexts shared by all chunks: one per (parameter level, date, area type)."""

    def __init__(self, tree: ParameterTree):
        self.tree = tree
        self.contexts: list[ParameterContext] = []
        self.keys: dict[tuple[str, int, str], int] = {}

    def assign(self, regions: pa.ChunkedArray, dates: np.ndarray, area_types: pa.ChunkedArray) -> np.ndarray:
        region_codes = pc.dictionary_encode(regions).combine_chunks()
        region_index = region_codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        region_values = region_codes.dictionary.to_pylist()
        level_of = np.array([self._level(r) for r in region_values], dtype=object)
        level_codes, level_index = np.unique(level_of[region_index].astype(str), return_inverse=True) \
            if len(region_index) else (np.array([], dtype=str), np.zeros(0, dtype=np.int64))
        urban = pc.equal(area_types, "urban").fill_null(False).to_numpy(zero_copy_only=False).astype(np.int64)
        day = dates.astype(np.int64)
        offset = day - day.min() if len(day) else day
        span = int(offset.max()) + 1 if len(day) else 1
        key = (level_index.astype(np.int64) * 2 + urban) * span + offset
        unique, inverse = np.unique(key, return_inverse=True)
        first = np.zeros(len(unique), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(key))[::-1]
        out = np.empty(len(unique), dtype=np.int64)
        for u, row in enumerate(first):
            level = str(level_codes[level_index[row]])
            area = "urban" if urban[row] else "rural"
            date = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + int(day[row]))
            k = (level, date.toordinal(), area)
            if k not in self.keys:
                self.keys[k] = len(self.contexts)
                self.contexts.append(ParameterContext(self.tree, level, date, area))
            out[u] = self.keys[k]
        result: np.ndarray = out[inverse]
        return result

    def _level(self, region: str | None) -> str:
        return effective_region(self.tree, region) if region else ""


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


def validate_households(t: pa.Table, offset: int, bad: BadRows, known_region: RegionCheck | None) -> np.ndarray:
    """Row checks of households.parquet; returns the rows that are fine."""
    n = t.num_rows
    ok = np.ones(n, dtype=np.bool_)
    f = "households.parquet"

    def flag(mask: np.ndarray, column: str, reason: str, **args: Any) -> None:
        mask = mask & ok
        if mask.any():
            bad.add(f, mask, column, reason, offset, **args)
            ok[mask] = False

    flag(t.column("household_id").is_null().to_numpy(zero_copy_only=False), "household_id", _("is required"))
    regions = t.column("region")
    if not pa.types.is_string(regions.type) and not pa.types.is_large_string(regions.type):
        flag(np.ones(n, dtype=np.bool_), "region", _("must be a division code of 6, 9 or 12 digits, written as text"))
        return ok
    shape = pc.match_substring_regex(regions, r"^\d{6}(\d{3}(\d{3})?)?$").fill_null(False)
    flag(~shape.to_numpy(zero_copy_only=False), "region",
         _("must be a division code of 6, 9 or 12 digits, written as text"))
    if known_region is not None:
        values = pc.unique(regions).to_pylist()
        unknown = [v for v in values if v and not known_region(v)]
        if unknown:
            flag(pc.is_in(regions, pa.array(unknown)).to_numpy(zero_copy_only=False), "region",
                 _("is not a known division code"))
    flag(t.column("date").is_null().to_numpy(zero_copy_only=False), "date", _("is required"))
    area_ok = pc.is_in(t.column("area_type"), pa.array(list(AREA_TYPES))).fill_null(False)
    flag(~area_ok.to_numpy(zero_copy_only=False), "area_type", _("must be urban or rural"))
    for name in (*HOUSEHOLD_MONEY, "homes"):
        if name in t.column_names:
            values = t.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            flag(~np.isfinite(values) & ~np.isnan(values), name, _("must be a number"))
            flag(np.nan_to_num(values) < 0, name, _("must not be negative"))
    return ok


def validate_members(t: pa.Table, household_dates: np.ndarray, offset: int, bad: BadRows) -> np.ndarray:
    """Row checks of members.parquet; returns the rows that are fine."""
    n = t.num_rows
    ok = np.ones(n, dtype=np.bool_)
    f = "members.parquet"

    def flag(mask: np.ndarray, column: str, reason: str, **args: Any) -> None:
        mask = mask & ok
        if mask.any():
            bad.add(f, mask, column, reason, offset, **args)
            ok[mask] = False

    flag(t.column("member_id").is_null().to_numpy(zero_copy_only=False), "member_id", _("is required"))
    sex_ok = pc.is_in(t.column("sex"), pa.array(list(SEXES))).fill_null(False).to_numpy(zero_copy_only=False)
    flag(~sex_ok, "sex", _("must be male or female"))
    births_null = t.column("birth_date").is_null().to_numpy(zero_copy_only=False)
    flag(births_null, "birth_date", _("is required"))
    births = _days(t.column("birth_date"))
    flag(births > household_dates, "birth_date", _("is after the case date"))
    if "disability_grade" in t.column_names:
        g = t.column("disability_grade").cast(pa.float64()).to_numpy(zero_copy_only=False)
        flag(~np.isnan(g) & ((g < 1) | (g > 10) | (g != np.round(g))), "disability_grade",
             _("must be a whole number from 1 (most severe) to 10"))
    if "health_coefficient" in t.column_names:
        h = t.column("health_coefficient").cast(pa.float64()).to_numpy(zero_copy_only=False)
        flag(~np.isnan(h) & ((h < 0) | (h > 1)), "health_coefficient", _("must be at most {high}"), high=1.0)
    for name, high in (("imputed_monthly_reference", None), ("imputed_months", 12.0)):
        if name in t.column_names:
            v = t.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            flag(np.nan_to_num(v) < 0, name, _("must not be negative"))
            if high is not None:
                flag(np.nan_to_num(v) > high, name, _("must be at most {high}"), high=high)
    if "categories" in t.column_names:
        tags = pc.split_pattern(t.column("categories").fill_null(""), ",")
        flat = pc.list_flatten(tags)
        parents = pc.list_parent_indices(tags).to_numpy(zero_copy_only=False)
        known = pc.is_in(pc.utf8_trim_whitespace(flat), pa.array(["", *CATEGORIES])).to_numpy(
            zero_copy_only=False)
        unknown_rows = np.zeros(n, dtype=np.bool_)
        unknown_rows[parents[~known]] = True
        flag(unknown_rows, "categories", _("has a category that is not known"))
    return ok


def category_bits(t: pa.Table) -> np.ndarray:
    n = t.num_rows
    bits = np.zeros(n, dtype=np.int64)
    if "categories" not in t.column_names:
        return bits
    col = t.column("categories").fill_null("")
    for name in CATEGORIES:
        has = pc.match_substring_regex(col, rf"(^|,)\s*{name}\s*(,|$)").to_numpy(zero_copy_only=False)
        bits |= np.where(has, CATEGORY_BIT[name], 0)
    return bits


def arrays_from_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, context: np.ndarray,
                       contexts: ContextIndex) -> tuple[Households, Persons, ParamArrays]:
    n = h.num_rows
    dates = _days(h.column("date"))
    employment = h.column("employment_started") if "employment_started" in h.column_names else None
    months_since = np.full(n, np.nan)
    if employment is not None:
        start = _days(employment)
        has = ~employment.is_null().to_numpy(zero_copy_only=False)
        sm = start.astype("datetime64[M]").astype(np.int64)
        dm = dates.astype("datetime64[M]").astype(np.int64)
        sd = (start - start.astype("datetime64[M]")).astype(np.int64)
        dd = (dates - dates.astype("datetime64[M]")).astype(np.int64)
        months_since = np.where(has, (dm - sm) - (dd < sd), np.nan)
    households = Households(
        ids=np.asarray(h.column("household_id").to_numpy(zero_copy_only=False), dtype=object),
        context=context,
        income={k: _column(h, f"income_{k}", "money", n) for k in INCOME_KINDS if f"income_{k}" in h.column_names},
        expense={k: _column(h, f"expense_{k}", "money", n) for k in EXPENSE_KINDS
                 if f"expense_{k}" in h.column_names},
        assets_financial=_column(h, "assets_financial", "money", n),
        homes=_column(h, "homes", "money", n),
        vehicle_value=_column(h, "vehicle_value", "money", n),
        previous_topup=_column(h, "previous_topup", "money", n),
        months_since_employment=months_since,
    )
    k = m.num_rows
    grades = _column(m, "disability_grade", "money", k).astype(np.int64)
    health = _column(m, "health_coefficient", "float", k) if "health_coefficient" in m.column_names \
        else np.full(k, np.nan)
    monthly = _column(m, "imputed_monthly_reference", "money", k)
    months = _column(m, "imputed_months", "money", k)
    persons = Persons(
        household=member_household,
        ids=np.asarray(m.column("member_id").to_numpy(zero_copy_only=False), dtype=object),
        female=pc.equal(m.column("sex"), "female").fill_null(False).to_numpy(zero_copy_only=False).astype(bool),
        age=completed_years(_days(m.column("birth_date")), dates[member_household]),
        disability_grade=grades,
        health_coefficient=health,
        categories=category_bits(m),
        counted=_bool(m, "counted", True, k),
        imputed_base=monthly * months,
        refused_work=_bool(m, "refused_work", False, k),
    )
    return households, persons, ParamArrays(contexts.contexts, context)


def output_table(ids: pa.Array, results: engine.Results) -> pa.Table:
    """One row per household, the field names and values of `rules evaluate`."""
    columns: dict[str, Any] = {"household_id": ids}
    for name, values in output_columns(results).items():
        columns[name] = pa.array(values.astype(np.int32) if name == "size" else values)
    return pa.table(columns)


def compute_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, contexts: ContextIndex,
                   bad: BadRows, *, h_offset: int = 0, m_offset: int = 0,
                   known_region: RegionCheck | None = None) -> pa.Table | None:
    """Validate and compute one chunk; None if it had bad rows (they are in `bad`)."""
    h_ok = validate_households(h, h_offset, bad, known_region)
    dates = _days(h.column("date"))
    m_ok = validate_members(m, dates[member_household], m_offset, bad)
    counted = np.bincount(member_household[_bool(m, "counted", True, m.num_rows)], minlength=h.num_rows)
    no_member = (counted == 0) & h_ok
    if no_member.any():
        bad.add("households.parquet", no_member, "household_id", _("needs at least one counted member"), h_offset)
        h_ok &= ~no_member
    if not (h_ok.all() and m_ok.all()):
        return None
    context = contexts.assign(h.column("region"), dates, h.column("area_type"))
    households, persons, params = arrays_from_tables(h, m, member_household, context, contexts)
    results = engine.compute(households, persons, params)
    if not results.valid.all():
        regions = h.column("region").to_numpy(zero_copy_only=False)
        for i, (exc, ctx) in params.failed.items():
            rows = context == i
            for region in np.unique(regions[rows]):
                bad.add("households.parquet", rows & (regions == region), "region", exc.template, h_offset,
                        name=exc.name, region=str(region), date=ctx.date.isoformat())
        return None
    return output_table(h.column("household_id").combine_chunks(), results)


@dataclass
class Layout:
    """Where each chunk's members are: members must follow the households' order."""

    member_household: np.ndarray  # global household row of each member row
    ordered: bool


def plan(households: pq.ParquetFile, members: pq.ParquetFile, bad: BadRows) -> Layout | None:
    """Reads only the id columns: orphans, duplicates and whether members are in order."""
    h_ids = households.read(columns=["household_id"]).column("household_id")
    m_ids = members.read(columns=["household_id"]).column("household_id")
    counts = pc.value_counts(h_ids)
    duplicated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(duplicated):
        bad.add("households.parquet", pc.is_in(h_ids, duplicated).to_numpy(zero_copy_only=False), "household_id",
                _("is used twice"))
    position = pc.index_in(m_ids, value_set=h_ids.combine_chunks())
    orphan = position.is_null().to_numpy(zero_copy_only=False)
    if orphan.any():
        bad.add("members.parquet", orphan, "household_id", _("refers to a household that is not in the file"))
    if bad.count:
        return None
    where = position.to_numpy(zero_copy_only=False).astype(np.int64)
    return Layout(where, bool(np.all(np.diff(where) >= 0)))


def _member_batches(members: pq.ParquetFile, columns: list[str]) -> Generator[pa.Table, int, None]:
    """Members in slices of exactly the sizes asked for, read batch by batch."""
    buffer: list[pa.RecordBatch] = []
    buffered = 0
    batches = members.iter_batches(batch_size=65_536, columns=columns)
    empty = members.schema_arrow.empty_table().select(columns)
    need = yield empty  # primed by the caller
    while True:
        while buffered < need:
            batch = next(batches)
            buffer.append(batch)
            buffered += batch.num_rows
        table = pa.Table.from_batches(buffer) if buffer else empty
        taken, rest = table.slice(0, need), table.slice(need)
        buffer, buffered = rest.to_batches(), rest.num_rows
        need = yield taken


def run_batch(households_path: str | Path, members_path: str | Path, out_path: str | Path, *,
              chunk_rows: int = DEFAULT_CHUNK, tree: ParameterTree | None = None,
              known_region: RegionCheck | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Compute every household; BadInput (and no output file) if any row is bad. Returns rows written."""
    tree = tree or default_tree()
    bad = BadRows()
    h_file, m_file = pq.ParquetFile(households_path), pq.ParquetFile(members_path)
    _check_columns(h_file.schema_arrow, "households.parquet", HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED, bad)
    _check_columns(m_file.schema_arrow, "members.parquet", MEMBER_COLUMNS, MEMBER_REQUIRED, bad)
    if bad.count:
        raise BadInput(bad.rows)
    layout = plan(h_file, m_file, bad)
    if layout is None:
        raise BadInput(bad.rows)
    contexts = ContextIndex(tree)
    out_path = Path(out_path)
    fd, tmp = tempfile.mkstemp(prefix=".batch-", suffix=".parquet", dir=out_path.parent or ".")
    os.close(fd)
    writer: pq.ParquetWriter | None = None
    written = 0
    m_columns = m_file.schema_arrow.names
    try:
        if layout.ordered:
            member_reader = _member_batches(m_file, m_columns)
            next(member_reader)
            all_members = None
        else:  # members out of order: gather them by household once (memory grows with the file)
            order = np.argsort(layout.member_household, kind="stable")
            all_members = m_file.read().take(pa.array(order))
            layout.member_household = layout.member_household[order]
        starts = np.searchsorted(layout.member_household, np.arange(0, h_file.metadata.num_rows + chunk_rows,
                                                                    chunk_rows))
        h_offset = 0
        for i, batch in enumerate(h_file.iter_batches(batch_size=chunk_rows)):
            h = pa.Table.from_batches([batch])
            lo, hi = int(starts[i]), int(starts[min(i + 1, len(starts) - 1)])
            m = member_reader.send(hi - lo) if all_members is None else all_members.slice(lo, hi - lo)
            member_household = layout.member_household[lo:hi] - h_offset
            table = compute_tables(h, m, member_household, contexts, bad, h_offset=h_offset, m_offset=lo,
                                   known_region=known_region)
            if table is not None and not bad.count:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                written += table.num_rows
            h_offset += h.num_rows
            if progress is not None:
                progress(h.num_rows)
        if writer is not None:
            writer.close()
            writer = None
        if bad.count:
            raise BadInput(bad.rows)
        if written == 0:
            pq.write_table(output_table(pa.array([], pa.string()), _empty_results()), tmp)
        os.replace(tmp, out_path)
        return written
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)


def _empty_results() -> engine.Results:
    return engine.Results(household={name: np.zeros(0) for name in engine.OUTPUT_FIELDS}, member={},
                          valid=np.zeros(0, dtype=np.bool_))
