"""Reading the two Parquet files chunk by chunk and writing the result file.

`compute_files` reads (memory-mapped, both files at once), plans which members belong to
which households, and hands each chunk to `compute.compute_chunk`; `run_batch` writes
the results through `OutputFile`, which leaves nothing behind unless every row was good.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jiuzhu.rules import engine
from jiuzhu.rules.batch.compute import ContextIndex, compute_chunk, output_table
from jiuzhu.rules.batch.layout import (
    Layout,
    RowGroupReader,
    households_in_order,
    member_runs,
    plan,
    row_group_chunks,
)
from jiuzhu.rules.batch.schema import (
    DEFAULT_CHUNK,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_REQUIRED,
    MEMBER_COLUMNS,
    MEMBER_REQUIRED,
    RegionCheck,
    columns_to_read,
    open_parquet,
)
from jiuzhu.rules.batch.validation import BadInput, BadRows, RowMap, check_columns
from jiuzhu.rules.parameters import ParameterTree, Scalar, default_tree


class OutputFile:
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

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        """Rename into place if all went well; otherwise leave nothing behind."""
        if kind is None:
            self.commit()
        else:
            self.discard()


@contextmanager
def small_pages() -> Iterator[None]:
    """NumPy's large arrays without transparent huge pages while a batch runs.

    NumPy asks the kernel for huge pages (madvise) on arrays of 4 MB or more. Where the
    kernel defragments on demand for such requests (the usual `defrag=madvise`), a fault
    may wait for memory compaction: on the 2-core VM, one run in three of 10^6 households
    took 0.6–0.7 s instead of 0.47 s, all of it system time. Ordinary pages cost more
    faults but never stall (benchmarks/rules_batch.py, docs/STATUS.md)."""
    switch = getattr(getattr(np, "_core", None), "multiarray", None)
    toggle = getattr(switch, "_set_madvise_hugepage", None)
    if toggle is None:  # another NumPy: nothing to switch
        yield
        return
    previous = toggle(False)
    try:
        yield
    finally:
        toggle(previous)


def compute_files(households_path: str | Path, members_path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK,
                  tree: ParameterTree | None = None, known_region: RegionCheck | None = None,
                  progress: Callable[[int], None] | None = None,
                  overrides: Mapping[str, Scalar] | None = None) -> Iterator[pa.Table]:
    """Result tables chunk by chunk; raises BadInput at the end if any row was bad.

    A caller must not keep results before the iteration has finished cleanly."""
    with small_pages():
        yield from _compute_files(households_path, members_path, chunk_rows=chunk_rows, tree=tree,
                                  known_region=known_region, progress=progress, overrides=overrides)


def _compute_files(households_path: str | Path, members_path: str | Path, *, chunk_rows: int,
                   tree: ParameterTree | None, known_region: RegionCheck | None,
                   progress: Callable[[int], None] | None,
                   overrides: Mapping[str, Scalar] | None) -> Iterator[pa.Table]:
    tree = tree or default_tree()
    if known_region is not None:  # asked once per distinct code, not once per code per slice
        known_region = functools.lru_cache(maxsize=None)(known_region)
    bad = BadRows()
    h_file, m_file = open_parquet(households_path), open_parquet(members_path, "household_id")
    check_columns(h_file.schema_arrow, "households.parquet", HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED, bad)
    check_columns(m_file.schema_arrow, "members.parquet", MEMBER_COLUMNS, MEMBER_REQUIRED, bad)
    if bad.count:
        raise BadInput(bad.rows)
    contexts = ContextIndex(tree, overrides)
    n = h_file.metadata.num_rows
    if n == 0:  # nothing to compute; the caller writes an empty result
        return
    if n <= chunk_rows:  # one chunk: read each file once, on all cores
        def read_households() -> tuple[pa.Table, bool]:
            table = h_file.read(columns=columns_to_read(h_file), use_threads=True)
            return table, households_in_order(table.column("household_id"))

        def read_members() -> tuple[pa.Table, tuple[np.ndarray, pa.ChunkedArray] | None]:
            table = m_file.read(columns=columns_to_read(m_file), use_threads=True)
            return table, member_runs(table.column("household_id"))

        # Both files at once, and each file's half of the layout test while the other is decoded.
        with ThreadPoolExecutor(max_workers=2) as pool:
            h_read, m_read = pool.submit(read_households), pool.submit(read_members)
            (h, in_order), (m, runs) = h_read.result(), m_read.result()
        layout = plan(h.column("household_id"), m.column("household_id"), bad, in_order=in_order, runs=runs)
        if layout is None:
            raise BadInput(bad.rows)
        m_rows: RowMap = 0
        if not layout.ordered:
            m_rows = gather_by_household(layout)
            m = m.take(pa.array(m_rows))
        table = compute_chunk(h, m, layout.member_household, contexts, bad, m_offset=m_rows, known_region=known_region,
                              first_member=layout.first_member)
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
    reader: RowGroupReader | None = None
    all_members = None
    if layout.ordered:
        reader = RowGroupReader(m_file, columns_to_read(m_file))
    else:  # members out of order: gather them by household once (memory grows with the file)
        order = gather_by_household(layout)
        all_members = m_file.read(columns=columns_to_read(m_file)).take(pa.array(order))
    h_columns = columns_to_read(h_file)
    h_offset = 0
    for groups in row_group_chunks(h_file, chunk_rows):
        h = h_file.read_row_groups(groups, columns=h_columns, use_threads=True)
        lo, hi, member_household, offsets = layout.members_for(h_offset, h_offset + h.num_rows)
        m = reader.take(hi - lo) if reader is not None else all_members.slice(lo, hi - lo)  # type: ignore[union-attr]
        table = compute_chunk(h, m, member_household, contexts, bad, h_offset=h_offset,
                              m_offset=lo if order is None else order[lo:hi], known_region=known_region,
                              first_member=offsets)
        if table is not None and not bad.count:
            yield table
        h_offset += h.num_rows
        if progress is not None:
            progress(h.num_rows)
    if bad.count:
        raise BadInput(bad.rows)


def gather_by_household(layout: Layout) -> np.ndarray:
    """The member rows in household order (stable); the layout then describes the gathered rows."""
    assert layout.member_household is not None
    order: np.ndarray = np.argsort(layout.member_household, kind="stable")
    layout.member_household = layout.member_household[order]
    return order


def run_batch(households_path: str | Path, members_path: str | Path, out_path: str | Path, *,
              chunk_rows: int = DEFAULT_CHUNK, tree: ParameterTree | None = None,
              known_region: RegionCheck | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Compute every household into `out_path`; BadInput and no output if any row is bad."""
    with OutputFile(Path(out_path)) as output:
        for table in compute_files(households_path, members_path, chunk_rows=chunk_rows, tree=tree,
                                   known_region=known_region, progress=progress):
            output.write(table)
    return output.rows


def _empty_results() -> engine.Results:
    return engine.Results(household={name: np.zeros(0) for name in engine.OUTPUT_FIELDS}, member={},
                          valid=np.zeros(0, dtype=np.bool_))
