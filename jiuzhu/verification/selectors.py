"""Reads of the verification app, always inside the user's area."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Value
from django.db.models.functions import Coalesce

from jiuzhu.accounts.models import User
from jiuzhu.registry.models import Household, Person, Source
from jiuzhu.registry.services import FACT_MODELS
from jiuzhu.rules.parameters import ParameterContext, default_tree
from jiuzhu.verification import catalogue
from jiuzhu.verification.models import (
    Answer,
    AnswerFile,
    Consent,
    Department,
    Finding,
    FindingStatus,
    LinkStatus,
    Status,
    VerificationRequest,
)


def departments() -> QuerySet[Department]:
    return Department.objects.filter(active=True)


def requests_for(user: User) -> QuerySet[VerificationRequest]:
    return VerificationRequest.objects.filter(area_code__startswith=user.scope_code)


def overdue_requests(user: User, today: dt.date) -> QuerySet[VerificationRequest]:
    """Sent requests whose answer is past due, oldest due first; each carries
    `shown_status` = "overdue", the status a page shows for it."""
    return (requests_for(user).filter(status=Status.SENT, due_on__lt=today)
            .annotate(shown_status=Coalesce(Value(Status.OVERDUE.value), "status"))
            .select_related("department", "person", "household").order_by("due_on", "request_id"))


@dataclass(frozen=True)
class Discrepancy:
    """A declared figure the departments' records contradict (核对差异), by kind for the
    household: the size of the difference is what the officer weighs."""

    record: str
    kind: str
    declared: Decimal
    verified: Decimal
    sources: tuple[str, ...]
    overridden: Decimal | None = None

    @property
    def difference(self) -> Decimal:
        return self.verified - self.declared

    @property
    def relative(self) -> Decimal | None:
        if self.declared == 0:
            return None
        return (self.difference / self.declared).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class PersonFinding:
    """A department's record about a member that differs from the file (a death, a grade)."""

    person: Person
    field: str
    in_file: Any
    recorded: Any
    department: str


@dataclass
class HouseholdVerification:
    requests: list[VerificationRequest]
    answers: list[Answer]
    discrepancies: list[Discrepancy] = field(default_factory=list)
    person_findings: list[PersonFinding] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)


def _tolerance(household: Household, on: dt.date) -> tuple[Decimal, Decimal]:
    context = ParameterContext(default_tree(), household.area_id, on, household.area_type)
    return (Decimal(str(context.value("verification.discrepancy_absolute_yuan"))),
            Decimal(str(context.value("verification.discrepancy_relative"))))


def discrepancies(household: Household, on: dt.date) -> list[Discrepancy]:
    """Per record and kind the departments verified: declared total against verified total,
    listed when the difference is beyond both tolerances (parameters `verification.*`)."""
    absolute, relative = _tolerance(household, on)
    totals: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in FACT_MODELS:
        figure = "value" if record == "asset" else "amount"
        # `.all()` uses the household page's prefetched facts when they are there.
        for fact in getattr(household, f"{record}record_set").all():
            if fact.superseded:
                continue
            amount = getattr(fact, figure)
            if amount is None:
                continue
            totals[(record, fact.kind)][fact.source] += amount
            if fact.source == Source.VERIFIED:
                sources[(record, fact.kind)].add(fact.source_detail.split(" ")[0])
    found: list[Discrepancy] = []
    for (record, kind), by_source in sorted(totals.items()):
        if Source.VERIFIED not in by_source:
            continue
        declared, verified = by_source.get(Source.DECLARED, Decimal("0")), by_source[Source.VERIFIED]
        if abs(verified - declared) <= max(absolute, relative * declared):
            continue
        found.append(Discrepancy(record, kind, declared, verified, tuple(sorted(sources[(record, kind)])),
                                 by_source.get(Source.OVERRIDE)))
    return found


def person_findings(household: Household, answers: list[Answer]) -> list[PersonFinding]:
    """Deaths and disability grades the departments report that the file does not hold."""
    findings: list[PersonFinding] = []
    for answer in answers:
        if answer.person is None or not answer.found or answer.link_status not in _APPLIED:
            continue
        for item in answer.department.items:
            target = catalogue.fact_target(item.get("fact", ""))
            raw = answer.values.get(item["name"])
            if target is None or target.record != "person" or raw is None:
                continue
            in_file = getattr(answer.person, target.kind)
            recorded: Any = dt.date.fromisoformat(raw) if target.kind == "death_date" else int(Decimal(raw))
            if in_file != recorded:
                findings.append(PersonFinding(answer.person, target.kind, in_file, recorded, answer.department.name))
    return findings


_APPLIED = (LinkStatus.LINKED, LinkStatus.CONFIRMED)


def household_verification(household: Household, on: dt.date) -> HouseholdVerification:
    """What the verification section of a household's file and its printable report show."""
    requests = list(household.verification_requests.select_related("department", "person").order_by("request_id"))
    answers = list(household.verification_answers.select_related("department", "person", "file", "request")
                   .order_by("department__code", "file_id", "row"))
    consents = list(household.consents.select_related("person").order_by("pk"))
    return HouseholdVerification(requests, answers, discrepancies(household, on),
                                 person_findings(household, answers), consents)


def answer_files(user: User) -> QuerySet[AnswerFile]:
    return AnswerFile.objects.filter(area_code__startswith=user.scope_code).select_related("department", "imported_by")


def answers_to_confirm(user: User) -> QuerySet[Answer]:
    """Rows linkage was unsure of, with the candidate and the weights to show."""
    return (Answer.objects.filter(link_status=LinkStatus.TO_CONFIRM, file__area_code__startswith=user.scope_code)
            .select_related("department", "person", "household", "request", "file").order_by("file_id", "row"))


def department_summary(user: User, today: dt.date) -> list[dict[str, Any]]:
    """Per department: requests pending, sent, overdue and answered in the user's area."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department_id, status, due_on in requests_for(user).values_list("department_id", "status", "due_on"):
        shown = Status.OVERDUE if status == Status.SENT and due_on is not None and due_on < today else status
        counts[department_id][shown] += 1
    return [{"department": d, **{s: counts[d.pk][s] for s in Status.values}} for d in departments()]


def findings_for(user: User) -> QuerySet[Finding]:
    return Finding.objects.filter(area_code__startswith=user.scope_code)


def open_finding_counts(user: User, kinds: tuple[str, ...] | None = None) -> dict[str, int]:
    """Open findings of the user's area per check (all checks, or only `kinds`)."""
    rows = findings_for(user).filter(status=FindingStatus.OPEN)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return dict(rows.values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
