"""Cross-checks and discovery over an area (比对与主动发现, DOMAIN.md §1, §8–9).

Run nightly per township or county (`jiuzhu verification crosscheck`): the enrolled
households, their members and everything the departments answered are put into frames
and handed to the pure checks of `verification.findings`; what they find is stored as
findings (once), and a finding about an enrolled household opens a review task: a
change report and the household's next review brought forward to today.

This lives in casework because it reads enrolments and the relatives register, which sit
above the verification app; the checks themselves know nothing of Django.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import dynamic, means_test
from jiuzhu.casework.models import FINAL_STATES, Enrolment, RelativeDeclaration, State
from jiuzhu.casework.services import add_months
from jiuzhu.registry.models import AssetRecord, Household, Membership, Source
from jiuzhu.rules.parameters import ParameterContext, default_tree
from jiuzhu.verification import catalogue, findings
from jiuzhu.verification import selectors as verification_selectors
from jiuzhu.verification import services as verification
from jiuzhu.verification.models import Answer, Check, Finding, FindingStatus, LinkStatus
from jiuzhu.verification.models import Status as RequestStatus

#: Findings about an enrolled household that call for its review; illness warnings and
#: discovery are for the village worker instead.
REVIEW_CHECKS = frozenset({Check.DUPLICATE_HOUSEHOLD, Check.DUPLICATE_AREA, Check.EXCLUSIVE_PROGRAMMES,
                           Check.PAID_AFTER_DEATH, Check.RELATIVE_UNFLAGGED, Check.FINANCIAL_ASSETS, Check.VEHICLE,
                           Check.HOMES, Check.COMPANY, Check.DEATH_RECORDED, Check.DISCREPANCY})
_CHANGE_KIND = {Check.PAID_AFTER_DEATH: "death", Check.DEATH_RECORDED: "death", Check.FINANCIAL_ASSETS: "assets",
                Check.VEHICLE: "assets", Check.HOMES: "assets", Check.COMPANY: "assets", Check.DISCREPANCY: "income"}
_APPLIED = (LinkStatus.LINKED, LinkStatus.CONFIRMED)
OPEN_STATES = [s for s in State.values if s not in FINAL_STATES]
OPEN_REQUESTS = (RequestStatus.PENDING, RequestStatus.SENT)


@dataclass
class CrosscheckResult:
    found: dict[str, int] = field(default_factory=dict)
    new: list[Finding] = field(default_factory=list)
    reviews_opened: int = 0


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _enrolled(area: str, on: dt.date) -> tuple[pl.DataFrame, dict[int, str]]:
    """One row per member of each active enrolment, paid until the end of this month."""
    paid_until = (on.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    rows: list[dict[str, Any]] = []
    areas: dict[int, str] = {}
    enrolments = (Enrolment.objects.filter(active=True, household__area__code__startswith=area)
                  .select_related("household").prefetch_related("household__memberships"))
    for enrolment in enrolments:
        household = enrolment.household
        areas[household.pk] = household.area_id
        for member in household.memberships.all():
            if member.end is not None or not member.counted:
                continue
            rows.append({"person_id": member.person_id, "household_id": household.pk, "area_code": household.area_id,
                         "programme": enrolment.programme, "paid_until": enrolment.end_month or paid_until,
                         "monthly_amount": float(enrolment.monthly_amount)})
    schema = {"person_id": pl.Int64, "household_id": pl.Int64, "area_code": pl.String, "programme": pl.String,
              "paid_until": pl.Date, "monthly_amount": pl.Float64}
    return _frame(rows, schema), areas


def _answers(area: str) -> list[Answer]:
    return list(Answer.objects.filter(link_status__in=_APPLIED, person__isnull=False, found=True,
                                      household__area__code__startswith=area)
                .select_related("department", "person"))


def _item(answer: Answer, name: str) -> Any:
    return answer.values.get(name)


def _rolls_elsewhere(answers: list[Answer]) -> pl.DataFrame:
    """Other counties' rolls (civil affairs): a person of ours assisted there too."""
    rows = [{"person_id": a.person_id, "household_id": a.household_id, "area_code": _item(a, "enrolled_area_code"),
             "programme": _item(a, "programme")}
            for a in answers if a.department.code == "civil_affairs" and _item(a, "enrolled_area_code")
            and _item(a, "programme")]
    return _frame(rows, {"person_id": pl.Int64, "household_id": pl.Int64, "area_code": pl.String,
                         "programme": pl.String})


