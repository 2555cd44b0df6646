"""`jiuzhu params check|show`: validate the parameter tree, show a value in force and its source."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from jiuzhu.cli._io import BAD_INPUT, print_json
from jiuzhu.rules.parameters import NotInForce, ParameterContext, ParameterError, load_tree


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("params", help="dated regional parameters")
    commands = group.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate the whole parameter tree")
    check.add_argument("--root", help="a parameter tree other than the shipped one")
    check.set_defaults(func=run_check)
    show = commands.add_parser("show", help="the value in force and where it came from")
    show.add_argument("name", help="dotted parameter name, e.g. dibao.standard")
    show.add_argument("--region", required=True, help="division code, e.g. 220882")
    show.add_argument("--date", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    show.add_argument("--area-type", choices=("urban", "rural"), default="rural")
    show.add_argument("--root", help="a parameter tree other than the shipped one")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    """The parameters and the programme catalogue beside them, every problem of both at once."""
    from jiuzhu.rules.programmes import load_catalogue

    try:
        tree = load_tree(args.root)
        catalogue = load_catalogue(args.root)  # reads the tree again only when --root is given
    except ParameterError as exc:  # a CatalogueError is one too, and carries the tree's problems
        print_json([{"file": p.path, "message": p.message()} for p in exc.problems])
        return BAD_INPUT
    count = sum(len(dated) for levels in tree.values.values() for dated in levels.values())
    programmes = len(catalogue.programmes())
    print_json({"valid": True, "parameters": len(tree.declarations), "levels": sorted(tree.levels()),
                "dated_values": count, "programmes": programmes})
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        tree = load_tree(args.root)
    except ParameterError as exc:
        print_json([{"file": p.path, "message": p.message()} for p in exc.problems])
        return BAD_INPUT
    ctx = ParameterContext(tree, args.region, args.date, args.area_type)
    try:
        found = ctx.get(args.name)
    except NotInForce as exc:
        print(exc.problem("name", args.region, args.date).message(), file=sys.stderr)
        return 1
    declaration = tree.declarations[tree.leaf_name(args.name, args.area_type)]
    print_json({**found.as_trace(), "unit": declaration.unit, "description": dict(declaration.description),
                "declared_in": declaration.file})
    return 0
