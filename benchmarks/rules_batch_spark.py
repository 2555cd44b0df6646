#!/usr/bin/env python
"""Benchmark: `rules batch` on the local engine against the Spark engine, same files.

    .venv/bin/python benchmarks/rules_batch_spark.py 100000 [--repeat 3] [--master local[2]]

Generates (once, cached in benchmarks/out/) N households over four pilot counties,
then times `run_batch` and `run_spark_batch` --repeat times each in this process and
prints the medians. The Spark session is started once before the timed runs (its
start-up is printed apart); the first Spark run, which also starts the Python workers,
is printed apart and not in the median. Both outputs are checked to be identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COUNTIES = ("220882", "511703", "150102", "320582")
DATE = dt.date(2018, 7, 1)


def population(n: int, seed: int) -> Path:
    """Four counties, households interleaved (as a province's file would mix them)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from jiuzhu.rules.population import generate

    folder = HERE / "out" / f"spark-population-{n}-{seed}"
    if (folder / "members.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    parts = [generate(n // 4 + (i < n % 4), seed + i, county, DATE) for i, county in enumerate(COUNTIES)]
    h = pa.concat_tables([p[0] for p in parts], promote_options="permissive")
    m = pa.concat_tables([p[1] for p in parts], promote_options="permissive")
    h = h.take(pa.array(np.random.default_rng(seed).permutation(h.num_rows)))
    where = pc.index_in(m.column("household_id"), value_set=h.column("household_id")).to_numpy()
    m = m.take(pa.array(np.argsort(where, kind="stable")))  # members follow their households
    pq.write_table(h, folder / "households.parquet")
    pq.write_table(m, folder / "members.parquet")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("households", type=int, nargs="?", default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="1g")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from jiuzhu.rules.batch import run_batch
    from jiuzhu.rules.spark import run_spark_batch, spark_session

    folder = population(args.households, args.seed)
    h, m = folder / "households.parquet", folder / "members.parquet"
    persons = pq.ParquetFile(m).metadata.num_rows
    print(f"{args.households} households, {persons} persons, {len(COUNTIES)} counties")
    with tempfile.TemporaryDirectory() as tmp:
        local_out, spark_out = Path(tmp) / "local.parquet", Path(tmp) / "spark.parquet"
        local = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run_batch(h, m, local_out)
            local.append(time.perf_counter() - start)

        start = time.perf_counter()
        session = spark_session(args.master, driver_memory=args.driver_memory)
        started = time.perf_counter() - start
        spark = []
        for _ in range(args.repeat + 1):
            start = time.perf_counter()
            run_spark_batch(h, m, spark_out)
            spark.append(time.perf_counter() - start)
        session.stop()
        same = pq.read_table(local_out).equals(pq.read_table(spark_out))

    print(f"local engine          median {statistics.median(local):8.2f} s   ({args.repeat} runs)")
    print(f"spark session start          {started:8.2f} s   ({args.master})")
    print(f"spark engine, 1st run        {spark[0]:8.2f} s   (starts the Python workers)")
    print(f"spark engine          median {statistics.median(spark[1:]):8.2f} s   ({args.repeat} runs)")
    print(f"identical results: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
