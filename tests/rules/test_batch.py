"""`rules batch`: chunked Parquet in, Parquet out; bad rows reported and nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jiuzhu.areas.divisions import is_known_region
from jiuzhu.rules.batch import BadInput, run_batch
from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.evaluate import evaluate
from tests.rules.factories import adult, daan_example, household
from tests.rules.tabular import to_tables, write_tables


def test_batch_gives_the_same_rows_as_evaluate(tmp_path: Path) -> None:
    cases = [daan_example(parameters={}), household([adult("a")], income=[{"kind": "wage", "amount": 1000}]),
             household([adult("a"), adult("b", sex="female", birth_date="1950-03-03")], region="320582",
                       area_type="urban", date="2019-08-01")]
    h, m = write_tables(cases, tmp_path)
    assert run_batch(h, m, tmp_path / "r.parquet", chunk_rows=2) == 3
    rows = pq.read_table(tmp_path / "r.parquet").to_pylist()
    for case, row in zip(cases, rows, strict=True):
        one = evaluate(case, with_trace=False)
        assert {k: row[k] for k in one if k in row} == {k: v for k, v in one.items() if k in row}
    assert rows[2]["standard"] == 11340.0


def test_members_out_of_order_are_gathered(tmp_path: Path) -> None:
    cases = [daan_example(parameters={}), household([adult("a"), adult("b")])]
    h, m = to_tables(cases)
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m.take(pa.array([4, 0, 3, 1, 2])), tmp_path / "m.parquet")
    run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet", chunk_rows=1)
    rows = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert [r["size"] for r in rows] == [3, 2]
    assert rows[0]["total_annual"] == 6820.0


def test_bad_rows_are_all_reported_and_no_output_is_written(tmp_path: Path) -> None:
    cases = [daan_example(parameters={}), household([adult("a")]), household([adult("a")])]
    h, m = to_tables(cases)
    h = h.set_column(h.schema.get_field_index("region"), "region", pa.array(["220882", "2208", "990101"]))
    births = m.column("birth_date").to_pylist()
    births[1] = births[1].replace(year=2030)
    m = m.set_column(m.schema.get_field_index("birth_date"), "birth_date", pa.array(births, pa.date32()))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    out = tmp_path / "r.parquet"
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", out, known_region=is_known_region)
    found = {(r["file"], r["row"], r["column"]): r["reason"] for r in caught.value.as_list()}
    assert found[("households.parquet", 1, "region")].startswith("must be a division code")
    assert found[("households.parquet", 2, "region")] == "is not a known division code"
    assert found[("members.parquet", 1, "birth_date")] == "is after the case date"
    assert not out.exists()
    assert list(tmp_path.glob(".batch-*")) == []


def test_unknown_and_missing_columns_are_reported(tmp_path: Path) -> None:
    h, m = to_tables([household([adult("a")])])
    pq.write_table(h.append_column("colour", pa.array(["blue"])).drop_columns(["area_type"]), tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet")
    found = {(r["column"], r["reason"]) for r in caught.value.as_list()}
    assert found == {("colour", "is not a known column"), ("area_type", "is required")}


def test_orphan_members_and_duplicate_households_are_bad_rows(tmp_path: Path) -> None:
    h, m = to_tables([household([adult("a")]), household([adult("a")])])
    h = h.set_column(h.schema.get_field_index("household_id"), "household_id", pa.array(["H1", "H1"]))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet")
    reasons = {(r["file"], r["reason"]) for r in caught.value.as_list()}
    assert ("households.parquet", "is used twice") in reasons
    assert ("members.parquet", "refers to a household that is not in the file") in reasons


def test_parameter_not_in_force_is_a_bad_row(tmp_path: Path) -> None:
    h, m = write_tables([household([adult("a")], region="110105")], tmp_path)
    with pytest.raises(BadInput) as caught:
        run_batch(h, m, tmp_path / "r.parquet")
    assert caught.value.as_list()[0]["reason"] == (
        "parameter “dibao.standard” has no value in force on 2019-06-30 for region 110105")


def test_generated_county_runs_in_chunks(tmp_path: Path) -> None:
    import datetime as dt

    from jiuzhu.rules.population import generate

    h, m = generate(3000, 7, "220882", dt.date(2019, 6, 30))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "a.parquet", chunk_rows=700)
    run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "b.parquet", chunk_rows=100_000)
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert a.num_rows == 3000 and a.equals(b)
    assert 0 < sum(a.column("dibao_eligible").to_pylist()) < 3000


def test_bad_member_rows_are_numbered_as_in_the_file_when_out_of_order(tmp_path: Path) -> None:
    cases = [household([adult("a"), adult("b")]), household([adult("a"), adult("b", birth_date="2030-01-01")])]
    h, m = to_tables(cases)
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m.take(pa.array([3, 0, 2, 1])), tmp_path / "m.parquet")  # the bad member is file row 0
    for chunk in (1, 100):
        with pytest.raises(BadInput) as caught:
            run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet", chunk_rows=chunk)
        assert [(r["row"], r["column"]) for r in caught.value.as_list()] == [(0, "birth_date")]


def test_empty_input_gives_an_empty_result(tmp_path: Path) -> None:
    h, m = to_tables([household([adult("a")])])
    pq.write_table(h.slice(0, 0), tmp_path / "h.parquet")
    pq.write_table(m.slice(0, 0), tmp_path / "m.parquet")
    assert run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet") == 0
    assert pq.read_table(tmp_path / "r.parquet").num_rows == 0


def test_parallel_slices_give_the_same_table_and_the_same_bad_rows(tmp_path: Path) -> None:
    import datetime as dt

    from jiuzhu.rules.batch import BadRows, ContextIndex, compute_chunk, plan
    from jiuzhu.rules.parameters import default_tree
    from jiuzhu.rules.population import generate

    h, m = generate(900, 5, "220882", dt.date(2019, 6, 30))
    layout = plan(h.column("household_id"), m.column("household_id"), BadRows())
    assert layout is not None and layout.ordered
    _lo, _hi, member_household = layout.members_of(0, h.num_rows)
    one = compute_chunk(h, m, member_household, ContextIndex(default_tree()), BadRows(), workers=1)
    three = compute_chunk(h, m, member_household, ContextIndex(default_tree()), BadRows(), workers=3,
                          min_rows=0)
    by_offsets = compute_chunk(h, m, None, ContextIndex(default_tree()), BadRows(), workers=3, min_rows=0,
                               first_member=layout.first_member)
    assert one is not None and three is not None and one.equals(three)
    assert by_offsets is not None and one.equals(by_offsets)
    births = m.column("birth_date").to_pylist()
    for row in (5, 1500, 2600):
        births[row] = dt.date(2030, 1, 1)
    bad_m = m.set_column(m.schema.get_field_index("birth_date"), "birth_date", pa.array(births, pa.date32()))
    reports = []
    for workers, offsets in ((1, None), (3, None), (3, layout.first_member)):
        bad = BadRows()
        assert compute_chunk(h, bad_m, None if offsets is not None else member_household,
                             ContextIndex(default_tree()), bad, workers=workers, min_rows=0,
                             first_member=offsets) is None
        reports.append([(r["row"], r["column"]) for r in bad.rows])
    assert reports[0] == reports[1] == reports[2] == [(5, "birth_date"), (1500, "birth_date"), (2600, "birth_date")]


def test_rows_the_scalar_path_rejects_are_bad_rows(tmp_path: Path) -> None:
    cases = [household([adult("a"), adult("b"), adult("a")]),
             household([adult("a", relation="cousin")]),
             household([adult("a")], employment_started="2030-01-01", previous_topup=100)]
    for case in cases:  # each of them is refused by `rules evaluate` too
        with pytest.raises(InvalidCase):
            evaluate(case)
    h, m = to_tables(cases)
    m = m.append_column("relation", pa.array([None, None, None, "cousin", None]))
    h = h.append_column("employment_started", pa.array([None, None, dt.date(2030, 1, 1)], pa.date32()))
    h = h.append_column("previous_topup", pa.array([0.0, 0.0, 100.0]))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet")
    found = {(r["file"], r["row"], r["column"]) for r in caught.value.as_list()}
    assert found == {("members.parquet", 2, "member_id"), ("members.parquet", 3, "relation"),
                     ("households.parquet", 2, "employment_started")}


def test_an_amount_that_is_not_a_number_is_a_bad_row_and_null_is_zero(tmp_path: Path) -> None:
    h, m = to_tables([household([adult("a")]), household([adult("a")]), household([adult("a")])])
    h = h.append_column("income_rent", pa.array([float("nan"), None, 100.0], pa.float64()))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet")
    assert [(r["row"], r["column"], r["reason"]) for r in caught.value.as_list()] == [
        (0, "income_rent", "must be a finite number")]


def test_repeated_member_ids_are_found_in_large_households_and_with_many_distinct_ids() -> None:
    import numpy as np

    from jiuzhu.rules.batch.validation import _twice

    household = np.repeat(np.arange(3), [9, 2, 4])
    codes = np.array([61] * 9 + [0, 1] + [70, 71, 70, 72])  # nine times the same id; ids beyond 63 bits
    assert np.flatnonzero(_twice(codes, household)).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 13]


def test_out_of_range_values_are_found_when_the_extremes_say_so(tmp_path: Path) -> None:
    """The range checks look at rows only when a column's extremes fail; every kind still shows."""
    h, m = to_tables([household([adult("a"), adult("b")]), household([adult("a")]), household([adult("a")])])

    def put(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
        at = table.schema.get_field_index(name)
        return table.set_column(at, name, values) if at >= 0 else table.append_column(name, values)

    h = put(h, "income_rent", pa.array([float("inf"), 5.0, -1.0], pa.float64()))
    m = put(m, "imputed_months", pa.array([13.0, 12.0, 0.0, 1.0], pa.float64()))
    m = put(m, "health_coefficient", pa.array([None, 1.5, 0.5, None], pa.float64()))
    m = put(m, "birth_date", pa.array([dt.date(1980, 1, 1), dt.date(1981, 1, 1), None, dt.date(1990, 1, 1)],
                                      pa.date32()))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    with pytest.raises(BadInput) as caught:
        run_batch(tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "r.parquet")
    assert sorted((r["file"], r["row"], r["column"], r["reason"]) for r in caught.value.as_list()) == [
        ("households.parquet", 0, "income_rent", "must be a finite number"),
        ("households.parquet", 2, "income_rent", "must not be negative"),
        ("members.parquet", 0, "imputed_months", "must be at most 12.0"),
        ("members.parquet", 1, "health_coefficient", "must be between 0 and 1"),
        ("members.parquet", 2, "birth_date", "is required"),
    ]


def test_repeated_member_ids_are_found_with_few_distinct_ids() -> None:
    import numpy as np

    from jiuzhu.rules.batch.validation import _twice

    household = np.repeat(np.arange(3), [3, 2, 3])
    codes = np.array([0, 1, 0, 2, 3, 5, 5, 5])  # bits fit in one byte
    assert np.flatnonzero(_twice(codes, household)).tolist() == [2, 6, 7]


def test_a_batch_leaves_numpys_huge_page_setting_as_it_found_it(tmp_path: Path) -> None:
    from numpy._core import multiarray

    from jiuzhu.rules.batch import compute_files

    write_tables([household([adult("a")])], tmp_path)
    before = multiarray._set_madvise_hugepage(True)
    try:
        seen = []
        for _table in compute_files(tmp_path / "households.parquet", tmp_path / "members.parquet"):
            seen.append(multiarray._set_madvise_hugepage(False))  # what the batch set while computing
            multiarray._set_madvise_hugepage(seen[-1])
        assert seen == [False]
        assert multiarray._set_madvise_hugepage(True) is True  # restored afterwards
    finally:
        multiarray._set_madvise_hugepage(before)


def test_employment_costs_on_the_minimum_wage_count_the_earners_as_evaluate_does(tmp_path: Path) -> None:
    from jiuzhu.rules.batch import compute_files

    basis = {"income.employment_cost_rate": 0.1, "income.employment_cost_basis": "minimum_wage",
             "income.minimum_wage_monthly": 1500}
    two = household([adult("a"), adult("b")], income=[{"kind": "wage", "amount": 6000, "member": "a"},
                                                      {"kind": "wage", "amount": 2000, "member": "b"}])
    unnamed = household([adult("a")], income=[{"kind": "wage", "amount": 9000}])
    cases = [{**case, "parameters": basis} for case in (two, unnamed)]
    expected = [evaluate(case, with_trace=False)["counted_income"] for case in cases]
    assert expected == [8000 - 3600, 9000 - 1800]
    h, m = to_tables(cases)
    h = h.set_column(h.schema.get_field_index("wage_earners"), "wage_earners", pa.array([2, None], pa.int32()))
    pq.write_table(h, tmp_path / "h.parquet")
    pq.write_table(m, tmp_path / "m.parquet")
    table = pa.concat_tables(list(compute_files(tmp_path / "h.parquet", tmp_path / "m.parquet", overrides=basis)))
    assert table.column("counted_income").to_pylist() == expected  # null: one earner, as wages naming nobody
    bad = h.set_column(h.schema.get_field_index("wage_earners"), "wage_earners", pa.array([1.5, -1.0]))
    pq.write_table(bad, tmp_path / "h.parquet")
    with pytest.raises(BadInput) as caught:
        list(compute_files(tmp_path / "h.parquet", tmp_path / "m.parquet", overrides=basis))
    assert [(r["row"], r["column"]) for r in caught.value.as_list()] == [(0, "wage_earners"), (1, "wage_earners")]
