"""Importing a department's answer file: strictly, idempotently, and all or nothing (§8).

- The same file twice adds nothing: accepted files are known by their SHA-256.
- Any bad row rejects the whole file; the rejection is kept with every problem (row,
  column, reason) so the report can be shown and downloaded, and nothing else is written.
- Each row is linked to the person it is about: by the request (same ID number as the
  person asked about), else by probabilistic linkage on name, pinyin, birth date, sex and
  area (`linkage.link`); below the threshold a person must confirm it.
- Rows linked (or later confirmed) become verified facts in the household file, beside
  the declared ones; the request is marked answered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.registry import services as registry
from jiuzhu.registry.models import Membership, Person, Source
from jiuzhu.verification import answers, catalogue, linkage
from jiuzhu.verification.answers import AnswerFileError, Problem
from jiuzhu.verification.models import (
    Answer,
    AnswerFile,
    Department,
    FileStatus,
    LinkStatus,
    Status,
    VerificationRequest,
)

_CHUNK = 1 << 20


@dataclass
class ImportResult:
    file: AnswerFile
    duplicate: bool = False
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.file.status == FileStatus.ACCEPTED


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def import_answer_file(*, by: User, department: Department, path: Path, file_name: str, fmt: str | None = None,
                       kind: str = "answer", today: dt.date | None = None) -> ImportResult:
    """Check and import one file; see the module docstring for what "strict" means."""
    ensure_can(by, Action.ASSESS, by.scope_code)
    today = today or timezone.localdate()
    fmt = (fmt or Path(file_name).suffix.lstrip(".")).lower()
    sha = _sha256(path)
    earlier = AnswerFile.objects.filter(department=department, sha256=sha, status=FileStatus.ACCEPTED).first()
    if earlier is not None:
        return ImportResult(earlier, duplicate=True)
    try:
        frame, first_row = answers.read_table(path, fmt)
        typed, problems = answers.check(frame, first_row, kind, department.items, today)
        requests = _requests_quoted(typed, department, by, problems) if kind == "answer" else {}
    except AnswerFileError as exc:
        typed, problems, requests = pl.DataFrame(), exc.problems, {}
    if problems:
        return ImportResult(_reject(by, department, file_name, sha, typed.height, problems), problems=problems)
    with transaction.atomic():
        return accept_rows(by, department, file_name, sha, typed, kind, requests)


def _reject(by: User, department: Department, file_name: str, sha: str, rows: int, problems: list[Problem]
            ) -> AnswerFile:
    with transaction.atomic():
        rejected = AnswerFile.objects.create(
            department=department, file_name=file_name[:200], sha256=sha, status=FileStatus.REJECTED,
            area_code=by.scope_code, imported_by=by, row_count=rows, problems=[p.as_dict() for p in problems])
        audit.record(actor=by, action="verification.answers_rejected", obj=rejected, area=by.scope_code,
                     after={"department": department.code, "file_name": rejected.file_name, "sha256": sha,
                            "problems": len(problems)})
    return rejected


def _requests_quoted(typed: pl.DataFrame, department: Department, by: User, problems: list[Problem]
                     ) -> dict[str, VerificationRequest]:
    """The requests the rows answer; a row quoting an unknown, unsent, foreign or answered
    request is a bad row. Requests outside the user's area are "unknown" (nothing leaks)."""
    quoted = typed.filter(pl.col("request_id").is_not_null())
    found = {r.request_id: r for r in VerificationRequest.objects.filter(
        request_id__in=quoted["request_id"].unique().to_list(), department=department,
        area_code__startswith=by.scope_code).select_related("person", "household", "batch")}
    answered_by = dict(Answer.objects.filter(request__request_id__in=list(found)).values_list(
        "request__request_id", "file__file_name"))
    for row, request_id in quoted.select("row", "request_id").iter_rows():
        request = found.get(request_id)
        if request is None:
            problems.append(Problem(row, "request_id", _("no request with this id was sent to %(department)s")
                                    % {"department": department.name}))
        elif request.status == Status.PENDING:
            problems.append(Problem(row, "request_id", _("this request was never sent")))
        elif request.status == Status.ANSWERED:
            problems.append(Problem(row, "request_id", _("this request was answered already (file %(file)s)")
                                    % {"file": answered_by.get(request_id, "?")}))
    order = {c: i for i, c in enumerate([*answers.ANSWER_COLUMNS, *department.item_names])}
    problems.sort(key=lambda p: (p.row, order.get(p.column, len(order))))
    return found


