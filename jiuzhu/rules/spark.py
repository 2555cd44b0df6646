"""`rules batch --engine spark`: the same NumPy kernels, one county per Spark task.

`run_spark_batch` gives the table `batch.run_batch` gives — same columns, types, values
and row order — and the same bad-row report, computed on Apache Spark (PySpark ≥ 4.0:
local mode on one machine, the same code on a cluster).

How the members travel with their county
----------------------------------------
The county is the first six digits of `region`; only households carry it. The plan is

1. read both files as DataFrames, each row with its position in its file (Parquet's
   hidden `_metadata.row_index`; the input is one file, so that is the row number the
   local engine reports and the order the result is sorted back to);
2. give each member its county and its household's position by joining members with a
   *narrow* projection of the households (id, county, position) — three columns, not the
   household's thirty-five, so the shuffle stays small;
3. `groupBy("county").cogroup(...).applyInArrow(...)`: Spark shuffles both sides by
   county and calls one Python function per county with two Arrow tables — all of the
   county's households and all of its members — which is exactly the unit
   `batch.compute_tables` takes. The task sorts each side by file position, finds each
   member's household with `searchsorted`, and runs the kernels.

Why a co-group and not `mapInArrow` after `repartition("county")`: `mapInArrow` sees a
partition as a stream of batches of *one* DataFrame, several counties mixed, so the two
files would have to be unioned into one wide sparse schema and each county re-assembled
by hand from pieces that may span batches. The co-group does that assembly (both sides,
whole groups, any number of counties per partition, empty sides included) inside
Spark's shuffle; the price — a county is held in the task's memory at once — is the
unit the design already budgets (10^4–10^5 households per county).

Bad input
---------
Checks that need the whole file run before the tasks: unknown or missing columns (the
Parquet schemas, on the driver), household ids used twice (a Spark aggregation), and —
only when a region check is given — the distinct regions, checked on the driver so that
the check (which may read a database) never travels to the executors. Members whose
household is missing form a group of their own in the co-group. Every other check runs
in the tasks, by the local engine's own code; a task with bad rows returns them (mapped
to file positions, as JSON in the `_bad` column) instead of results, and the driver
merges them into the local engine's order and raises `BadInput`. No output file is
created unless every row is good.

The results never pass through the driver's memory (a province's 10^7 rows would not fit
its JVM): the tasks write them as Parquet into a work folder, the driver reads back only
the `_bad` column, Spark sorts the good rows into file order (range partitions), and the
sorted parts are copied a row group at a time into `batch.OutputFile` (a hidden file
renamed into place).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from jiuzhu.rules.batch.compute import ContextIndex, compute_tables
from jiuzhu.rules.batch.files import OutputFile
from jiuzhu.rules.batch.schema import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_MONEY,
    HOUSEHOLD_REQUIRED,
    MEMBER_COLUMNS,
    MEMBER_REQUIRED,
    REGION_SHAPE,
    RegionCheck,
)
from jiuzhu.rules.batch.validation import BadInput, BadRows, check_columns
from jiuzhu.rules.case import effective_region
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.parameters import ParameterTree, default_tree

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The group of members whose household is not in the file (a county code has 6 characters at most).
ORPHANS = "<orphans>"
#: Households without a region: their own group, flagged by the task.
NO_COUNTY = ""
REPORT_LIMIT = BadRows().limit


class SparkUnavailable(RuntimeError):
    """PySpark or Java is missing, or the Spark driver could not start."""


# --------------------------------------------------------------------------- session


def _pyspark() -> Any:
    try:
        import pyspark
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SparkUnavailable(
            "the spark engine needs PySpark 4: pip install 'jiuzhu[spark]' (or 'pyspark[sql]>=4.0,<5')") from exc
    if int(pyspark.__version__.split(".")[0]) < 4:  # pragma: no cover
        raise SparkUnavailable(f"the spark engine needs PySpark 4 or later, found {pyspark.__version__}")
    return pyspark


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if (home and Path(home, "bin", "java").exists()) or shutil.which("java"):
        return
    raise SparkUnavailable("the spark engine needs Java 17 or later (e.g. Debian's openjdk-17-jre-headless); "
                           "no `java` on PATH and no JAVA_HOME")


def spark_session(master: str = "local[2]", *, driver_memory: str = "1g",
                  shuffle_partitions: int | None = None) -> SparkSession:
    """The active session, or a new one for `master`, bound to 127.0.0.1 when local."""
    _pyspark()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None and SparkContext._active_spark_context is not None:  # started in another thread
        active = SparkSession.builder.getOrCreate()
    if active is not None:
        return active
    _check_java()
    if master.startswith("local"):
        # The executors are this machine's Python: the one running now, with jiuzhu installed.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    else:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName("jiuzhu-rules-batch")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_log_config()}"))
    if master.startswith("local"):
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", str(shuffle_partitions or 8)))
    elif shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    try:
        with _quiet():
            session = builder.getOrCreate()
    except Exception as exc:  # py4j / PySparkRuntimeError: the JVM did not start
        raise SparkUnavailable(f"could not start Spark ({master}): {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _log_config() -> Path:
    """Spark's JVM logs errors only (its default prints a page of warnings on every start)."""
    path = Path(tempfile.gettempdir()) / f"jiuzhu-spark-log4j2-{os.getuid()}.properties"
    if not path.exists() or path.read_text() != _LOG4J2:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".jiuzhu-log4j2-")
        with os.fdopen(fd, "w") as f:
            f.write(_LOG4J2)
        os.replace(tmp, path)
    return path


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PySpark warns that pandas ≥ 3 is not fully supported; this engine passes Arrow, not pandas."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pandas.*", category=FutureWarning)
        yield


