"""`jiuzhu rules …`: evaluate, batch, standard, simulate."""

from __future__ import annotations

import argparse
import datetime as dt

from jiuzhu.cli._io import print_json, read_json, report
from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.i18n import LANGUAGES


def region_check(code: str) -> bool:
    from jiuzhu.registry.checks import known_region

    return known_region(code)


def identity_check(number: str) -> tuple[list[str], dt.date | None, str | None]:
    from jiuzhu.registry.checks import identity_check as check

    return check(number)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("rules", help="the rules engine: means test, standards, benefits")
    commands = group.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="evaluate one case or a list (JSON, DOMAIN.md §13)")
    evaluate.add_argument("file", help="a JSON file, or - for standard input")
    evaluate.add_argument("--lang", choices=LANGUAGES, help="add an explanation in this language")
    evaluate.add_argument("--no-trace", action="store_true", help="leave out the trace")
    evaluate.set_defaults(func=run_evaluate)

    standard = commands.add_parser("standard", help="compute a dibao standard (basket, shares)")
    standard.add_argument("file", help="a JSON file, or - for standard input")
    standard.add_argument("--lang", choices=LANGUAGES, help="language of error messages")
    standard.set_defaults(func=run_standard)

    from jiuzhu.cli import batch  # the batch and simulation commands live beside this module

    batch.register(commands)


def run_evaluate(args: argparse.Namespace) -> int:
    from jiuzhu.rules.evaluate import evaluate

    try:
        result = evaluate(read_json(args.file), lang=args.lang, with_trace=not args.no_trace,
                          known_region=region_check, check_identity=identity_check)
    except InvalidCase as exc:
        return report(exc, args.lang)
    print_json(result)
    return 0


def run_standard(args: argparse.Namespace) -> int:
    from jiuzhu.rules.standards import compute_standard

    try:
        result = compute_standard(read_json(args.file))
    except InvalidCase as exc:
        return report(exc, args.lang)
    print_json(result)
    return 0
