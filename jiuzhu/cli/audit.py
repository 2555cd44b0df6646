"""`jiuzhu audit verify`: walk the hash chain of the audit log and say where it breaks."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from jiuzhu.cli._io import BAD_INPUT, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("audit", help="the append-only audit log")
    commands = group.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify", help="check that no entry was changed, removed or reordered",
        description="Prints {ok, entries, broken_at, problem}; exit status 0 when the chain holds, 1 when it is "
                    "broken, 2 when the database cannot be read.")
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from jiuzhu.cli.django_commands import setup

    setup()
    from django.db import DatabaseError

    from jiuzhu.accounts import audit

    try:
        check = audit.verify()
    except DatabaseError as exc:
        print(f"cannot read the audit log ({exc}); has `jiuzhu migrate` run on this database?", file=sys.stderr)
        return BAD_INPUT
    print_json(dataclasses.asdict(check))
    return 0 if check.ok else 1
