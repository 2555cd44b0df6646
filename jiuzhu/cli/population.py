"""`jiuzhu population generate`: write a synthetic county as batch input files.

The files are what `jiuzhu rules batch` reads (docs/batch_schema.md), so benchmarks,
simulations and demonstrations can run on a realistic county without personal data.
A manifest records the seed and settings, so anyone can regenerate the same files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from jiuzhu.areas.divisions import InvalidRegion, normalise_region
from jiuzhu.rules.population import DEFAULT_DATE, DEFAULT_REGION, generate, manifest, write_parquet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the `population` group and its `generate` command to the `jiuzhu` parser."""
    group = sub.add_parser("population", help="synthetic populations for benchmarks and simulations")
    commands = group.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "generate",
        help="write DIR/households.parquet, DIR/members.parquet and DIR/manifest.json",
        description="The same seed and settings always give the same files.",
    )
    command.add_argument("--households", type=_positive, required=True, metavar="N")
    command.add_argument("--seed", type=int, required=True, metavar="S")
    command.add_argument("--out", type=Path, required=True, metavar="DIR")
    command.add_argument("--region", default=DEFAULT_REGION, help="6-digit county code (default %(default)s)")
    command.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=DEFAULT_DATE,
        help="the day the rules apply, YYYY-MM-DD (default %(default)s)",
    )
    command.set_defaults(func=run_generate)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run_generate(args: argparse.Namespace) -> int:
    try:
        region = normalise_region(args.region)
    except InvalidRegion as error:
        print(f"--region: {error}", file=sys.stderr)
        return 2
    if len(region) != 6 or region.endswith("00"):
        print(f"--region: {region} is not a county code (6 digits, not ending in 00)", file=sys.stderr)
        return 2
    households, members = generate(args.households, args.seed, region, args.date)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(households, out / "households.parquet")
    write_parquet(members, out / "members.parquet")
    summary = manifest(households, members, seed=args.seed, region=region, date=args.date)
    text = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))
    return 0