# --------------------------------------------------------------------------- the task


@functools.cache
def result_schema() -> pa.Schema:
    """The result columns and their Arrow types, as the local engine writes them.

    Found by running the kernels on one generated household, so a change of a kernel's
    dtype can never make the two engines disagree."""
    from jiuzhu.rules.population import generate

    h, m = generate(1, 0)
    table = compute_tables(h, m, np.zeros(m.num_rows, dtype=np.int64), ContextIndex(default_tree()), BadRows())
    if table is None:  # pragma: no cover - the generator makes valid households
        raise RuntimeError("the probe household did not compute")
    return table.schema


def _task_schema() -> pa.Schema:
    return pa.schema([*result_schema(), pa.field("_row", pa.int64()), pa.field("_bad", pa.string())])


def _positions(column: pa.ChunkedArray) -> np.ndarray:
    values: np.ndarray = column.to_numpy().astype(np.int64)
    return values


def county_task(households: pa.Table, members: pa.Table, *, h_columns: list[str], m_columns: list[str],
                schema: pa.Schema, tree: ParameterTree | None, unknown_regions: frozenset[str] | None) -> pa.Table:
    """One county: validate and compute as `compute_tables` does; bad rows as JSON in `_bad`.

    Runs on an executor: everything it needs comes in its arguments (pickled), and the
    default tree is read once per Python worker."""
    m_rows = _positions(members.column("_row"))
    hrow = members.column("_hrow")
    if households.num_rows == 0:  # members whose household is not in the file
        orphan = hrow.is_null().to_numpy(zero_copy_only=False)
        rows = [{"file": "members.parquet", "row": int(r), "column": "household_id",
                 "reason": _("refers to a household that is not in the file"), "args": {}}
                for r in np.sort(m_rows[orphan])]
        return _bad_table(schema, rows, len(rows))
    order = np.argsort(_positions(households.column("_row")), kind="stable")
    households = households.take(pa.array(order))
    h_rows = _positions(households.column("_row"))
    member_household = np.searchsorted(h_rows, _positions(hrow))
    m_order = np.lexsort((m_rows, member_household))  # by household, then as in the file
    members, member_household, m_rows = members.take(pa.array(m_order)), member_household[m_order], m_rows[m_order]
    known: RegionCheck | None = None
    if unknown_regions is not None:
        known = functools.partial(_not_in, unknown_regions)
    bad = BadRows()
    tree = tree or default_tree()
    table = compute_tables(households.select(h_columns), members.select(m_columns), member_household,
                           ContextIndex(tree), bad, known_region=known)
    if table is None or bad.count:
        positions = {"households.parquet": h_rows, "members.parquet": m_rows}
        rows = [{**r, "row": int(positions[r["file"]][r["row"]])} for r in bad.rows]
        if any("name" in r["args"] for r in bad.rows):
            _context_order(households, bad.rows, rows, tree)
        return _bad_table(schema, rows, bad.count)
    table = table.append_column("_row", pa.array(h_rows, pa.int64()))
    table = table.append_column("_bad", pa.nulls(table.num_rows, pa.string()))
    return table.cast(schema)


