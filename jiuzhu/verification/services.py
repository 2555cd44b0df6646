"""Writes of the verification app: the department catalogue, requests (only with consent)
and the outgoing request files (DOMAIN.md §7–8).

Every request says who asked what about whom and why, in the row and in the audit log;
no request is made about a person whose consent to verification for that household is
not on file (and not withdrawn).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.calendar import add_working_days
from jiuzhu.registry.models import Household, Person
from jiuzhu.verification import catalogue
from jiuzhu.verification.models import (
    Consent,
    Department,
    Finding,
    FindingStatus,
    RequestBatch,
    Status,
    VerificationRequest,
)

#: Columns of every request file, in this order (docs/verification_exchange.md).
COLUMNS = ("request_id", "id_number", "name", "birth_date", "sex", "area_code", "items")
ADULT_AGE = 18


def export_formats() -> tuple[str, ...]:
    """Formats this installation can write: Excel needs the xlsxwriter package."""
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        return ("csv", "json")
    return ("csv", "xlsx", "json")


@dataclass(frozen=True)
class SyncResult:
    created: list[str]
    updated: list[str]


def _fields(spec: catalogue.DepartmentSpec) -> dict[str, Any]:
    return {"name_zh": spec.name_zh, "name_en": spec.name_en, "legal_basis": spec.legal_basis,
            "exchange_format": spec.exchange_format, "answer_working_days": spec.answer_working_days,
            "asks_about": spec.asks_about, "items": [item.as_dict() for item in spec.items]}


@transaction.atomic
def sync_departments(root: str | None = None) -> SyncResult:
    """Bring the `Department` table in line with the YAML files: create what is new, update
    what changed, leave alone departments added in the admin. Running it twice changes
    nothing the second time (and audits nothing)."""
    specs = catalogue.load_departments(root)
    created: list[str] = []
    updated: list[str] = []
    for spec in specs.values():
        wanted = _fields(spec)
        department = Department.objects.filter(code=spec.id).first()
        if department is None:
            department = Department.objects.create(code=spec.id, **wanted)
            created.append(spec.id)
            audit.record(actor=None, action="verification.department_create", obj=department,
                         after=audit.snapshot(department))
            continue
        before = audit.snapshot(department)
        if all(getattr(department, name) == value for name, value in wanted.items()):
            continue
        for name, value in wanted.items():
            setattr(department, name, value)
        department.full_clean()
        department.save()
        updated.append(spec.id)
        audit.record(actor=None, action="verification.department_update", obj=department, before=before,
                     after=audit.snapshot(department))
    return SyncResult(created, updated)


def consent_record(*, by: User, household: Household, person: Person, signature: str = "", scan: Any = None,
                   on: dt.date | None = None) -> Consent:
    """授权核对: record one person's consent for this household (a scan or a recorded signature).
    Called inside the caller's transaction (the intake); audited with the household's area."""
    ensure_can(by, Action.INTAKE, household.area_id)
    if not (signature.strip() or scan):
        raise ValidationError({"consents": [_("%(name)s: a consent needs a scan or a recorded signature")
                                            % {"name": person.name}]})
    consent = Consent.objects.create(person=person, household=household, signature=signature.strip(),
                                     scan=scan or "", given_on=on or timezone.localdate())
    audit.record(actor=by, action="consent.create", obj=consent, area=household.area_id,
                 after={"person": person.pk, "household": household.pk, "given_on": consent.given_on,
                        "scan": bool(consent.scan), "signature": bool(consent.signature)})
    return consent


def _counted_members(household: Household) -> list[Person]:
    members = household.memberships.filter(end__isnull=True, counted=True).select_related("person")
    return [m.person for m in members]


def _persons_asked(members: list[Person], department: Department, on: dt.date) -> list[Person]:
    persons = members
    if department.asks_about == "adults":
        persons = [p for p in persons if p.age_on(on) >= ADULT_AGE]
    return persons


def _missing_consents(household: Household, members: list[Person], persons: Iterable[Person], on: dt.date
                      ) -> list[Person]:
    """Whose consent is missing before these persons may be asked about. An adult consents
    for themself; a child is covered by the consent of every counted adult member (§7)."""
    consented = set(Consent.objects.filter(household=household, withdrawn_on__isnull=True)
                    .values_list("person_id", flat=True))
    asked = list(persons)
    needed = {p.pk: p for p in asked if p.age_on(on) >= ADULT_AGE}
    if any(p.age_on(on) < ADULT_AGE for p in asked):
        needed.update({p.pk: p for p in members if p.age_on(on) >= ADULT_AGE})
    return sorted((p for pk, p in needed.items() if pk not in consented), key=lambda p: p.pk)


def _next_request_id(department: Department, on: dt.date, used: dict[str, int]) -> str:
    """`VR-<department>-<yyyymmdd>-<sequence>`: the day's highest sequence is read once per
    call of `request_verification` and counted on from there."""
    prefix = f"VR-{department.code}-{on:%Y%m%d}-"
    if prefix not in used:
        last = (VerificationRequest.objects.filter(request_id__startswith=prefix).order_by("-request_id")
                .values_list("request_id", flat=True).first())
        used[prefix] = int(last.rsplit("-", 1)[1]) if last else 0
    used[prefix] += 1
    return f"{prefix}{used[prefix]:05d}"


@transaction.atomic
def request_verification(*, by: User, household: Household, departments: Iterable[Department], reason: str,
                         reference: str = "", on: dt.date | None = None) -> list[VerificationRequest]:
    """发起核对: one request per person asked about per department, pending until exported.

    `reference` names the case that asks ("application:12", "reverification:3").
    Refused whole, naming each person, when any consent is missing; a person already asked
    by an open request of the same department is not asked twice."""
    on = on or timezone.localdate()
    ensure_can(by, Action.ASSESS, household.area_id)
    chosen = list(departments)
    problems: dict[str, list[str]] = {}
    if not reason.strip():
        problems["reason"] = [_("say why the household is checked")]
    if not chosen:
        problems["departments"] = [_("choose at least one department")]
    inactive = [d.name for d in chosen if not d.active]
    if inactive:
        problems.setdefault("departments", []).append(
            _("no longer asked: %(names)s") % {"names": "、".join(inactive)})
    members = _counted_members(household)
    asked = {d.pk: _persons_asked(members, d, on) for d in chosen}
    everyone = {p.pk: p for persons in asked.values() for p in persons}
    missing = _missing_consents(household, members, everyone.values(), on)
    if missing:
        problems["consents"] = [_("%(name)s has given no consent to verification") % {"name": p.name}
                                for p in missing]
    if problems:
        raise ValidationError(problems)
    open_ = set(VerificationRequest.objects.filter(household=household, status__in=[Status.PENDING, Status.SENT])
                .values_list("department_id", "person_id"))
    used: dict[str, int] = {}
    created: list[VerificationRequest] = []
    for department in chosen:
        for person in asked[department.pk]:
            if (department.pk, person.pk) in open_:
                continue
            request = VerificationRequest.objects.create(
                request_id=_next_request_id(department, on, used), department=department, person=person,
                household=household, reference=reference, area_code=household.area_id, requested_by=by,
                reason=reason.strip())
            audit.record(actor=by, action="verification.request", obj=request, area=household.area_id,
                         after={"request_id": request.request_id, "department": department.code,
                                "person": person.pk, "reference": reference,
                                "items": department.item_names},
                         reason=request.reason)
            created.append(request)
    return created


def _rows(requests: list[VerificationRequest], department: Department) -> list[dict[str, Any]]:
    items = department.item_names
    return [{"request_id": r.request_id, "id_number": r.person.id_number, "name": r.person.name,
             "birth_date": r.person.birth_date.isoformat(), "sex": r.person.sex, "area_code": r.area_code,
             "items": items} for r in requests]


def _encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")
    frame = pl.DataFrame(rows, schema={name: (pl.List(pl.String) if name == "items" else pl.String)
                                       for name in COLUMNS})
    if fmt == "csv":
        # CSV has no lists: the item names are joined with ";" (no item name holds one).
        frame = frame.with_columns(pl.col("items").list.join(";"))
        return frame.write_csv().encode("utf-8")
    frame = frame.with_columns(pl.col("items").list.join(";"))
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet="requests")
    return buffer.getvalue()


@transaction.atomic
def export_requests(*, by: User, department: Department, fmt: str, on: dt.date | None = None
                    ) -> tuple[RequestBatch, bytes]:
    """The request file for one department: every pending request in the user's area, marked
    sent, with the answer due `answer_working_days` working days after today."""
    on = on or timezone.localdate()
    ensure_can(by, Action.ASSESS, by.scope_code)
    if fmt not in export_formats():
        raise ValidationError({"fmt": [_("“%(fmt)s” files cannot be written here; choose one of %(formats)s")
                                       % {"fmt": fmt, "formats": ", ".join(export_formats())}]})
    requests = list(VerificationRequest.objects.select_for_update()
                    .filter(department=department, status=Status.PENDING, area_code__startswith=by.scope_code)
                    .select_related("person").order_by("request_id"))
    if not requests:
        raise ValidationError(_("There are no pending requests to %(department)s in your area.")
                              % {"department": department.name})
    content = _encode(_rows(requests, department), fmt)
    due = add_working_days(on, department.answer_working_days).date
    batch = RequestBatch.objects.create(department=department, area_code=by.scope_code, created_by=by,
                                        file_name="", format=fmt, row_count=len(requests))
    batch.file_name = f"{department.code}-{on:%Y%m%d}-{batch.pk}.{fmt}"
    batch.save(update_fields=["file_name"])
    sent_at = timezone.now()
    VerificationRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        status=Status.SENT, sent_at=sent_at, due_on=due, batch=batch)
    audit.record(actor=by, action="verification.export", obj=batch, area=by.scope_code,
                 after={"department": department.code, "file_name": batch.file_name, "format": fmt,
                        "due_on": due, "requests": [r.request_id for r in requests]})
    return batch, content


def _detail(text: str) -> dict[str, str]:
    """`key=value;key=value` from `findings.py` as a mapping (kept as JSON, shown as a table)."""
    return dict(part.split("=", 1) for part in text.split(";") if "=" in part)


@transaction.atomic
def findings_record(*, by: User, frame: pl.DataFrame, area_codes: dict[int, str], on: dt.date) -> list[Finding]:
    """Store what a cross-check run found (`findings.FINDINGS` rows); a finding still open from
    an earlier run is not added again. Returns the new ones. `area_codes` gives each
    household's area (findings are scoped like households)."""
    new: list[Finding] = []
    if frame.is_empty():
        return new
    keys = [f"{r['check']}:{r['household_id']}:{r['person_id']}:{r['detail']}"[:200]
            for r in frame.iter_rows(named=True)]
    known = set(Finding.objects.filter(key__in=keys).exclude(status=FindingStatus.DISMISSED)
                .values_list("key", flat=True))
    for key, row in zip(keys, frame.iter_rows(named=True), strict=True):
        if key in known:
            continue
        known.add(key)
        amount = row["amount"]
        finding = Finding.objects.create(
            kind=row["check"], key=key, household_id=row["household_id"], person_id=row["person_id"],
            area_code=area_codes.get(row["household_id"], by.scope_code) if row["household_id"] else by.scope_code,
            detail=_detail(row["detail"] or ""), found_on=on,
            amount=None if amount is None else Decimal(str(amount)).quantize(Decimal("0.01")))
        audit.record(actor=by, action="verification.finding", obj=finding, area=finding.area_code,
                     after={"kind": finding.kind, "household": finding.household_id, "person": finding.person_id,
                            "detail": finding.detail, "amount": finding.amount})
        new.append(finding)
    return new