def accept_rows(by: User, department: Department, file_name: str, sha: str, typed: pl.DataFrame, kind: str,
                requests: dict[str, VerificationRequest]) -> ImportResult:
    """Store checked rows (the typed frame of `answers.check`), link them, apply the linked
    ones; the caller holds the transaction. Files and online answers both end here."""
    stored = AnswerFile.objects.create(department=department, file_name=file_name[:200], sha256=sha,
                                       status=FileStatus.ACCEPTED, area_code=by.scope_code, imported_by=by,
                                       row_count=typed.height)
    links = _link(typed, kind, requests, by)
    households = _households(link["person_id"] for link in links.values())
    rows: list[Answer] = []
    for record in typed.iter_rows(named=True):
        link = links[record["row"]]
        request = requests.get(record.get("request_id") or "")
        person_id = link["person_id"]
        rows.append(Answer(
            file=stored, row=record["row"], department=department, request=request,
            record_key=record.get("request_id") or record.get("record_id") or "",
            id_number=record["id_number"] or "", name=record["name"] or "", birth_date=record["birth_date"],
            sex=record["sex"] or "", found=record["found"], as_of=record["as_of"],
            values=answers.item_values(record, department.items), person_id=person_id,
            household_id=(request.household_id if request is not None else households.get(person_id)),
            link_method=link["method"], match_weight=link["match_weight"],
            match_probability=link["match_probability"], link_status=link["status"],
            link_reasons=(link["reasons"] or "")[:200]))
    Answer.objects.bulk_create(rows)
    answered = [r.pk for r in requests.values()]
    VerificationRequest.objects.filter(pk__in=answered).update(status=Status.ANSWERED)
    # Only answers to a consented request go into the household file; a department's own list
    # feeds the cross-checks and discovery, and the officer asks again where it matters.
    applied = apply_answers(by, list(Answer.objects.filter(file=stored, link_status=LinkStatus.LINKED)
                                     .select_related("person", "household", "request"))) if kind == "answer" else 0
    counts = {status: sum(1 for r in rows if r.link_status == status) for status in LinkStatus.values}
    counts["facts"] = applied
    audit.record(actor=by, action="verification.answers_import", obj=stored, area=by.scope_code,
                 after={"department": department.code, "file_name": stored.file_name, "sha256": sha,
                        "rows": typed.height, "requests": sorted(requests), **counts})
    return ImportResult(stored, counts=counts)


def _person_frame(persons: list[Person], areas: dict[int, str]) -> pl.DataFrame:
    return pl.DataFrame({
        "person_id": [p.pk for p in persons], "id_number": [p.id_number for p in persons],
        "name": [p.name for p in persons], "birth_date": [p.birth_date for p in persons],
        "sex": [p.sex for p in persons], "area_code": [areas.get(p.pk, "") for p in persons],
    }, schema=linkage.PERSONS)


def _link(typed: pl.DataFrame, kind: str, requests: dict[str, VerificationRequest], by: User
          ) -> dict[int, dict[str, Any]]:
    """Who each row is about. An answer whose ID number is the requested person's is theirs;
    any other row goes to probabilistic linkage — against the persons asked about in this
    file (answers) or everyone registered in the user's area (lists)."""
    out: dict[int, dict[str, Any]] = {}
    rest: list[dict[str, Any]] = []
    for record in typed.iter_rows(named=True):
        request = requests.get(record.get("request_id") or "")
        if request is not None and record["id_number"] == request.person.id_number:
            out[record["row"]] = {"person_id": request.person_id, "method": "request", "match_weight": None,
                                  "match_probability": 1.0, "status": LinkStatus.LINKED, "reasons": ""}
        else:
            rest.append(record)
    if not rest:
        return out
    if kind == "answer":
        asked = {r.person_id: r for r in requests.values()}
        persons = [r.person for r in asked.values()]
        areas = {r.person_id: r.area_code for r in asked.values()}
    else:
        memberships = (Membership.objects.filter(end__isnull=True, household__area__code__startswith=by.scope_code)
                       .select_related("person", "household"))
        persons = [m.person for m in memberships]
        areas = {m.person_id: m.household.area_id for m in memberships}
    records = pl.DataFrame({
        "record_key": [r["row"] for r in rest], "id_number": [r["id_number"] for r in rest],
        "name": [r["name"] for r in rest], "birth_date": [r["birth_date"] for r in rest],
        "sex": [r["sex"] for r in rest], "area_code": [r.get("area_code") for r in rest],
    }, schema=linkage.RECORDS)
    linked = linkage.link(_person_frame(persons, areas), records)
    by_row = {r["row"]: r for r in rest}
    for result in linked.iter_rows(named=True):
        record = by_row[result["record_key"]]
        request = requests.get(record.get("request_id") or "")
        status = result["status"]
        if request is not None and status == LinkStatus.LINKED and result["person_id"] != request.person_id:
            status = LinkStatus.TO_CONFIRM  # a good match, but not to the person asked about
        out[record["row"]] = {**result, "status": status}
    return out