def _context_order(households: pa.Table, local: list[dict[str, Any]], rows: list[dict[str, Any]],
                   tree: ParameterTree) -> None:
    """Parameter failures carry the order the local engine lists them in: by context
    (parameter level, area type, date), then region by first appearance, then row."""
    regions = households.column("region").to_pylist()
    urban = households.column("area_type").to_pylist()
    first: dict[str, int] = {}
    for i, region in enumerate(regions):
        first.setdefault(region, i)
    for r, row in zip(local, rows, strict=True):
        if "name" in r["args"]:
            i = r["row"]
            level = effective_region(tree, regions[i]) if regions[i] else ""
            row["_order"] = [level, urban[i] == "urban", r["args"].get("date", ""), first[regions[i]], row["row"]]


def _not_in(values: frozenset[str], value: str) -> bool:
    return value not in values


def _bad_table(schema: pa.Schema, rows: list[dict[str, Any]], count: int) -> pa.Table:
    report = json.dumps({"count": count, "rows": rows}, ensure_ascii=False, default=str)
    return pa.Table.from_pylist([{"_bad": report}], schema=schema)


# --------------------------------------------------------------------------- bad rows


Key = tuple[str, str, str, str]


def _report_key(row: dict[str, Any]) -> Key:
    return (row["file"], row["column"], row["reason"], json.dumps(row.get("args", {}), sort_keys=True, default=str))


def _check_order() -> dict[tuple[str, str, str], int]:
    """The checks of `batch.compute_tables`, in the order it runs them (file, column, reason)."""
    h, m = "households.parquet", "members.parquet"
    checks = [(h, "household_id", _("is required")),
              (h, "region", _("must be a division code of 6, 9 or 12 digits, written as text")),
              (h, "region", _("is not a known division code")), (h, "date", _("is required")),
              (h, "area_type", _("must be urban or rural")),
              (h, "employment_started", _("is after the case date"))]
    for name in (*HOUSEHOLD_MONEY, "homes"):
        checks += [(h, name, _("must be a finite number")), (h, name, _("must not be negative"))]
    checks += [(h, "wage_earners", _("must be a whole number, 0 or more"))]
    checks += [(m, "member_id", _("is required")), (m, "member_id", _("is used twice")),
               (m, "relation", _("is not a known relation")), (m, "sex", _("must be male or female")),
               (m, "birth_date", _("is required")), (m, "birth_date", _("is after the case date")),
               (m, "disability_grade", _("must be a whole number from 1 (most severe) to 10")),
               (m, "health_coefficient", _("must be between 0 and 1"))]
    for name in ("imputed_monthly_reference", "imputed_months"):
        checks += [(m, name, _("must be a finite number")), (m, name, _("must not be negative"))]
    checks += [(m, "imputed_months", _("must be at most {high}")),
               (m, "categories", _("has a category that is not known")),
               (h, "household_id", _("needs at least one counted member"))]
    return {check: i for i, check in enumerate(checks)}


CHECK_ORDER = _check_order()


