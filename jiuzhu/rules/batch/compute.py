"""Computing chunks of households: validation, arrays, the engine, the result table."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from jiuzhu.rules import engine
from jiuzhu.rules.arrays import Households, ParamArrays, Persons
from jiuzhu.rules.batch.layout import households_of
from jiuzhu.rules.batch.schema import (
    RegionCheck,
    bool_column,
    day_numbers,
    encoded,
    equals,
    grade_column,
    number_column,
    ymd_numbers,
)
from jiuzhu.rules.batch.validation import (
    BadRows,
    RowMap,
    category_bits,
    flagger,
    validate_households,
    validate_members,
)
from jiuzhu.rules.case import effective_region
from jiuzhu.rules.dates import ages_on
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.evaluate import output_columns
from jiuzhu.rules.parameters import ParameterContext, ParameterTree, Scalar
from jiuzhu.rules.vocabulary import EXPENSE_KINDS, INCOME_KINDS


class ContextIndex:
    """Parameter contexts shared by all chunks: one per (parameter level, date, area type)."""

    def __init__(self, tree: ParameterTree, overrides: Mapping[str, Scalar] | None = None,
                 levels: dict[str, str] | None = None):
        self.tree = tree
        self.overrides = dict(overrides or {})
        self.contexts: list[ParameterContext] = []
        self.keys: dict[tuple[str, int, str], int] = {}
        #: Region code → its parameter level, shared by the slices of a run (a county has a
        #: thousand village codes, and every slice meets most of them).
        self.levels = {} if levels is None else levels

    def for_slice(self) -> ContextIndex:
        """An index of its own for a thread's slice, sharing what regions resolve to."""
        return ContextIndex(self.tree, self.overrides, self.levels)

    def assign(self, regions: tuple[np.ndarray, list[Any]], days: np.ndarray, urban: np.ndarray) -> np.ndarray:
        codes, values = regions
        levels = sorted({self._level(v) for v in values})
        level_of_value = np.array([levels.index(self._level(v)) for v in values] or [0], dtype=np.int64)
        level_index = level_of_value[np.maximum(codes, 0)]
        offset = days - days.min() if len(days) else days
        span = int(offset.max()) + 1 if len(days) else 1
        key = (level_index * 2 + urban.astype(np.int64)) * span + offset
        base = int(days.min()) if len(days) else 0
        if len(key) and int(key.max()) < 4 * len(key):  # few, small keys: count them instead of sorting
            present = np.bincount(key) > 0
            unique = np.flatnonzero(present)
            inverse = (np.cumsum(present) - 1)[key]
        else:
            unique, inverse = np.unique(key, return_inverse=True)
        out = np.empty(len(unique), dtype=np.int64)
        for u, value in enumerate(unique.tolist()):
            group, day = divmod(value, span)
            level, area = levels[group // 2], "urban" if group % 2 else "rural"
            date = dt.date.fromordinal(_EPOCH + base + day)
            k = (level, date.toordinal(), area)
            if k not in self.keys:
                self.keys[k] = len(self.contexts)
                self.contexts.append(ParameterContext(self.tree, level, date, area, self.overrides))
            out[u] = self.keys[k]
        result: np.ndarray = out[inverse]
        return result

    def _level(self, region: str | None) -> str:
        if not region:
            return ""
        level = self.levels.get(region)
        if level is None:
            level = self.levels[region] = effective_region(self.tree, region)
        return level


_EPOCH = dt.date(1970, 1, 1).toordinal()


def arrays_from_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, context: np.ndarray,
                       contexts: ContextIndex, household_days: np.ndarray, birth_days: np.ndarray,
                       categories: np.ndarray, female: np.ndarray, counted: np.ndarray,
                       size: np.ndarray) -> tuple[Households, Persons, ParamArrays]:
    n, k = h.num_rows, m.num_rows
    months_since = np.full(n, np.nan)
    if "employment_started" in h.column_names:
        col = h.column("employment_started")
        if col.null_count < n:  # the few households in gradual exit: only their rows are looked at
            rows = np.flatnonzero(~col.is_null().to_numpy(zero_copy_only=False))
            index = pa.array(rows)
            start, on = ymd_numbers(col.take(index)), ymd_numbers(h.column("date").take(index))
            months = (on // 10_000 - start // 10_000) * 12 + (on // 100 % 100 - start // 100 % 100)
            months_since[rows] = months - (on % 100 < start % 100)
    households = Households(
        context=context,
        income={kind: number_column(h, f"income_{kind}", "money", n) for kind in INCOME_KINDS
                if f"income_{kind}" in h.column_names},
        expense={kind: number_column(h, f"expense_{kind}", "money", n) for kind in EXPENSE_KINDS
                 if f"expense_{kind}" in h.column_names},
        assets_financial=number_column(h, "assets_financial", "money", n),
        homes=number_column(h, "homes", "money", n),
        vehicle_value=number_column(h, "vehicle_value", "money", n),
        previous_topup=number_column(h, "previous_topup", "money", n),
        months_since_employment=months_since,
        counted_members=size,
        wage_earners=_wage_earners(h, n),
    )
    health = number_column(m, "health_coefficient", "float", k) if "health_coefficient" in m.column_names \
        else np.full(k, np.nan)
    persons = Persons(
        household=member_household,
        female=female,
        age=ages_on(birth_days, household_days, member_household),
        disability_grade=grade_column(m, k),
        health_coefficient=health,
        categories=categories,
        counted=counted,
        imputed_base=number_column(m, "imputed_monthly_reference", "money", k)
        * number_column(m, "imputed_months", "money", k),
        refused_work=bool_column(m, "refused_work", False, k),
    )
    return households, persons, ParamArrays(contexts.contexts, context)


def _wage_earners(h: pa.Table, n: int) -> np.ndarray | None:
    """The column where given; a null row is one earner if the household has wages."""
    if "wage_earners" not in h.column_names:
        return None
    earners = number_column(h, "wage_earners", "float", n)
    missing = np.isnan(earners)
    if missing.any():
        earners = np.where(missing, number_column(h, "income_wage", "money", n) > 0, earners)
    return earners


def output_table(ids: pa.Array | pa.ChunkedArray, results: engine.Results) -> pa.Table:
    """One row per household, the field names and values of `rules evaluate`."""
    columns: dict[str, Any] = {"household_id": ids}
    for name, values in output_columns(results).items():
        columns[name] = pa.array(values.astype(np.int32) if name == "size" else values)
    return pa.table(columns)


def contiguous(table: pa.Table) -> pa.Table:
    """Number and date columns in one piece, so that every later read is a view, not a copy."""
    columns = [c.combine_chunks() if c.num_chunks > 1 and not pa.types.is_dictionary(c.type)
               and not pa.types.is_string(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, schema=table.schema)


def compute_tables(h: pa.Table, m: pa.Table, member_household: np.ndarray, contexts: ContextIndex,
                   bad: BadRows, *, h_offset: int = 0, m_offset: RowMap = 0,
                   known_region: RegionCheck | None = None) -> pa.Table | None:
    """Validate and compute one chunk; None if it had bad rows (they are in `bad`)."""
    h, m = contiguous(h), contiguous(m)
    regions = encoded(h.column("region"))
    sex = encoded(m.column("sex"))
    h_ok = validate_households(h, regions, h_offset, bad, known_region)
    household_days = day_numbers(h.column("date"))
    birth_days = day_numbers(m.column("birth_date"))
    # One date for the whole chunk (the usual case) is compared as it is, not spread over members.
    one_day = len(household_days) > 0 and household_days.min() == household_days.max()
    member_days = household_days[:1] if one_day else household_days[member_household]
    m_ok = validate_members(m, sex, birth_days, member_days, member_household, m_offset, bad)
    _ok, flag = flagger(m.num_rows, "members.parquet", m_offset, bad)
    categories = category_bits(m, flag)
    m_ok &= _ok
    counted = bool_column(m, "counted", True, m.num_rows)
    size = np.bincount(member_household[counted] if not counted.all() else member_household,
                       minlength=h.num_rows).astype(np.int64, copy=False)
    no_member = (size == 0) & h_ok
    if no_member.any():
        bad.add("households.parquet", no_member, "household_id", _("needs at least one counted member"), h_offset)
        h_ok &= ~no_member
    if not (h_ok.all() and m_ok.all()):
        return None
    urban = equals(encoded(h.column("area_type")), "urban")
    context = contexts.assign(regions, household_days, urban)
    households, persons, params = arrays_from_tables(h, m, member_household, context, contexts, household_days,
                                                     birth_days, categories, equals(sex, "female"), counted, size)
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


def compute_chunk(h: pa.Table, m: pa.Table, member_household: np.ndarray | None, contexts: ContextIndex,
                  bad: BadRows, *, h_offset: int = 0, m_offset: RowMap = 0,
                  known_region: RegionCheck | None = None, workers: int | None = None,
                  min_rows: int = PARALLEL_MIN_ROWS, first_member: np.ndarray | None = None) -> pa.Table | None:
    """`compute_tables` on contiguous slices in parallel threads, results and bad rows in order.

    NumPy and Arrow release the GIL in their loops, so slices of one chunk use every core.
    Members are given either as each one's household row or, when grouped in the households'
    order, as where each household's members start (`first_member`, n + 1 offsets from the
    chunk's first member): each slice then works out its own, in its own thread."""
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers < 2 or h.num_rows < max(min_rows, workers):
        if member_household is None:
            assert first_member is not None
            member_household = households_of(first_member)
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
    if first_member is not None:
        member_bounds = first_member[bounds] - first_member[0]
    else:
        assert member_household is not None
        member_bounds = np.searchsorted(member_household, bounds)
    parts = []
    for a, b, ma, mb in zip(bounds[:-1], bounds[1:], member_bounds[:-1], member_bounds[1:], strict=True):
        rows = m_offset[ma:mb] if isinstance(m_offset, np.ndarray) else m_offset + int(ma)
        parts.append((int(a), int(b), int(ma), int(mb), rows, BadRows(limit=bad.limit),
                      contexts.for_slice()))

    def run(part: tuple[int, int, int, int, RowMap, BadRows, ContextIndex]) -> pa.Table | None:
        a, b, ma, mb, rows, part_bad, part_contexts = part
        households = households_of(first_member[a:b + 1]) if first_member is not None \
            else member_household[ma:mb] - a  # type: ignore[index]
        return compute_tables(h.slice(a, b - a), m.slice(ma, mb - ma), households, part_contexts,
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
