"""`jiuzhu demo`: load the demo county into the database and print how to sign in.

`jiuzhu demo` loads it (once; a second run only prints the accounts again),
`jiuzhu demo --totp USERNAME` prints the code that user's authenticator shows now.
The database is the one Django is configured with (`DATABASE_URL`, or the SQLite file).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jiuzhu.demo.load import DemoResult

DEFAULT_URL = "http://127.0.0.1:8000"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the `demo` command to the `jiuzhu` parser."""
    parser = sub.add_parser(
        "demo",
        help="load a demo county (Da'an, 220882) with households, applications and a user per role",
        description="Loads about 2,000 households in 2 towns and 8 villages, applications in every state of "
                    "the procedure and a user per role, then prints the accounts. Run it after `jiuzhu migrate`; "
                    "running it again changes nothing. Made-up data: never load it into a database with real "
                    "cases (it refuses a database that already holds households).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--households", type=int, default=2000, metavar="N", help="how many households (2000)")
    parser.add_argument("--seed", type=int, default=2026, help="the same seed gives the same county and passwords")
    parser.add_argument("--totp", metavar="USERNAME", help="print the current two-factor code of a demo user and exit")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"where the site runs, for the sign-in link ({DEFAULT_URL})")


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiuzhu.settings")
    django.setup()


def _unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def run(args: argparse.Namespace) -> int:
    _setup()
    if args.totp:
        return _print_totp(args.totp)
    if _unapplied_migrations():
        print("jiuzhu demo: the database is not migrated; run `jiuzhu migrate` first", file=sys.stderr)
        return 2
    if args.households < 1:
        print("jiuzhu demo: --households must be positive", file=sys.stderr)
        return 2

    from jiuzhu.demo.load import DemoRefused, load_demo

    def log(message: str) -> None:
        print(f"  {message}", flush=True)

    try:
        result = load_demo(households_count=args.households, seed=args.seed, log=log)
    except (DemoRefused, ValueError) as exc:
        print(f"jiuzhu demo: {exc}", file=sys.stderr)
        return 2
    if result.loaded:
        print(f"Demo county loaded in {result.seconds:.1f} s.")
    else:
        print(f"The demo county is already loaded (seed {result.seed}); nothing changed.")
    _print_summary(result.counts, result.states)
    _print_accounts(result, args.url.rstrip("/"))
    return 0


def _print_summary(counts: dict[str, int], states: dict[str, int]) -> None:
    c = counts
    print(f"  大安市 (220882): {c['townships']} towns, {c['villages']} villages, {c['households']} households, "
          f"{c['persons']} persons ({c['disabled']} with a disability)")
    print(f"  {c['applications']} applications: " + ", ".join(f"{state} {n}" for state, n in states.items()))
    print(f"  {c['overdue']} overdue, {c['clock_stopped']} with the clock stopped, {c['relative_flagged']} flagged "
          f"as relatives of staff, {c['reviews_due_30_days']} enrolments due for review within 30 days")
    print(f"  {c['verification_requests']} verification requests answered by the fake departments, "
          f"{c['verification_findings']} findings (see the verification page)")


def _print_accounts(result: DemoResult, url: str) -> None:
    print()
    print(f"Sign in at {url}/accounts/login/ with (demo accounts, never for real cases):")
    width = max(len(a.username) for a in result.accounts)
    for a in result.accounts:
        print(f"  {a.username:<{width}}  {a.password}  {a.role:<17}  {a.area_code}")
    with_totp = [a for a in result.accounts if a.totp_key]
    if with_totp:
        print()
        print("Approvers, supervisors and admins also enter a six-digit code. Add the secret to an authenticator")
        print("app, or print the current code with `jiuzhu demo --totp USERNAME`:")
        for a in with_totp:
            print(f"  {a.username:<{width}}  {a.totp_secret}")


def _print_totp(username: str) -> int:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from jiuzhu.demo.staff import totp_code

    try:
        print(totp_code(username))
    except TOTPDevice.DoesNotExist:
        print(f"jiuzhu demo: {username} has no confirmed authenticator", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m jiuzhu.cli.demo`, for when the `demo` group is not in the `jiuzhu` command."""
    parser = argparse.ArgumentParser(prog="jiuzhu demo", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
