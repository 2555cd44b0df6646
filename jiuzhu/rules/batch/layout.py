"""Which members belong to which household, and reading the files chunk by chunk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.rules.batch.validation import BadRows
from jiuzhu.rules.errors import gettext_noop as _


@dataclass
class Layout:
    """Which member rows belong to which household rows.

    Members grouped in the households' order keep only where each household's members
    start (one number per household); otherwise each member's household row, which the
    reader sorts members by (memory then grows with the number of members)."""

    ordered: bool
    first_member: np.ndarray | None = None      # ordered: n + 1 offsets into members.parquet
    member_household: np.ndarray | None = None  # otherwise: each member's household row

    def members_for(self, start: int, stop: int) -> tuple[int, int, np.ndarray | None, np.ndarray | None]:
        """Member rows [lo, hi) of households [start, stop), as `compute_chunk` takes them: each
        member's household in the slice, or (ordered) the n + 1 offsets where households start."""
        if self.first_member is not None:
            offsets = self.first_member[start:stop + 1]
            return int(offsets[0]), int(offsets[-1]), None, offsets
        assert self.member_household is not None
        lo, hi = np.searchsorted(self.member_household, [start, stop])
        return int(lo), int(hi), self.member_household[lo:hi] - start, None

    def members_of(self, start: int, stop: int) -> tuple[int, int, np.ndarray]:
        """Member rows [lo, hi) of households [start, stop), and each one's household in the slice."""
        lo, hi, household, offsets = self.members_for(start, stop)
        return lo, hi, household if household is not None else households_of(offsets)  # type: ignore[arg-type]


def households_of(offsets: np.ndarray) -> np.ndarray:
    """Each member's household (0, 1, …) from where each household's members start.

    int32 halves what is written for millions of members (a slice never holds 2^31 households)."""
    household: np.ndarray = np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))
    return household


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


def households_in_order(h_ids: pa.ChunkedArray) -> bool:
    """Household ids present and strictly increasing: half of the cheap path's test."""
    if h_ids.null_count or len(h_ids) == 0:
        return False
    return len(h_ids) < 2 or bool(pc.all(pc.less(h_ids[:-1], h_ids[1:])).as_py())


def member_runs(m_ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray] | None:
    """Where each household's run of members starts, and its id; None if an id is missing.

    This and `households_in_order` each need one file only, so a reader runs them beside
    the other file's read; `plan` puts the halves together."""
    if m_ids.null_count or len(m_ids) == 0:
        return None
    return _run_starts(m_ids)


#: Not yet worked out: `plan` does it itself.
UNKNOWN: Any = object()


def _ordered_layout(h_ids: pa.ChunkedArray, m_ids: pa.ChunkedArray, in_order: bool | None,
                    runs: tuple[np.ndarray, pa.ChunkedArray] | None) -> np.ndarray | None:
    """The cheap path: ids strictly increasing and members grouped in the same order."""
    if in_order is None:
        in_order = households_in_order(h_ids)
    if not in_order:
        return None
    if runs is UNKNOWN:
        runs = member_runs(m_ids)
    if runs is None:
        return None
    start, run_ids = runs
    if len(run_ids) != len(h_ids) or not pc.all(pc.equal(run_ids, h_ids)).as_py():
        return None
    offsets: np.ndarray = np.flatnonzero(np.append(start, True))  # the runs' starts and the end, in one array
    return offsets


def plan(h_ids: pa.ChunkedArray, m_ids: pa.ChunkedArray, bad: BadRows, *, in_order: bool | None = None,
         runs: tuple[np.ndarray, pa.ChunkedArray] | None = UNKNOWN) -> Layout | None:
    """Orphans, duplicates and whether members follow the households' order.

    `in_order` and `runs`, when given, are `households_in_order` and `member_runs` of these ids."""
    first = _ordered_layout(h_ids, m_ids, in_order, runs)
    if first is not None:
        return Layout(True, first_member=first)
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
    return Layout(False, member_household=where)


def row_group_chunks(file: pq.ParquetFile, chunk_rows: int) -> list[list[int]]:
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


class RowGroupReader:
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