def _deaths(answers: list[Answer]) -> pl.DataFrame:
    rows = [{"person_id": a.person_id, "death_date": dt.date.fromisoformat(_item(a, "death_date"))}
            for a in answers if _item(a, "death_date")]
    return _frame(rows, {"person_id": pl.Int64, "death_date": pl.Date})


def _discrepancies(area: str, enrolled_households: set[int], on: dt.date) -> pl.DataFrame:
    """For enrolled households the departments answered about: what they verified against
    what the household declared (the same comparison the household page shows)."""
    rows: list[dict[str, Any]] = []
    for household in Household.objects.filter(pk__in=enrolled_households, verification_answers__isnull=False,
                                              area__code__startswith=area).distinct():
        for d in verification_selectors.discrepancies(household, on):
            if d.overridden is not None:
                continue
            rows.append({"check": Check.DISCREPANCY.value, "household_id": household.pk, "person_id": None,
                         "detail": f"record={d.record};kind={d.kind};declared={d.declared};verified={d.verified}",
                         "amount": float(d.difference)})
    return _frame(rows, findings.FINDINGS)


def _death_recorded(answers: list[Answer]) -> pl.DataFrame:
    """A death public security records that the household file does not."""
    rows = [{"check": Check.DEATH_RECORDED.value, "household_id": a.household_id, "person_id": a.person_id,
             "detail": f"death_date={_item(a, 'death_date')};department={a.department.code}", "amount": None}
            for a in answers if _item(a, "death_date") and a.person is not None and a.person.death_date is None]
    return _frame(rows, findings.FINDINGS)


def _relatives_unflagged(area: str) -> pl.DataFrame:
    """A staff member's declared relative in an enrolled household whose case was not flagged."""
    declared = {r.relative_id_number: r for r in RelativeDeclaration.objects.all()}
    rows: list[dict[str, Any]] = []
    for enrolment in (Enrolment.objects.filter(active=True, household__area__code__startswith=area,
                                               application__relative_flag=False)
                      .select_related("household").prefetch_related("household__memberships__person")):
        for member in enrolment.household.memberships.all():
            relative = declared.get(member.person.id_number)
            if member.end is None and relative is not None:
                rows.append({"check": Check.RELATIVE_UNFLAGGED.value, "household_id": enrolment.household_id,
                             "person_id": member.person_id,
                             "detail": f"declarant={relative.declarant_name};post={relative.declarant_post};"
                                       f"programme={enrolment.programme}", "amount": None})
    return _frame(rows, findings.FINDINGS)


def _context(household: Household, on: dt.date) -> ParameterContext:
    return ParameterContext(default_tree(), household.area_id, on, household.area_type)


def _assets(area: str, answers: list[Answer], on: dt.date) -> pl.DataFrame:
    """Verified assets of every household checked, against the local limits (`assets.*`):
    an applicant's file shows them before the decision, an enrolled one opens a review."""
    facts = list(AssetRecord.objects.filter(household__area__code__startswith=area, source=Source.VERIFIED,
                                            superseded=False))
    rows: list[dict[str, Any]] = [{"household_id": f.household_id, "person_id": f.person_id, "kind": f.kind,
                                   "amount": float(f.value), "count": 1} for f in facts]
    for answer in answers:
        if answer.department.code == "housing":
            rows.append({"household_id": answer.household_id, "person_id": answer.person_id, "kind": "home",
                         "amount": 0.0, "count": 1})
        elif answer.department.code == "business_registration":
            rows.append({"household_id": answer.household_id, "person_id": answer.person_id, "kind": "company",
                         "amount": float(Decimal(_item(answer, "registered_capital") or "0")), "count": 1})
    ids = sorted({r["household_id"] for r in rows})
    if not ids:
        return _frame([], findings.FINDINGS)
    households = list(Household.objects.filter(pk__in=ids))
    counted = dict(Membership.objects.filter(household_id__in=ids, end__isnull=True, counted=True)
                   .values("household_id").annotate(n=Count("pk")).values_list("household_id", "n"))
    frame = [{"household_id": h.pk, "counted_members": max(1, counted.get(h.pk, 0)),
              "annual_standard": _context(h, on).number("dibao.standard")} for h in households]
    context = _context(households[0], on)
    limits = findings.AssetLimits(
        financial_years_of_standard=context.number("assets.financial_per_capita_limit_years"),
        vehicle_value_cap=context.number("assets.vehicle_value_cap"), homes=int(context.number("assets.max_homes")),
        company_roles=True)
    return findings.assets_over_limits(
        _frame(rows, {"household_id": pl.Int64, "person_id": pl.Int64, "kind": pl.String, "amount": pl.Float64,
                      "count": pl.Int64}),
        _frame(frame, {"household_id": pl.Int64, "counted_members": pl.Int64, "annual_standard": pl.Float64}), limits)


