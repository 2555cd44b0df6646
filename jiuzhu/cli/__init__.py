"""The `jiuzhu` console script.

Every command group lives in its own module with a `register(subparsers)` function, so
each capability owns its commands and this file only lists the groups. Any other first
argument is one of Django's management commands (`jiuzhu migrate`, `jiuzhu runserver`).
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
    "jiuzhu.cli.audit",
    "jiuzhu.cli.dci",
    "jiuzhu.cli.verification",
    "jiuzhu.cli.demo",
)

EPILOG = """\
Django's management commands run here too, with the same settings and DATABASE_URL:
  jiuzhu migrate, jiuzhu runserver, jiuzhu createsuperuser, jiuzhu check, ...
  jiuzhu help lists them all; jiuzhu help <command> explains one."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiuzhu", description="Jiuzhu (救助) command line", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        importlib.import_module(name).register(sub)
    sub.metavar = "{" + ",".join(sub.choices) + "} | <django command>"
    return parser


def own_commands(parser: argparse.ArgumentParser) -> set[str]:
    """The first words jiuzhu answers itself; every other one goes to Django."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if args_list and not args_list[0].startswith("-") and args_list[0] not in own_commands(parser):
        from jiuzhu.cli.django_commands import run

        return run(args_list)
    args = parser.parse_args(args_list)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
