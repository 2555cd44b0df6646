"""The demo county's verification round: ask, answer (fake departments), import, cross-check.

The county verification centre asks every department about the households under
investigation and the enrolled ones due for re-verification; the fake departments answer
in their real formats with planted discrepancies, deaths, duplicates and typos; the
answers are imported through the same service as the page's; the cross-checks run. The
planted list is scored against what the platform found, so the demo shows its findings
and says how many of the planted problems it caught.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import crosschecks
from jiuzhu.casework.models import Application, Enrolment, State
from jiuzhu.verification import fake, imports, selectors, services
from jiuzhu.verification.models import Department, Status, VerificationRequest

#: Applications whose households the centre checks: after acceptance, before the decision.
CHECKED_STATES = (State.INVESTIGATING, State.ASSESSED, State.FIRST_REVIEW, State.NOTICE, State.OBJECTION)


@dataclass
class VerificationRound:
    requests: int = 0
    without_consent: int = 0
    files: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    reviews_opened: int = 0
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)


def run_round(*, county: str, today: dt.date, seed: int, out: Path,
              log: Callable[[str], None] | None = None) -> VerificationRound:
    say = log or (lambda _message: None)
    centre = User.objects.filter(role=Role.COUNTY_SUPERVISOR, area__code=county).order_by("pk").first()
    if centre is None:
        raise ValueError(f"no county supervisor in {county}: the verification centre needs one")
    result = VerificationRound()
    departments = list(selectors.departments())
    applying = (Application.objects.filter(state__in=CHECKED_STATES, area_code__startswith=county)
                .select_related("household").order_by("pk"))
    for application in applying:
        try:
            with transaction.atomic():
                services.request_verification(
                    by=centre, household=application.household, departments=departments,
                    reason="低保申请家庭经济状况核对", reference=f"application:{application.pk}", on=today)
        except ValidationError:
            result.without_consent += 1
            continue
    again = crosschecks.reverify(by=centre, on=today, area_code=county)
    result.without_consent += len(again.without_consent)
    result.requests = VerificationRequest.objects.filter(status=Status.PENDING).count()
    for department in Department.objects.filter(active=True, requests__status=Status.PENDING).distinct():
        services.export_requests(by=centre, department=department, fmt=department.exchange_format, on=today)
    enrolled = set(Enrolment.objects.filter(active=True).values_list("household_id", flat=True))
    written = fake.write_fake_departments(out, seed=seed, today=today, area_code=county,
                                          enrolled_households=enrolled)
    say(f"verification: {result.requests} requests sent, {len(written.files)} department files written to {out}")
    codes = {d.code for d in departments}
    for path in written.files:
        code = next(c for c in sorted(codes, key=len, reverse=True) if path.name.startswith(f"{c}-"))
        imported = imports.import_answer_file(
            by=centre, department=Department.objects.get(code=code), path=path, file_name=path.name,
            kind="list" if "-list-" in path.name else "answer", today=today)
        (result.files if imported.accepted else result.rejected).append(path.name)
    checked = crosschecks.run_crosschecks(by=centre, on=today, area_code=county)
    result.findings = dict(sorted(checked.found.items()))
    result.reviews_opened = checked.reviews_opened
    planted = json.loads((out / "planted.json").read_text(encoding="utf-8"))
    result.scores = {name: s.as_dict() for name, s in fake.score(planted, today, county).items()}
    say(f"verification: findings {result.findings}, {result.reviews_opened} reviews opened")
    return result
