"""`rules batch --engine spark`: the same table and the same bad-row report as the local engine."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jiuzhu.areas.divisions import is_known_region
from jiuzhu.rules.batch import BadInput, run_batch
from jiuzhu.rules.parameters import default_tree
from jiuzhu.rules.population import generate

pytestmark = pytest.mark.spark

pytest.importorskip("pyspark", reason="the spark engine needs PySpark (the spark extra)")
if shutil.which("java") is None:
    pytest.skip("the spark engine needs Java 17", allow_module_level=True)

from jiuzhu.rules.spark import merge_reports, run_spark_batch, spark_session  # noqa: E402

LATE = dt.date(2030, 1, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]", driver_memory="1g")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def two_counties() -> tuple[pa.Table, pa.Table]:
    """Two counties, their households interleaved row by row; members in the households' order."""
    h1, m1 = generate(1500, 1, "220882")
    h2, m2 = generate(1200, 2, "511703")
    households = pa.concat_tables([h1, h2])
    mix = np.argsort(np.r_[np.arange(h1.num_rows) * 2, np.arange(h2.num_rows) * 2 + 1], kind="stable")
    households = households.take(pa.array(mix))
    members = pa.concat_tables([m1, m2])
    where = pc.index_in(members.column("household_id"), value_set=households.column("household_id")).to_numpy()
    return households, members.take(pa.array(np.argsort(where, kind="stable")))


def _write(tmp_path: Path, households: pa.Table, members: pa.Table) -> tuple[Path, Path]:
    h, m = tmp_path / "households.parquet", tmp_path / "members.parquet"
    pq.write_table(households, h, row_group_size=1000)  # several row groups: positions across splits
    pq.write_table(members, m, row_group_size=2000)
    return h, m


def _set(table: pa.Table, name: str, rows: list[int], value: Any) -> pa.Table:
    values = table.column(name).to_pylist()
    for r in rows:
        values[r] = value
    i = table.schema.get_field_index(name)
    return table.set_column(i, name, pa.array(values, table.schema.field(name).type))


def _reports(tmp_path: Path, households: pa.Table, members: pa.Table,
             **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    h, m = _write(tmp_path, households, members)
    with pytest.raises(BadInput) as local:
        run_batch(h, m, tmp_path / "local.parquet", **kwargs)
    with pytest.raises(BadInput) as spark:
        run_spark_batch(h, m, tmp_path / "spark.parquet", **kwargs)
    assert not (tmp_path / "spark.parquet").exists()
    assert list(tmp_path.glob(".batch-*")) == list(tmp_path.glob(".spark-*")) == []  # no work files left
    assert spark.value.rows == local.value.rows  # reasons untranslated, with their arguments
    return local.value.as_list(), spark.value.as_list()


def test_spark_gives_the_local_table(spark: Any, two_counties: tuple[pa.Table, pa.Table], tmp_path: Path) -> None:
    households, members = two_counties
    h, m = _write(tmp_path, households, members)
    assert run_batch(h, m, tmp_path / "local.parquet", known_region=is_known_region) == households.num_rows
    written = run_spark_batch(h, m, tmp_path / "spark.parquet", known_region=is_known_region)
    assert written == households.num_rows
    local, result = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "spark.parquet")
    assert result.schema.equals(local.schema)
    assert result.equals(local)
    assert result.column("household_id").equals(households.column("household_id"))
    assert list(tmp_path.glob(".spark-*")) == []


def test_members_in_any_order_give_the_same_table(spark: Any, two_counties: tuple[pa.Table, pa.Table],
                                                  tmp_path: Path) -> None:
    households, members = two_counties
    shuffled = members.take(pa.array(np.random.default_rng(7).permutation(members.num_rows)))
    h, m = _write(tmp_path, households, shuffled)
    run_batch(h, m, tmp_path / "local.parquet")
    run_spark_batch(h, m, tmp_path / "spark.parquet", tree=default_tree())  # the tree travels pickled
    assert pq.read_table(tmp_path / "spark.parquet").equals(pq.read_table(tmp_path / "local.parquet"))


def test_a_bad_row_gives_the_local_report_and_no_output(spark: Any, two_counties: tuple[pa.Table, pa.Table],
                                                        tmp_path: Path) -> None:
    households, members = two_counties
    local, found = _reports(tmp_path, households, _set(members, "birth_date", [4000], LATE))
    assert found == local
    assert [(r["file"], r["row"], r["column"], r["reason"]) for r in found] == [
        ("members.parquet", 4000, "birth_date", "is after the case date")]


def test_bad_rows_of_many_checks_in_both_counties_keep_the_local_order(
        spark: Any, two_counties: tuple[pa.Table, pa.Table], tmp_path: Path) -> None:
    households, members = two_counties
    households = _set(_set(households, "region", [1], "990101"), "area_type", [2], "town")
    households = _set(_set(households, "income_wage", [5, 6], -1.0), "region", [9], "12345")
    members = _set(_set(members, "sex", [0], "x"), "imputed_months", [5000], 13.0)
    members = _set(_set(members, "categories", [3], "martian"), "health_coefficient", [4444], 1.5)
    local, found = _reports(tmp_path, households, members, known_region=is_known_region)
    assert found == local
    assert len(found) == 9


