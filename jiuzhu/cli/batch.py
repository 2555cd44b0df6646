"""`jiuzhu rules batch` and `jiuzhu rules simulate`: many households at once."""

from __future__ import annotations

import argparse
import sys

from jiuzhu.cli._io import BAD_INPUT, print_json, report
from jiuzhu.rules.i18n import LANGUAGES


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = commands.add_parser("batch", help="the vectorised means test over Parquet files (docs/batch_schema.md)")
    batch.add_argument("--households", required=True, help="households.parquet")
    batch.add_argument("--members", required=True, help="members.parquet")
    batch.add_argument("--out", required=True, help="result.parquet (written only if every row is good)")
    batch.add_argument("--engine", choices=("local", "spark"), default="local",
                       help="local (default) or Apache Spark, one county partition per task")
    batch.add_argument("--chunk", type=int, default=1_000_000, help="households per chunk (local engine)")
    batch.add_argument("--spark-master", default="local[2]", help="Spark master URL (default local[2])")
    batch.add_argument("--spark-work-dir", help="where the Spark tasks write their results before the output "
                                                "file is made (default: beside --out; on a cluster, a folder "
                                                "every executor and this machine can reach)")
    batch.add_argument("--progress", action="store_true", help="show a progress bar on standard error")
    batch.add_argument("--lang", choices=LANGUAGES, help="language of the bad-row report")
    batch.set_defaults(func=run_batch)

    simulate = commands.add_parser("simulate", help="recompute a population under a reform and compare")
    simulate.add_argument("--population", required=True, help="a folder with households.parquet and members.parquet")
    simulate.add_argument("--reform", required=True, help="a reform YAML file (parameter overrides)")
    simulate.add_argument("--out", help="where to write summary.json and the CSV files "
                                        "(default: POPULATION/simulation-REFORM)")
    simulate.add_argument("--lang", choices=LANGUAGES, help="language of error messages")
    simulate.set_defaults(func=run_simulate)


def run_batch(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from jiuzhu.cli.rules import region_check
    from jiuzhu.rules.batch import BadInput

    try:
        if args.engine == "spark":
            from jiuzhu.rules.spark import run_spark_batch

            written = run_spark_batch(args.households, args.members, args.out, known_region=region_check,
                                      master=args.spark_master, work_dir=args.spark_work_dir)
        else:
            from jiuzhu.rules.batch import run_batch as run_local

            total = pq.ParquetFile(args.households).metadata.num_rows
            show = args.progress or (sys.stderr.isatty() and total > 100_000)
            with tqdm(total=total, unit="households", disable=not show, file=sys.stderr) as bar:

                def advance(rows: int) -> None:
                    bar.update(rows)

                written = run_local(args.households, args.members, args.out, chunk_rows=args.chunk,
                                    known_region=region_check, progress=advance)
    except BadInput as exc:
        print_json({"bad_rows": exc.as_list(args.lang)})
        return BAD_INPUT
    except (OSError, ValueError, RuntimeError) as exc:  # unreadable files, Spark or Java missing
        print_json({"error": str(exc)})
        return BAD_INPUT
    sys.stderr.write(f"{written} households written to {args.out}\n")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jiuzhu.cli.rules import region_check
    from jiuzhu.rules.batch import BadInput
    from jiuzhu.rules.errors import InvalidCase
    from jiuzhu.rules.simulate import format_summary, read_reform, simulate, write_outputs

    try:
        reform = read_reform(args.reform)
        result = simulate(args.population, reform, known_region=region_check)
    except InvalidCase as exc:
        return report(exc, args.lang)
    except BadInput as exc:
        print_json({"bad_rows": exc.as_list(args.lang)})
        return BAD_INPUT
    except FileNotFoundError as exc:
        print_json({"error": str(exc)})
        return BAD_INPUT
    out = Path(args.out) if args.out else Path(args.population) / f"simulation-{Path(args.reform).stem}"
    sys.stderr.write(format_summary(result) + "\n")
    written = write_outputs(result, out)
    print_json(result)
    sys.stderr.write("written: " + ", ".join(str(p) for p in written) + "\n")
    return 0
