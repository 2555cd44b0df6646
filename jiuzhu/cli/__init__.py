"""The `jiuzhu` console script.

Every command group lives in its own module with a `register(subparsers)` function, so
each capability owns its commands and this file only lists the groups.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Command groups, in the order `jiuzhu --help` lists them.
GROUPS = (
    "jiuzhu.cli.params",
    "jiuzhu.cli.rules",
    "jiuzhu.cli.ids",
    "jiuzhu.cli.population",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiuzhu", description="Jiuzhu (救助) command line")
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