def test_duplicate_households_and_orphan_members(spark: Any, two_counties: tuple[pa.Table, pa.Table],
                                                 tmp_path: Path) -> None:
    households, members = two_counties
    local, found = _reports(tmp_path, _set(households, "household_id", [0, 7], "X"), members)
    assert found == local
    assert {(r["row"], r["reason"]) for r in found if r["file"] == "households.parquet"} == {
        (0, "is used twice"), (7, "is used twice")}
    local, found = _reports(tmp_path, households, _set(members, "household_id", [10, 6000], "nowhere"))
    assert found == local
    assert [r["row"] for r in found] == [10, 6000]


def test_parameters_not_in_force_are_reported_in_the_local_order(
        spark: Any, two_counties: tuple[pa.Table, pa.Table], tmp_path: Path) -> None:
    households, members = two_counties
    old = list(range(0, households.num_rows, 97))
    ids = pa.array(households.column("household_id").take(pa.array(old)))
    theirs = np.flatnonzero(pc.is_in(members.column("household_id"), value_set=ids).to_numpy(zero_copy_only=False))
    households = _set(_set(households, "date", old, dt.date(1990, 1, 1)), "area_type", old[::2], "urban")
    members = _set(members, "birth_date", theirs.tolist(), dt.date(1960, 1, 1))
    local, found = _reports(tmp_path, households, members)
    assert found == local
    assert {r["row"] for r in found} == set(old)


def test_empty_files_give_an_empty_result(spark: Any, two_counties: tuple[pa.Table, pa.Table],
                                          tmp_path: Path) -> None:
    households, members = two_counties
    h, m = _write(tmp_path, households.slice(0, 0), members.slice(0, 0))
    assert run_spark_batch(h, m, tmp_path / "r.parquet") == 0
    assert pq.read_table(tmp_path / "r.parquet").num_rows == 0


def test_unknown_columns_are_reported_before_spark_starts(two_counties: tuple[pa.Table, pa.Table],
                                                          tmp_path: Path) -> None:
    households, members = two_counties
    h, m = _write(tmp_path, households.append_column("colour", pa.nulls(households.num_rows, pa.string())),
                  members.drop_columns(["sex"]))
    with pytest.raises(BadInput) as caught:
        run_spark_batch(h, m, tmp_path / "r.parquet")
    assert {(r["file"], r["column"], r["reason"]) for r in caught.value.as_list()} == {
        ("households.parquet", "colour", "is not a known column"), ("members.parquet", "sex", "is required")}
    assert not (tmp_path / "r.parquet").exists()


def test_merge_follows_the_checks_order_when_tasks_share_no_check() -> None:
    def row(file: str, r: int, column: str, reason: str) -> dict[str, Any]:
        return {"file": file, "row": r, "column": column, "reason": reason, "args": {}}

    a = [row("members.parquet", 5, "birth_date", "is after the case date")]
    b = [row("households.parquet", 9, "region", "is not a known division code")]
    c = [row("households.parquet", 2, "area_type", "must be urban or rural"),
         row("members.parquet", 1, "birth_date", "is after the case date")]
    assert [(r["row"], r["column"]) for r in merge_reports([a, b, c])] == [
        (9, "region"), (2, "area_type"), (1, "birth_date"), (5, "birth_date")]


def test_the_cli_runs_the_spark_engine(two_counties: tuple[pa.Table, pa.Table], tmp_path: Path) -> None:
    households, members = two_counties
    ids = households.column("household_id").slice(0, 300)
    h, m = _write(tmp_path, households.slice(0, 300),
                  members.filter(pc.is_in(members.column("household_id"), value_set=ids)))
    work = tmp_path / "shared"
    work.mkdir()
    done = subprocess.run([sys.executable, "-m", "jiuzhu.cli", "rules", "batch", "--engine", "spark",
                           "--households", str(h), "--members", str(m), "--out", str(tmp_path / "r.parquet"),
                           "--spark-master", "local[1]", "--spark-work-dir", str(work)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == []  # the tasks' files are gone
    missing = subprocess.run([sys.executable, "-m", "jiuzhu.cli", "rules", "batch", "--engine", "spark",
                              "--households", str(h), "--members", str(m), "--out", str(tmp_path / "r2.parquet"),
                              "--spark-work-dir", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, check=False, timeout=300)
    assert missing.returncode == 2 and "nowhere does not exist" in missing.stdout
    assert not (tmp_path / "r2.parquet").exists()
    assert "300 households written" in done.stderr
    run_batch(h, m, tmp_path / "local.parquet")
    assert pq.read_table(tmp_path / "r.parquet").equals(pq.read_table(tmp_path / "local.parquet"))
