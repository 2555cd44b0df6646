"""`jiuzhu id check NUMBER`: check a resident ID number from the shell or another system.

Prints the verdict as JSON and exits 0 for a valid number and 1 for an invalid one, so a
script can use the exit status alone.
"""

from __future__ import annotations

import argparse
import json

from jiuzhu.registry.identity import check_resident_id


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the `id` group and its `check` command to the `jiuzhu` parser."""
    group = sub.add_parser("id", help="resident ID numbers (GB 11643-1999)")
    commands = group.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="check a number and show the sex, birth date and area it encodes",
        description="Exit status 0 when the number is valid, 1 when it is not.",
    )
    check.add_argument("number", help="18 characters; a final lower-case x is accepted")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    result = check_resident_id(args.number)
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0 if result.valid else 1