def merge_reports(reports: list[list[dict[str, Any]]], limit: int = REPORT_LIMIT) -> list[dict[str, Any]]:
    """The tasks' bad rows in the local engine's order: check by check, each check by row.

    The order of the checks comes from two sources that agree: `CHECK_ORDER`, and the
    tasks themselves — every task runs the checks in the same sequence, so each task's
    list is ordered by check. The merge is a topological order of both (a check missing
    from `CHECK_ORDER` is placed by the tasks' sequences; ties go to the earlier row).
    Failures of parameters (rows whose args name one) count only if no row failed a
    check, as the local engine only runs the kernels on a file that passed them all."""
    rows = [r for report in reports for r in report]
    if any("name" not in r.get("args", {}) for r in rows):
        reports = [[r for r in report if "name" not in r.get("args", {})] for report in reports]
        rows = [r for report in reports for r in report]
    first_row: dict[Key, float] = {}
    after: dict[Key, set[Key]] = {}
    waiting: dict[Key, int] = {}

    def edge(a: Key, b: Key) -> None:
        if a != b and b not in after[a]:
            after[a].add(b)
            waiting[b] += 1

    for report in reports:
        previous: Key | None = None
        for r in report:
            key = _report_key(r)
            first_row[key] = min(first_row.get(key, np.inf), np.inf if r["row"] is None else r["row"])
            after.setdefault(key, set())
            waiting.setdefault(key, 0)
            if previous is not None:
                edge(previous, key)
            previous = key
    static = sorted((k for k in first_row if k[:3] in CHECK_ORDER), key=lambda k: CHECK_ORDER[k[:3]])
    for a, b in itertools.pairwise(static):
        if CHECK_ORDER[a[:3]] != CHECK_ORDER[b[:3]]:
            edge(a, b)
    ready = [(first_row[k], k) for k, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    rank: dict[Key, int] = {}
    while len(rank) < len(waiting):
        if ready:
            key = heapq.heappop(ready)[1]
            if key in rank:
                continue
        else:  # a cycle (a check repeated for other contexts): the earliest row first
            key = min((k for k in waiting if k not in rank), key=lambda k: (first_row[k], k))
        rank[key] = len(rank)
        for nxt in after[key]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0 and nxt not in rank:
                heapq.heappush(ready, (first_row[nxt], nxt))
    rows.sort(key=lambda r: (rank[_report_key(r)], -1 if r["row"] is None else r["row"]))
    if rows and all("_order" in r for r in rows):  # only parameter failures: the local engine's order
        rows.sort(key=lambda r: r["_order"])
    return [{k: v for k, v in r.items() if k != "_order"} for r in rows[:limit]]


def _plan_problems(households: DataFrame, members: DataFrame) -> list[dict[str, Any]]:
    """Household ids used twice, and then members without a household (`batch.plan`)."""
    from pyspark.sql import functions as F

    twice = households.groupBy("household_id").count().where(F.col("count") > 1).select("household_id")
    if twice.isEmpty():
        return []
    dup_rows = (households.join(twice, households["household_id"].eqNullSafe(twice["household_id"]), "left_semi")
                .select("_row").orderBy("_row").limit(REPORT_LIMIT).toArrow())
    ids = households.select(F.col("household_id").alias("_hid"))
    orphan_rows = (members.join(ids, members["household_id"].eqNullSafe(ids["_hid"]), "left_anti")
                   .select("_row").orderBy("_row").limit(REPORT_LIMIT).toArrow())
    rows = [{"file": "households.parquet", "row": r, "column": "household_id", "reason": _("is used twice"),
             "args": {}} for r in dup_rows.column(0).to_pylist()]
    rows += [{"file": "members.parquet", "row": r, "column": "household_id",
              "reason": _("refers to a household that is not in the file"), "args": {}}
             for r in orphan_rows.column(0).to_pylist()]
    return rows[:REPORT_LIMIT]


def _unknown_regions(households: DataFrame, known_region: RegionCheck) -> frozenset[str]:
    """The distinct well-formed regions the check rejects, found on the driver."""
    regions = households.select("region").distinct().toArrow().column(0).to_pylist()
    return frozenset(v for v in regions if isinstance(v, str) and REGION_SHAPE.match(v) and not known_region(v))


# --------------------------------------------------------------------------- the job


def run_spark_batch(households_path: str | Path, members_path: str | Path, out_path: str | Path, *,
                    tree: ParameterTree | None = None, known_region: RegionCheck | None = None,
                    master: str = "local[2]", work_dir: str | Path | None = None) -> int:
    """Compute every household into `out_path` on Spark; BadInput and no output if any row is bad.

    Uses the active SparkSession if there is one (it is left running), else starts one on
    `master` and stops it at the end. The tasks' results pass through Parquet files in
    `work_dir` (a temporary folder beside the output by default; on a cluster, a folder
    every executor and the driver can reach), never through the driver's memory."""
    _pyspark()
    if work_dir is not None and not Path(work_dir).is_dir():  # before Spark starts, not after its first jobs
        raise ValueError(f"the Spark work folder {work_dir} does not exist")
    bad = BadRows()
    h_schema, m_schema = pq.read_schema(households_path), pq.read_schema(members_path)
    check_columns(h_schema, "households.parquet", HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED, bad)
    check_columns(m_schema, "members.parquet", MEMBER_COLUMNS, MEMBER_REQUIRED, bad)
    if bad.count:
        raise BadInput(bad.rows)
    with OutputFile(Path(out_path)) as output:
        from pyspark import SparkContext

        owned = SparkContext._active_spark_context is None
        spark = spark_session(master)
        try:
            _run(spark, Path(households_path), Path(members_path), h_schema.names, m_schema.names, tree,
                 known_region, output, work_dir)
        finally:
            if owned:
                spark.stop()
    return output.rows


def _run(spark: SparkSession, households_path: Path, members_path: Path, h_columns: list[str],
         m_columns: list[str], tree: ParameterTree | None, known_region: RegionCheck | None,
         output: OutputFile, work_dir: str | Path | None) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    def read(path: Path, columns: list[str]) -> DataFrame:
        df = spark.read.parquet(str(path.resolve()))
        return df.select(*(F.col(f"`{c}`") for c in columns), F.col("_metadata.row_index").alias("_row"))

    households = read(households_path, h_columns)
    members = read(members_path, m_columns)
    problems = _plan_problems(households, members)
    if problems:
        raise BadInput(problems)
    unknown = _unknown_regions(households, known_region) if known_region is not None else None

    county = F.coalesce(F.substring(F.col("region").cast("string"), 1, 6), F.lit(NO_COUNTY))
    households = households.withColumn("_county", county)
    keys = households.select(F.col("household_id").alias("_hid"), "_county", F.col("_row").alias("_hrow"))
    members = (members.join(keys, members["household_id"].eqNullSafe(keys["_hid"]), "left").drop("_hid")
               .withColumn("_county", F.coalesce(F.col("_county"), F.lit(ORPHANS))))
    schema = _task_schema()
    task = functools.partial(county_task, h_columns=h_columns, m_columns=m_columns, schema=schema, tree=tree,
                             unknown_regions=unknown)
    results = (households.groupBy("_county").cogroup(members.groupBy("_county"))
               .applyInArrow(task, from_arrow_schema(schema)))
    # A province's results (10^7 rows) do not fit the driver: the tasks write them, the
    # driver reads back only the bad-row reports, then Spark sorts the good rows into file
    # order and the parts are copied into the one output file a row group at a time.
    with tempfile.TemporaryDirectory(prefix=".spark-", dir=work_dir or output.path.parent) as folder:
        tasks, ordered = Path(folder, "tasks"), Path(folder, "ordered")
        with _quiet():
            results.write.parquet(str(tasks))
        _raise_bad_rows(pads.dataset(tasks, format="parquet").to_table(
            columns=["_bad"], filter=pads.field("_bad").is_valid()).column("_bad"))
        names = result_schema().names
        with _quiet():
            (spark.read.parquet(str(tasks)).orderBy("_row").select(*(F.col(f"`{c}`") for c in names))
             .write.parquet(str(ordered)))
        for part in sorted(ordered.glob("part-*.parquet")):  # range partitions, numbered in sort order
            for batch in pq.ParquetFile(part).iter_batches():
                output.write(pa.Table.from_batches([batch]).cast(result_schema()))


def _raise_bad_rows(bad_column: pa.ChunkedArray) -> None:
    """BadInput from the tasks' reports, in the local engine's order; nothing if there are none."""
    if not len(bad_column):
        return
    reports = [json.loads(text) for text in bad_column.to_pylist()]
    orphans = [r for rep in reports for r in rep["rows"]
               if r["reason"] == _("refers to a household that is not in the file")]
    if orphans:  # as `batch.plan`: missing households are reported alone
        raise BadInput(sorted(orphans, key=lambda r: r["row"])[:REPORT_LIMIT])
    raise BadInput(merge_reports([rep["rows"] for rep in reports]))
