#!/usr/bin/env python
"""Benchmark: Jiuzhu's vectorised means test against the same formulas in OpenFisca-core.

    .venv/bin/python benchmarks/rules_batch.py --households 1000000 [--repeat 5] [--json]

1. Generates a synthetic population (`jiuzhu population generate`, ~3 persons per
   household) spread over the four pilot counties, cached in benchmarks/out/.
2. Runs `jiuzhu rules batch`'s engine in --repeat separate processes: the time from
   reading the Parquet inputs to having the results in memory, and the peak RSS.
3. Runs the OpenFisca-core 46.0.1 country package in benchmarks/openfisca_reference/
   (its own virtualenv, made by its setup.sh) on the same files, the same parameter
   values (resolved from Jiuzhu's YAML and handed over as P.json), --repeat times.
4. Compares the annual amounts household by household: equal within 1 yuan, apart from
   households whose per-capita income lies within 0.01 yuan of the standard, where
   OpenFisca's float32 can flip eligibility (counted in `boundary_flips`).

Both engines compute the same formulas: the working capacity index, imputed earnings
scaled by the household index, counted income, necessary expenditure (medical and
special needs), the asset tests, the gap top-up with the minimum amount and classified
assistance P × (1 − L) × M × N. The benchmark sets the parameters that make the four
counties use that method (see OVERRIDES); the standards are each county's own.
The last line with --json: {"households", "persons", "seconds_median", "peak_rss_mb",
"reference", "reference_seconds_median", "ratio", "agree", "boundary_flips", ...}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = HERE / "openfisca_reference"
COUNTIES = ("220882", "511703", "150102", "320582")
DATE = dt.date(2018, 7, 1)
#: What makes every county compute "means test + gap + WCI classified", as the reference does.
OVERRIDES: dict[str, Any] = {
    "classified.method": "working_capacity",
    "classified.adjustment_index": 0.25,
    "income.imputation.working_capacity_basis": "household",
}


def population(n: int, seed: int) -> Path:
    """Four counties of n/4 households each, written once and reused."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from jiuzhu.rules.population import generate, write_parquet

    folder = HERE / "out" / f"population-{n}-{seed}"
    if (folder / "members.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    households, members = [], []
    for i, county in enumerate(COUNTIES):
        size = n // len(COUNTIES) + (1 if i < n % len(COUNTIES) else 0)
        h, m = generate(size, seed + i, county, DATE)
        households.append(h)
        members.append(m)
    # Sorted by household id, members grouped in the same order: the layout batch reads fastest
    # (docs/batch_schema.md); the reference reads the very same files.
    h = pa.concat_tables(households, promote_options="permissive").sort_by("household_id")
    m = pa.concat_tables(members, promote_options="permissive")
    m = m.take(pc.sort_indices(m, sort_keys=[("household_id", "ascending")], null_placement="at_end"))
    write_parquet(h, folder / "households.parquet")
    write_parquet(m, folder / "members.parquet")
    return folder


def reference_parameters(folder: Path) -> Path:
    """The values both engines use, resolved from Jiuzhu's parameter tree."""
    from jiuzhu.rules.parameters import ParameterContext, default_tree

    tree = default_tree()
    counties: dict[str, Any] = {}
    for county in COUNTIES:
        ctx = {a: ParameterContext(tree, county, DATE, a, OVERRIDES) for a in ("urban", "rural")}
        rural = ctx["rural"]
        counties[county] = {
            "standard": {a: ctx[a].number("dibao.standard") for a in ctx},
            "minimum_amount": rural.number("dibao.minimum_amount"),
            "adjustment_index": rural.number("classified.adjustment_index"),
            "financial_limit_years": rural.number("assets.financial_per_capita_limit_years"),
            "max_homes": rural.number("assets.max_homes"),
            "vehicle_cap": rural.number("assets.vehicle_value_cap"),
            "excluded_income_kinds": list(rural.texts("income.excluded_kinds")),
            "necessary_expenditure_kinds": list(rural.texts("expenditure.deductible_kinds")),
            "employment_cost_rate": rural.number("income.employment_cost_rate"),
        }
    national = ParameterContext(tree, COUNTIES[0], DATE, "rural", OVERRIDES)
    body = {"date": DATE.isoformat(), "counties": counties,
            "refused_work_share_reduction": national.number("dibao.refused_work_share_reduction"),
            "gradual_exit_months": national.number("dibao.gradual_exit_months")}
    path = folder / "P.json"
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM). ru_maxrss is not used: Linux carries the
    parent's peak at fork time across exec, so every child would report the parent's size."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path, out: Path) -> None:
    """One timed run of Jiuzhu's engine in this process (called in a fresh interpreter)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jiuzhu.areas.divisions import is_known_region
    from jiuzhu.rules.batch import compute_files
    from jiuzhu.rules.parameters import default_tree

    default_tree()  # reading the parameter YAML is start-up, like OpenFisca's system build
    # Arrow's first conversion to NumPy imports its pandas shim (~0.3 s): an import, not work.
    pa.array([0]).to_numpy()
    start = time.perf_counter()
    tables = list(compute_files(folder / "households.parquet", folder / "members.parquet",
                                known_region=is_known_region, overrides=OVERRIDES))
    seconds = time.perf_counter() - start
    result = pa.concat_tables(tables)
    written = time.perf_counter()
    pq.write_table(result, out)
    rss = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "seconds_write": time.perf_counter() - written,
                      "peak_rss_mb": rss, "households": result.num_rows}))


def run_jiuzhu(folder: Path, repeat: int, pause: float = 0.0) -> list[dict[str, Any]]:
    runs = []
    for i in range(repeat):
        time.sleep(pause)  # idle seconds first: the VM may have handed freed memory back to its host
        done = subprocess.run([sys.executable, __file__, "--child", str(folder),
                               str(folder / f"jiuzhu-{i}.parquet")], capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def run_reference(folder: Path, params: Path, repeat: int) -> list[dict[str, Any]]:
    subprocess.run(["bash", str(REFERENCE / "setup.sh")], check=True, capture_output=True)
    runs = []
    for _ in range(repeat):
        done = subprocess.run([str(REFERENCE / ".venv" / "bin" / "python"), str(REFERENCE / "run.py"),
                               "--households", str(folder / "households.parquet"),
                               "--members", str(folder / "members.parquet"), "--params", str(params),
                               "--out", str(folder / "openfisca.parquet"), "--extra"],
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def compare(folder: Path) -> dict[str, Any]:
    """Household by household: amounts within 1 yuan, boundary flips counted apart."""
    import numpy as np
    import pyarrow.parquet as pq

    ours = pq.read_table(folder / "jiuzhu-0.parquet")
    theirs = pq.read_table(folder / "openfisca.parquet")
    assert ours.column("household_id").equals(theirs.column("household_id")), "row order differs"
    a = ours.column("total_annual").to_numpy()
    b = theirs.column("total").to_numpy(zero_copy_only=False).astype(np.float64)
    gap = np.abs(a - np.nan_to_num(b, nan=np.inf))
    per_capita = ours.column("net_income").to_numpy() / ours.column("size").to_numpy()
    boundary = np.abs(per_capita - ours.column("standard").to_numpy()) <= 0.01
    off = gap > 1.0
    return {"agree": bool(not (off & ~boundary).any()), "boundary_flips": int((off & boundary).sum()),
            "disagreements": int((off & ~boundary).sum()), "max_difference_elsewhere": float(
                gap[~off].max() if (~off).any() else 0.0),
            "total_jiuzhu": round(float(a.sum()), 2), "total_openfisca": round(float(np.nansum(b)), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each engine before timing")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="idle seconds before each timed run of Jiuzhu's engine (default 0: back to back); "
                             "shows what a batch started on an idle VM pays for fresh memory")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    folder = population(args.households, args.seed)
    params = reference_parameters(folder)
    # One untimed run of each engine first: the files were just written, and the first
    # process to read them pays for the page cache and memory the system still has to settle.
    run_jiuzhu(folder, args.warmup)
    run_reference(folder, params, args.warmup)
    ours = run_jiuzhu(folder, args.repeat, args.pause)
    theirs = run_reference(folder, params, args.repeat)
    import pyarrow.parquet as pq

    reference_span = [r["seconds_read"] + r["seconds_build"] + r["seconds_formulas"] for r in theirs]
    seconds = statistics.median(r["seconds"] for r in ours)
    result = {
        "households": args.households,
        "persons": pq.ParquetFile(folder / "members.parquet").metadata.num_rows,
        "seconds_median": round(seconds, 3),
        "seconds_runs": [round(r["seconds"], 3) for r in ours],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in ours), 1),
        "reference": "openfisca-core 46.0.1",
        "reference_seconds_median": round(statistics.median(reference_span), 3),
        "reference_seconds_runs": [round(s, 3) for s in reference_span],
        "reference_peak_rss_mb": round(max(r["peak_rss_mb"] for r in theirs), 1),
        "reference_import_seconds_median": round(statistics.median(r["import_seconds"] for r in theirs), 3),
        "ratio": round(statistics.median(reference_span) / seconds, 2),
        **compare(folder),
        "repeat": args.repeat,
        "pause": args.pause,
        "warmup": args.warmup,
        "cpus": os.cpu_count(),
    }
    if not args.json:
        for key, value in result.items():
            print(f"{key:32} {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
