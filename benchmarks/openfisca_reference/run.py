#!/usr/bin/env python
"""OpenFisca reference runner for Jiuzhu's batch benchmark.

Run with the reference virtualenv (see setup.sh):

    .venv/bin/python run.py --households H.parquet --members M.parquet \
        --params P.json --out R.parquet [--repeat 1] [--extra]

Reads the two Parquet files of docs/batch_schema.md with pyarrow, builds an OpenFisca
simulation with the array builder (SimulationBuilder.create_entities /
declare_person_entity / declare_entity / join_with_persons / set_input — never the
dict builder, which is O(N²)), computes the dibao amounts with the openfisca_jiuzhu
package and writes R.parquet: household_id, topup, classified, total (float64).
With --extra it adds withheld_share, gradual_exit, size, working_capacity_index,
net_income, per_capita_net_income, standard, assets_within_limit and dibao_eligible, to
diagnose differences (compare with _compare.py).

P.json: {"date", "counties": {code: {standard: {urban, rural}, minimum_amount,
adjustment_index, financial_limit_years, max_homes, vehicle_cap}}}, plus optional
excluded_income_kinds, necessary_expenditure_kinds, employment_cost_rate (top level or per
county) and refused_work_share_reduction, gradual_exit_months (top level): see README.md.

Prints one JSON line on stdout, times in seconds (medians over --repeat runs):
  seconds            reading the Parquet inputs → R.parquet written (everything after
                     the imports and the tax-benefit system build)
  seconds_read       reading the inputs and turning them into arrays (incl. validation)
  seconds_build      SimulationBuilder calls + set_input
  seconds_formulas   simulation.calculate of the outputs
  seconds_write      output table + Parquet write
  import_seconds     imports (numpy, pyarrow, openfisca-core, the package) + parsing
                     P.json + building the TaxBenefitSystem, once per process
  seconds_total      import_seconds + seconds (the whole process after interpreter start;
                     for --repeat > 1: import_seconds + median seconds)
  peak_rss_mb        the process's peak resident set size (getrusage ru_maxrss)
  cpu_seconds        user + system CPU time of the whole process (less sensitive than
                     wall time to other load on a shared machine)
Households without any member row cannot be given to OpenFisca's join_with_persons
(it would shift every later household); they are left out and written with null
amounts, counted in "households_without_members".
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import openfisca_jiuzhu  # noqa: E402
from openfisca_core import periods  # noqa: E402
from openfisca_core.simulations import SimulationBuilder  # noqa: E402
from openfisca_jiuzhu.variables import AreaType, Sex  # noqa: E402

# Income kinds that are not counted (DOMAIN.md §4.1), unless P.json says otherwise: Jiuzhu's
# `income.excluded_kinds` is a dated regional parameter (e.g. central_basic_pension from 2021).
EXCLUDED_INCOME = (
    "preferential_pension",
    "family_planning_reward",
    "scholarship",
    "bravery_award",
    "social_assistance",
    "central_basic_pension",
    "old_age_allowance",
)
# Subtracted from counted income (DOMAIN.md §4.1).
DEDUCTIONS = ("tax", "social_contribution", "maintenance_paid")
# Necessary expenditure (DOMAIN.md §4.2), unless P.json says otherwise
# (Jiuzhu: `expenditure.deductible_kinds`).
NECESSARY_EXPENDITURE = ("medical_out_of_pocket", "special_needs")


def income_rules(params: dict, county: str) -> tuple[frozenset, frozenset, float]:
    """Excluded income kinds, necessary expenditure kinds and employment cost rate of a county.

    Optional keys of P.json, per county or at the top level (the county wins):
    "excluded_income_kinds", "necessary_expenditure_kinds", "employment_cost_rate"
    (a share of income_wage deducted as necessary employment costs; default 0).
    """
    own = params["counties"][county]

    def pick(key, default):
        return own.get(key, params.get(key, default))

    return (
        frozenset(pick("excluded_income_kinds", EXCLUDED_INCOME)),
        frozenset(pick("necessary_expenditure_kinds", NECESSARY_EXPENDITURE)),
        float(pick("employment_cost_rate", 0.0)),
    )


OUTPUTS = ("topup", "classified")
EXTRA_OUTPUTS = {
    "withheld_share": "withheld_share",
    "gradual_exit": "gradual_exit",
    "size": "household_size",
    "working_capacity_index": "working_capacity_index",
    "net_income": "net_income",
    "per_capita_net_income": "per_capita_net_income",
    "standard": "dibao_standard",
    "assets_within_limit": "assets_within_limit",
    "dibao_eligible": "dibao_eligible",
}


class InputError(Exception):
    pass


def _present(schema: pa.Schema, names) -> list[str]:
    return [n for n in names if n in schema.names]


def _f64(table: pa.Table, name: str, default: float = 0.0) -> np.ndarray:
    """A numeric column as float64, nulls (and an absent column) → default."""
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=np.float64)
    col = pc.fill_null(table.column(name).cast(pa.float64()), default)
    return col.to_numpy()


def _require(table: pa.Table, names, what: str) -> None:
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise InputError(f"{what}: required column(s) missing: {', '.join(missing)}")
    for n in names:
        nulls = table.column(n).null_count
        if nulls:
            raise InputError(f"{what}: column {n} has {nulls} null value(s)")


def _dates(col: pa.ChunkedArray) -> np.ndarray:
    return col.cast(pa.date32()).to_numpy().astype("datetime64[D]")


def read_inputs(households_path: str, members_path: str, params: dict) -> dict:
    """Read both Parquet files into the numpy arrays the simulation needs."""
    counties = params["counties"]
    h_schema = pq.read_schema(households_path)
    income_cols = [n for n in h_schema.names if n.startswith("income_")]
    expense_cols = [n for n in h_schema.names if n.startswith("expense_")]
    h_cols = [
        "household_id",
        "region",
        "date",
        "area_type",
        *income_cols,
        *expense_cols,
        *_present(h_schema, ["assets_financial", "homes", "vehicle_value", "previous_topup", "employment_started"]),
    ]
    h = pq.read_table(
        households_path,
        columns=[c for c in h_cols if c in h_schema.names],
        read_dictionary=["region", "area_type"],
    )
    _require(h, ["household_id", "region", "date", "area_type"], households_path)
    n_h = h.num_rows
    household_id = h.column("household_id")
    if pc.count_distinct(household_id).as_py() != n_h:
        raise InputError(f"{households_path}: household_id is not unique")

    # County: the 6-digit code at the head of the region code (Jiuzhu's county parameters).
    region = h.column("region").cast(pa.string())
    county_dict = pc.utf8_slice_codeunits(region, 0, 6).combine_chunks().dictionary_encode()
    county_keys = county_dict.dictionary.to_numpy(zero_copy_only=False).astype(object)
    unknown = [k for k in county_keys if k not in counties]
    if unknown:
        raise InputError(f"region(s) not in the parameters file: {', '.join(sorted(unknown)[:10])}")
    county_index = county_dict.indices.to_numpy(zero_copy_only=False)
    county = county_keys[county_index]

    # Counted income − deductions, and necessary expenditure, in float64; which kinds count
    # may differ by county (a 0/1 weight per county and kind, spread over the households).
    rules = [income_rules(params, k) for k in county_keys]
    other_income = np.zeros(n_h, dtype=np.float64)
    necessary = np.zeros(n_h, dtype=np.float64)
    for c in income_cols:
        weight = np.array([c[len("income_") :] not in excluded for excluded, _, _ in rules], dtype=np.float64)
        if weight.any():
            other_income += _f64(h, c) * (weight[county_index] if not weight.all() else 1.0)
    for c in expense_cols:
        kind = c[len("expense_") :]
        if kind in DEDUCTIONS:
            other_income -= _f64(h, c)
            continue
        weight = np.array([kind in kinds for _, kinds, _ in rules], dtype=np.float64)
        if weight.any():
            necessary += _f64(h, c) * (weight[county_index] if not weight.all() else 1.0)
    cost_rate = np.array([rate for _, _, rate in rules], dtype=np.float64)
    if "income_wage" in income_cols and cost_rate.any():
        other_income -= _f64(h, "income_wage") * cost_rate[county_index]

    area = h.column("area_type")
    is_urban = pc.equal(area, "urban")
    bad_area = pc.sum(pc.invert(pc.or_(is_urban, pc.equal(area, "rural")))).as_py() or 0
    if bad_area:
        raise InputError(f"{households_path}: {bad_area} area_type value(s) other than urban/rural")
    area_type = np.where(is_urban.to_numpy(zero_copy_only=False), AreaType.urban.index, AreaType.rural.index)

    m_schema = pq.read_schema(members_path)
    optional = [
        "disability_grade",
        "health_coefficient",
        "counted",
        "imputed_monthly_reference",
        "imputed_months",
        "refused_work",
    ]
    m_cols = ["household_id", "sex", "birth_date", *_present(m_schema, optional)]
    m = pq.read_table(members_path, columns=m_cols, read_dictionary=["sex"])
    _require(m, ["household_id", "sex", "birth_date"], members_path)
    n_p = m.num_rows

    person_household = pc.index_in(m.column("household_id"), value_set=household_id.combine_chunks())
    orphans = person_household.null_count
    if orphans:
        raise InputError(f"{members_path}: {orphans} member(s) of a household not in {households_path}")
    person_household = person_household.to_numpy().astype(np.int64)

    sex = m.column("sex")
    is_female = pc.equal(sex, "female")
    bad_sex = pc.sum(pc.invert(pc.or_(is_female, pc.equal(sex, "male")))).as_py() or 0
    if bad_sex:
        raise InputError(f"{members_path}: {bad_sex} sex value(s) other than male/female")
    sex_code = np.where(is_female.to_numpy(zero_copy_only=False), Sex.female.index, Sex.male.index)

    if "disability_grade" in m.column_names:
        grade = pc.fill_null(m.column("disability_grade").cast(pa.int32()), 0).to_numpy()
    else:
        grade = np.zeros(n_p, dtype=np.int32)
    if "refused_work" in m.column_names:
        refused = pc.fill_null(m.column("refused_work"), False).to_numpy(zero_copy_only=False)
    else:
        refused = np.zeros(n_p, dtype=bool)
    if "employment_started" in h.column_names:
        started = h.column("employment_started")
        started_known = pc.is_valid(started).to_numpy(zero_copy_only=False)
        started = pc.fill_null(started.cast(pa.date32()), pa.scalar(0, pa.date32()))
        employment_started = started.to_numpy().astype("datetime64[D]")
    else:
        started_known = np.zeros(n_h, dtype=bool)
        employment_started = np.zeros(n_h, dtype="datetime64[D]")
    if "counted" in m.column_names:
        counted = pc.fill_null(m.column("counted"), True).to_numpy(zero_copy_only=False)
    else:
        counted = np.ones(n_p, dtype=bool)

    return {
        "household_id": household_id,
        "county": county,
        "area_type": area_type,
        "case_date": _dates(h.column("date")),
        "other_income": other_income,
        "necessary_expenditure": necessary,
        "assets_financial": _f64(h, "assets_financial"),
        "homes": _f64(h, "homes").astype(np.int64),
        "vehicle_value": _f64(h, "vehicle_value"),
        "previous_topup": _f64(h, "previous_topup"),
        "employment_started": employment_started,
        "employment_started_known": started_known,
        "person_household": person_household,
        "sex": sex_code,
        "birth_date": _dates(m.column("birth_date")),
        "disability_grade": grade,
        "health_coefficient": _f64(m, "health_coefficient", -1.0),
        "counted": counted,
        "imputed_monthly_reference": _f64(m, "imputed_monthly_reference"),
        "imputed_months": _f64(m, "imputed_months"),
        "refused_work": refused,
    }


HOUSEHOLD_INPUTS = (
    "county",
    "area_type",
    "case_date",
    "other_income",
    "necessary_expenditure",
    "assets_financial",
    "homes",
    "vehicle_value",
    "previous_topup",
    "employment_started",
    "employment_started_known",
)
PERSON_INPUTS = (
    "sex",
    "birth_date",
    "disability_grade",
    "health_coefficient",
    "counted",
    "imputed_monthly_reference",
    "imputed_months",
    "refused_work",
)


def build_simulation(tbs, data: dict, period):
    """The array builder: entities, person → household join, set_input."""
    n_h_all = len(data["area_type"])
    person_household = data["person_household"]
    members_per_household = np.bincount(person_household, minlength=n_h_all)
    keep = members_per_household > 0
    if keep.all():
        h_select = None
    else:
        # join_with_persons maps households by np.unique over the persons' assignments:
        # a household without persons would shift every later one. Leave them out.
        h_select = np.flatnonzero(keep)
        person_household = (np.cumsum(keep) - 1)[person_household]
    n_h = n_h_all if h_select is None else len(h_select)
    n_p = len(person_household)

    builder = SimulationBuilder()
    builder.create_entities(tbs)
    # Integer ids (positions): OpenFisca copies them with numpy.array(list(ids)).
    builder.declare_person_entity("person", range(n_p))
    households = builder.declare_entity("household", range(n_h))
    builder.join_with_persons(households, person_household, np.zeros(n_p, dtype=np.int16))
    simulation = builder.build(tbs)
    for name in HOUSEHOLD_INPUTS:
        values = data[name] if h_select is None else data[name][h_select]
        simulation.set_input(name, period, values)
    for name in PERSON_INPUTS:
        simulation.set_input(name, period, data[name])
    return simulation, h_select


def run_once(tbs, period, args, params) -> tuple[dict, dict]:
    times = {}
    t0 = time.perf_counter()
    data = read_inputs(args.households, args.members, params)
    pa.default_memory_pool().release_unused()  # the Arrow tables are gone: hand their memory back
    t1 = time.perf_counter()
    simulation, h_select = build_simulation(tbs, data, period)
    t2 = time.perf_counter()
    names = dict(zip(OUTPUTS, OUTPUTS, strict=True))
    if args.extra:
        names.update(EXTRA_OUTPUTS)
    results = {"total": simulation.calculate("total", period)}
    for column, variable in names.items():
        results[column] = simulation.calculate(variable, period)
    t3 = time.perf_counter()

    n_h = len(data["area_type"])
    missing = None
    if h_select is not None:  # households without members: null in every computed column
        missing = np.ones(n_h, dtype=bool)
        missing[h_select] = False

    def widen(values: np.ndarray, dtype=None) -> np.ndarray:
        values = values if dtype is None else values.astype(dtype)
        if h_select is None:
            return values
        out = np.zeros(n_h, dtype=values.dtype)
        out[h_select] = values
        return out

    # OpenFisca's amounts are float32 values rounded to the fen; widen them to float64 and
    # round to 2 decimals (removing only float32's representation error), then sum in float64.
    topup = np.round(widen(results["topup"], np.float64), 2)
    classified = np.round(widen(results["classified"], np.float64), 2)
    columns = {"topup": topup, "classified": classified, "total": np.round(topup + classified, 2)}
    if args.extra:
        for column in EXTRA_OUTPUTS:
            values = results[column]
            columns[column] = widen(values, np.float64 if values.dtype == np.float32 else None)
    table = pa.table(
        {"household_id": data["household_id"]} | {k: pa.array(v, mask=missing) for k, v in columns.items()}
    )
    pq.write_table(table, args.out)
    t4 = time.perf_counter()
    times["seconds"] = t4 - t0
    times["seconds_read"] = t1 - t0
    times["seconds_build"] = t2 - t1
    times["seconds_formulas"] = t3 - t2
    times["seconds_write"] = t4 - t3
    info = {
        "households": n_h,
        "persons": len(data["sex"]),
        "households_without_members": 0 if h_select is None else n_h - len(h_select),
        "eligible": int(np.count_nonzero(simulation.calculate("dibao_eligible", period))),
        "sum_total": float(np.nansum(columns["total"])),
    }
    return times, info


def peak_rss_mb() -> float:
    # VmHWM is this program's own high-water mark; ru_maxrss would also count the parent's
    # memory at fork time (Linux keeps it across exec), which inflates a benchmark child.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    except Exception:  # pragma: no cover - non-Unix
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", required=True)
    parser.add_argument("--members", required=True)
    parser.add_argument("--params", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeat", type=int, default=1, help="runs in this process (medians reported)")
    parser.add_argument("--extra", action="store_true", help="add diagnostic columns to the output")
    args = parser.parse_args(argv)

    with open(args.params, encoding="utf-8") as f:
        params = json.load(f)
    tbs = openfisca_jiuzhu.CountryTaxBenefitSystem(params)
    # A year starting on the parameters' date: parameters(period) reads them on that day.
    period = periods.period(f"year:{params['date']}")
    import_seconds = time.perf_counter() - T_START

    runs = []
    info = {}
    try:
        for _ in range(max(1, args.repeat)):
            times, info = run_once(tbs, period, args, params)
            runs.append(times)
            gc.collect()  # a Simulation holds reference cycles: free it before the next run
    except InputError as e:
        print(json.dumps({"error": str(e)}), file=sys.stderr)
        return 2

    report = {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}
    report["import_seconds"] = round(import_seconds, 4)
    report["seconds_total"] = round(import_seconds + report["seconds"], 4)
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
    report["repeat"] = len(runs)
    if len(runs) > 1:
        report["runs_seconds"] = [round(r["seconds"], 4) for r in runs]
    report.update(info)
    report["openfisca_core"] = _version("openfisca-core")
    report["numpy"] = np.__version__
    report["pyarrow"] = pa.__version__
    print(json.dumps(report))
    return 0


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