def _illness(answers: list[Answer], household: Household | None, on: dt.date) -> pl.DataFrame:
    rows = [{"person_id": a.person_id, "household_id": a.household_id,
             "claim_date": dt.date.fromisoformat(_item(a, "claim_date")),
             "out_of_pocket": float(Decimal(_item(a, "out_of_pocket") or "0"))}
            for a in answers if a.department.code == "medical_insurance" and _item(a, "claim_date")]
    if household is None or not rows:
        return _frame([], findings.FINDINGS)
    context = _context(household, on)
    return findings.illness_warnings(
        _frame(rows, {"person_id": pl.Int64, "household_id": pl.Int64, "claim_date": pl.Date,
                      "out_of_pocket": pl.Float64}),
        context.number("verification.illness_warning_yuan"), int(context.number("verification.illness_warning_months")),
        on)


def _discovery(answers: list[Answer], enrolled: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """Persons a department lists as in need, not enrolled, whose household the engine finds
    probably eligible for dibao on its file as it stands."""
    rules = catalogue.load_crosscheck_rules().discovery
    rows: list[dict[str, Any]] = []
    for answer in answers:
        for rule in rules:
            raw = _item(answer, rule.item)
            if answer.department.code == rule.department and raw is not None and rule.holds(float(Decimal(raw))):
                rows.append({"person_id": answer.person_id, "household_id": answer.household_id, "kind": rule.list})
    # Someone already enrolled or whose household has an application open is not "missed".
    applying = Membership.objects.filter(end__isnull=True, household__applications__state__in=OPEN_STATES
                                         ).values_list("person_id", flat=True)
    assisted = pl.concat([enrolled.get_column("person_id"), pl.Series(list(applying), dtype=pl.Int64)])
    listed = findings.discovery(_frame(rows, {"person_id": pl.Int64, "household_id": pl.Int64, "kind": pl.String}),
                                assisted)
    eligible: list[dict[str, Any]] = []
    households = Household.objects.in_bulk(listed.get_column("household_id").drop_nulls().unique().to_list())
    for row in listed.iter_rows(named=True):
        household = households.get(row["household_id"])
        if household is None:
            continue
        try:
            case, _declared = means_test.build_case(household, on)
            result, _zh, _en = means_test.evaluate(case)
        except Exception:
            continue
        is_eligible, amount = means_test.programme_amount(result, "dibao")
        if is_eligible:
            eligible.append({**row, "detail": f"{row['detail']};programme=dibao", "amount": float(amount)})
    return _frame(eligible, findings.FINDINGS)


@transaction.atomic
def run_crosschecks(*, by: User, on: dt.date, area_code: str | None = None) -> CrosscheckResult:
    """Every cross-check over the area (the user's by default); new findings stored once,
    reviews opened for enrolled households."""
    area = area_code or by.scope_code
    ensure_can(by, Action.REVIEW, area)
    rules = catalogue.load_crosscheck_rules()
    enrolled, areas = _enrolled(area, on)
    answers = _answers(area)
    some_household = Household.objects.filter(area__code__startswith=area).first()
    parts = [
        findings.duplicate_enrolment(pl.concat([enrolled.select("person_id", "household_id", "area_code", "programme"),
                                                _rolls_elsewhere(answers)]), rules.exclusive_programmes),
        findings.paid_after_death(enrolled.select("household_id", "programme", "person_id", "paid_until",
                                                  "monthly_amount"), _deaths(answers)),
        _relatives_unflagged(area),
        _assets(area, answers, on),
        _death_recorded(answers),
        _discrepancies(area, set(areas), on),
        _illness(answers, some_household, on),
        _discovery(answers, enrolled, on),
    ]
    found = pl.concat([p.select(list(findings.FINDINGS)).cast(findings.FINDINGS) for p in parts])  # type: ignore[arg-type]
    area_codes = {**areas, **dict(Household.objects.filter(
        pk__in=found.get_column("household_id").drop_nulls().unique().to_list()).values_list("pk", "area_id"))}
    new = verification.findings_record(by=by, frame=found, area_codes=area_codes, on=on)
    result = CrosscheckResult(found=dict(found.group_by("check").len().iter_rows()), new=new)
    result.reviews_opened = open_reviews(by, [f for f in new if f.kind in REVIEW_CHECKS], on)
    return result


def open_reviews(by: User, found: list[Finding], on: dt.date) -> int:
    """Each enrolled household with findings gets one change report listing them, and its
    next review brought forward to today; the findings are marked "review opened"."""
    by_household: dict[int, list[Finding]] = defaultdict(list)
    for finding in found:
        if finding.household_id is not None:
            by_household[finding.household_id].append(finding)
    enrolled = set(Enrolment.objects.filter(active=True, household_id__in=list(by_household))
                   .values_list("household_id", flat=True))
    opened = 0
    for household_id in sorted(enrolled):
        items = by_household[household_id]
        household = Household.objects.get(pk=household_id)
        description = _("Verification found: %(items)s") % {"items": "; ".join(
            f"{f.get_kind_display()} ({', '.join(f'{k}={v}' for k, v in f.detail.items())})" for f in items)}
        kind = next((_CHANGE_KIND[f.kind] for f in items if f.kind in _CHANGE_KIND), "other")  # type: ignore[index]
        dynamic.change_report(by=by, household=household, kind=kind, occurred_on=on, description=description,
                              reported_on=on)
        Enrolment.objects.filter(household=household, active=True).filter(
            review_due__gt=on).update(review_due=on)
        Enrolment.objects.filter(household=household, active=True, review_due__isnull=True).update(review_due=on)
        for finding in items:
            verification.finding_handle(by=by, finding=finding, status=FindingStatus.REVIEW,
                                        reason=_("review opened"))
        opened += 1
    return opened


@dataclass
class ReverificationResult:
    requested: list[int] = field(default_factory=list)  # households asked about
    without_consent: list[int] = field(default_factory=list)


def reverify(*, by: User, on: dt.date, area_code: str | None = None) -> ReverificationResult:
    """定期核查: every enrolled household of the area not verified for
    `verification.reverification_months` is asked about again, of every active department,
    on the consent given at its intake. A household whose consent is missing or withdrawn
    is listed (the village worker must get it signed), not asked about."""
    area = area_code or by.scope_code
    ensure_can(by, Action.REVIEW, area)
    departments = list(verification_selectors.departments())
    result = ReverificationResult()
    households = (Household.objects.filter(enrolments__active=True, area__code__startswith=area)
                  .distinct().order_by("pk"))
    for household in households:
        months = int(_context(household, on).number("verification.reverification_months"))
        since = add_months(on, -months)
        if (household.verification_answers.filter(file__imported_at__date__gt=since).exists()
                or household.verification_requests.filter(status__in=OPEN_REQUESTS).exists()):
            continue
        try:
            with transaction.atomic():
                verification.request_verification(by=by, household=household, departments=departments,
                                                  reason=_("periodic re-verification of an enrolled household"),
                                                  reference=f"reverification:{household.pk}", on=on)
        except ValidationError as exc:
            if "consents" not in getattr(exc, "message_dict", {}):
                raise
            result.without_consent.append(household.pk)
            continue
        result.requested.append(household.pk)
    return result