def _households(person_ids: Iterable[int | None]) -> dict[int, int]:
    """Each person's current household."""
    people = {p for p in person_ids if p is not None}
    return dict(Membership.objects.filter(person_id__in=people, end__isnull=True)
                .values_list("person_id", "household_id"))


def apply_answers(by: User, rows: list[Answer]) -> int:
    """Verified facts from linked rows: per person, kind and request (or list file), the sum of
    the department's figures (monthly ×12), recorded with source "verified" and superseding
    the earlier verified figure of that kind. A "not found" answer verifies a zero."""
    totals: dict[tuple[int, int, str, str, str], Decimal] = defaultdict(Decimal)
    detail: dict[tuple[int, int, str, str, str], str] = {}
    for row in rows:
        if row.person_id is None or row.household_id is None:
            continue
        for item in row.department.items:
            target = catalogue.fact_target(item.get("fact", ""))
            if target is None or target.record == "person":
                continue
            raw = row.values.get(item["name"]) if row.found else None
            if row.found and raw is None:
                continue
            amount = Decimal(raw) if raw is not None else Decimal("0")
            key = (row.household_id, row.person_id, target.record, target.kind, row.department.code)
            totals[key] += amount * 12 if target.monthly else amount
            detail[key] = f"{row.department.code} {row.request.request_id if row.request else row.file.file_name}"
    households = {r.household_id: r.household for r in rows if r.household is not None}
    persons = {r.person_id: r.person for r in rows if r.person is not None}
    for (household_id, person_id, record, kind, _code), amount in totals.items():
        household, person = households[household_id], persons[person_id]
        field_name = "value" if record == "asset" else "amount"
        # A figure verified earlier for the household as a whole is replaced by the members' answers.
        registry.FACT_MODELS[record].objects.filter(household=household, person__isnull=True, kind=kind,
                                                    source=Source.VERIFIED, superseded=False).update(superseded=True)
        registry.fact_add(by=by, household=household, category=record, kind=kind, person=person,
                          source=Source.VERIFIED, source_detail=detail[(household_id, person_id, record, kind,
                                                                        _code)][:100],
                          supersede=True, **{field_name: amount.quantize(Decimal("0.01"))})
    Answer.objects.filter(pk__in=[r.pk for r in rows if r.person_id is not None and r.household_id is not None]
                          ).update(applied=True)
    return len(totals)


@transaction.atomic
def confirm_link(*, by: User, answer: Answer, person: Person | None, reason: str) -> Answer:
    """An officer's word on a row linkage was unsure of: this person (then its facts go into
    the household file) or nobody. Audited with the match weight that was shown."""
    ensure_can(by, Action.ASSESS, answer.household.area_id if answer.household is not None else answer.file.area_code)
    if answer.link_status != LinkStatus.TO_CONFIRM:
        raise ValidationError(_("This row is not waiting for confirmation."))
    before = {"person": answer.person_id, "link_status": answer.link_status}
    if person is None:
        answer.link_status = LinkStatus.REJECTED
        answer.save(update_fields=["link_status"])
    else:
        answer.person = person
        if answer.household_id is None:
            answer.household_id = _households([person.pk]).get(person.pk)
        answer.link_status = LinkStatus.CONFIRMED
        answer.save(update_fields=["person", "household", "link_status"])
        apply_answers(by, [answer])
    audit.record(actor=by, action="verification.link_confirm", obj=answer, area=by.scope_code, before=before,
                 after={"person": answer.person_id, "link_status": answer.link_status,
                        "match_weight": answer.match_weight, "match_probability": answer.match_probability},
                 reason=reason)
    return answer
