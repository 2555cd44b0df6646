"""`jiuzhu verification …`: the county verification centre's batch jobs.

- `fake-departments --out DIR`: answer files for every sent request and the departments'
  own lists, in their real formats, with planted problems listed in `DIR/planted.json`;
- `ask-online`: a department that runs a DCI social registry is asked over the API;
- `export` / `import`: a department's request file out, an answer file in (the same
  services as the pages; a rejected file prints every bad row and exits 1);
- `reverify`: ask again about enrolled households not verified for a year (a parameter);
- `crosscheck`: the cross-checks, discovery and illness warnings, nightly;
- `score --planted FILE`: precision and recall of what was found against what was planted.

Each names the staff account it acts as (`--user`): every request, import and finding is
audited under that name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from jiuzhu.cli._io import BAD_INPUT, print_json


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("verification", help="household economic-status verification (核对) batch jobs")
    commands = group.add_subparsers(dest="command", required=True)

    fake = commands.add_parser("fake-departments", help="write fake department answer files with planted problems")
    fake.add_argument("--out", type=Path, required=True, help="folder for the files and planted.json")
    fake.add_argument("--seed", type=int, default=2026)
    fake.add_argument("--area", default="220882", help="county or township code the lists cover (220882)")
    fake.add_argument("--date", type=_date, default=None, help="the day the departments answer (today)")
    fake.set_defaults(func=run_fake)

    export = commands.add_parser("export", help="write a department's request file (marks the requests sent)")
    export.add_argument("--department", required=True)
    export.add_argument("--format", dest="fmt", default=None, help="csv, xlsx or json (the department's own)")
    export.add_argument("--out", type=Path, required=True, help="folder to write the file into")
    export.add_argument("--user", required=True, help="staff account acting")
    export.set_defaults(func=run_export)

    ask = commands.add_parser("ask-online", help="ask a department that runs a DCI registry, and import its answers")
    ask.add_argument("--department", required=True)
    ask.add_argument("--user", required=True, help="staff account acting")
    ask.set_defaults(func=run_ask_online)

    imp = commands.add_parser("import", help="import a department's answer file or list, strictly")
    imp.add_argument("file", type=Path)
    imp.add_argument("--department", required=True)
    imp.add_argument("--kind", choices=["answer", "list"], default="answer")
    imp.add_argument("--user", required=True, help="staff account acting")
    imp.set_defaults(func=run_import)

    for name, helptext, func in (("reverify", "ask again about enrolled households due for verification", run_reverify),
                                 ("crosscheck", "run the cross-checks, discovery and illness warnings",
                                  run_crosscheck)):
        cmd = commands.add_parser(name, help=helptext)
        cmd.add_argument("--user", required=True, help="staff account acting")
        cmd.add_argument("--area", default=None, help="area code (the user's area)")
        cmd.add_argument("--date", type=_date, default=None, help="the day of the run (today)")
        cmd.set_defaults(func=func)

    scored = commands.add_parser("score", help="precision and recall against a planted.json")
    scored.add_argument("--planted", type=Path, required=True)
    scored.add_argument("--area", default="220882")
    scored.add_argument("--date", type=_date, default=None)
    scored.set_defaults(func=run_score)


def _setup() -> None:
    from jiuzhu.cli.django_commands import setup

    setup()


def _user(username: str) -> Any:
    from jiuzhu.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        print(f"no active staff account {username!r}", file=sys.stderr)
    return user


def _today(day: dt.date | None) -> dt.date:
    from django.utils import timezone

    return day or timezone.localdate()


def run_fake(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.casework.models import Enrolment
    from jiuzhu.verification.fake import write_fake_departments

    enrolled = set(Enrolment.objects.filter(active=True).values_list("household_id", flat=True))
    result = write_fake_departments(args.out, seed=args.seed, today=_today(args.date), area_code=args.area,
                                    enrolled_households=enrolled)
    print_json({"files": [str(p) for p in result.files], "planted": {k: len(v) for k, v in result.planted.items()},
                "planted_file": str(args.out / "planted.json")})
    return 0


def _department(code: str) -> Any:
    from jiuzhu.verification.models import Department

    department = Department.objects.filter(code=code).first()
    if department is None:
        codes = ", ".join(Department.objects.values_list("code", flat=True))
        print(f"no department {code!r} (known: {codes})", file=sys.stderr)
    return department


def _refused(exc: Exception) -> int:
    from django.core.exceptions import ValidationError

    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    print_json({"errors": messages})
    return 1


def run_export(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from jiuzhu.verification import services

    user, department = _user(args.user), _department(args.department)
    if user is None or department is None:
        return BAD_INPUT
    try:
        batch, content = services.export_requests(by=user, department=department,
                                                  fmt=args.fmt or department.exchange_format)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(exc)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / batch.file_name
    path.write_bytes(content)
    print_json({"file": str(path), "rows": batch.row_count})
    return 0


def run_ask_online(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from jiuzhu.verification import online

    user, department = _user(args.user), _department(args.department)
    if user is None or department is None:
        return BAD_INPUT
    try:
        result = online.ask_online(by=user, department=department)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(exc)
    print_json({"file": result.file.file_name, "counts": result.counts})
    return 0


def run_import(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import PermissionDenied

    from jiuzhu.verification import imports

    user, department = _user(args.user), _department(args.department)
    if user is None or department is None:
        return BAD_INPUT
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return BAD_INPUT
    try:
        result = imports.import_answer_file(by=user, department=department, path=args.file,
                                            file_name=args.file.name, kind=args.kind)
    except PermissionDenied as exc:
        return _refused(exc)
    print_json({"file": result.file.file_name, "status": result.file.status, "duplicate": result.duplicate,
                "counts": result.counts, "problems": [p.as_dict() for p in result.problems]})
    return 0 if result.accepted else 1


def run_reverify(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.casework import crosschecks

    user = _user(args.user)
    if user is None:
        return BAD_INPUT
    result = crosschecks.reverify(by=user, on=_today(args.date), area_code=args.area)
    print_json({"households_asked": len(result.requested), "without_consent": result.without_consent})
    return 0


def run_crosscheck(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.casework import crosschecks

    user = _user(args.user)
    if user is None:
        return BAD_INPUT
    result = crosschecks.run_crosschecks(by=user, on=_today(args.date), area_code=args.area)
    print_json({"found": result.found, "new": len(result.new), "reviews_opened": result.reviews_opened})
    return 0


def run_score(args: argparse.Namespace) -> int:
    _setup()
    from jiuzhu.verification.fake import score

    try:
        planted = json.loads(args.planted.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.planted}: {exc}", file=sys.stderr)
        return BAD_INPUT
    print_json({name: s.as_dict() for name, s in score(planted, _today(args.date), args.area).items()})
    return 0