@transaction.atomic
def finding_handle(*, by: User, finding: Finding, status: str, reason: str) -> Finding:
    """An officer dismisses a finding (with why) or marks that it opened a review."""
    ensure_can(by, Action.REVIEW, finding.area_code)
    if status not in (FindingStatus.DISMISSED, FindingStatus.REVIEW):
        raise ValidationError({"status": [_("choose dismiss or review")]})
    if status == FindingStatus.DISMISSED and not reason.strip():
        raise ValidationError({"reason": [_("say why the finding is dismissed")]})
    before = {"status": finding.status}
    finding.status, finding.handled_by, finding.handled_reason = status, by, reason.strip()
    finding.save(update_fields=["status", "handled_by", "handled_reason"])
    audit.record(actor=by, action="verification.finding_handle", obj=finding, area=finding.area_code, before=before,
                 after={"status": status}, reason=finding.handled_reason)
    return finding


@transaction.atomic
def department_save(*, by: User, code: str, raw: dict[str, Any], department: Department | None = None,
                    online: dict[str, str] | None = None) -> Department:
    """A county admin adds a department (or changes one) without code: the fields are checked
    by the same parser as the YAML catalogue, every problem reported at once, and audited.

    `raw` holds the catalogue keys (`name` {zh-hans, en}, `legal_basis`, `exchange_format`,
    `answer_working_days`, `asks_about`, `items`)."""
    ensure_can(by, Action.ADMIN_DEPARTMENTS, by.scope_code)
    problems: list[catalogue.Problem] = []
    spec = catalogue.parse_department({"id": code, **raw}, code, problems)
    if department is None and Department.objects.filter(code=code).exists():
        problems.append(catalogue.Problem(code, "id", gettext_noop("a department with this code exists already")))
    online = {k: (v or "").strip() for k, v in (online or {}).items()}
    online_problems: dict[str, list[str]] = {}
    if any(online.values()) and not all(online.get(k) for k in ("dci_url", "dci_server_id", "dci_public_key")):
        online_problems["dci_url"] = [_("an online department needs its DCI address, sender id and public key")]
    if online.get("dci_public_key"):
        from jiuzhu.dci import envelope

        try:
            envelope.load_public_key(online["dci_public_key"])
        except ValueError as exc:
            online_problems["dci_public_key"] = [_("not an Ed25519 public key: %(error)s") % {"error": exc}]
    if problems or spec is None or online_problems:
        by_field: dict[str, list[str]] = dict(online_problems)
        for p in problems:
            by_field.setdefault(p.key.split(".")[0].split("[")[0], []).append(f"{p.key}: {p.text(get_language())}")
        raise ValidationError(by_field)
    before = audit.snapshot(department) if department is not None else None
    if department is None:
        department = Department(code=code)
    for name, value in {**_fields(spec), **online}.items():
        setattr(department, name, value)
    department.full_clean()
    department.save()
    audit.record(actor=by, action="verification.department_update" if before else "verification.department_create",
                 obj=department, area=by.scope_code, before=before, after=audit.snapshot(department))
    return department
