"""Cross-checks over enrolled households, periodic re-verification and the review tasks they open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.casework import crosschecks
from jiuzhu.casework.models import ChangeReport, Enrolment, RelativeDeclaration
from jiuzhu.verification import imports
from jiuzhu.verification.answers import LIST_COLUMNS
from jiuzhu.verification.models import Consent, Department, Finding, FindingStatus, VerificationRequest
from tests import factories as f
from tests.casework.test_dynamic import _enrolled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = dt.date(2026, 11, 25)


def _list(tmp_path: Path, code: str, rows: list[dict[str, str]]) -> Path:
    department = Department.objects.get(code=code)
    columns = [*LIST_COLUMNS, *department.item_names]
    path = tmp_path / f"{code}-list.csv"
    pl.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
                 ).write_csv(path)
    return path


def _person_row(enrolment: Enrolment, name: str, record_id: str, **items: str) -> dict[str, str]:
    person = enrolment.household.memberships.get(person__name=name).person
    return {"record_id": record_id, "id_number": person.id_number, "name": person.name,
            "birth_date": person.birth_date.isoformat(), "sex": person.sex, "area_code": enrolment.household.area_id,
            "found": "yes", "as_of": "2026-11-20", **items}


def _import_list(staff: dict[str, Any], path: Path, code: str) -> None:
    result = imports.import_answer_file(by=staff["county"], department=Department.objects.get(code=code), path=path,
                                        file_name=path.name, kind="list", today=TODAY)
    assert result.accepted, result.problems


def test_a_death_on_the_public_security_list_stops_nothing_by_itself_but_opens_a_review(tmp_path: Path) -> None:
    staff, enrolment = _enrolled()
    _import_list(staff, _list(tmp_path, "public_security", [
        _person_row(enrolment, "李秀兰", "D1", hukou_registered="no", death_date="2026-08-10")]), "public_security")
    result = crosschecks.run_crosschecks(by=staff["county"], on=TODAY)
    kinds = {f.kind for f in result.new}
    assert {"paid_after_death", "death_recorded"} <= kinds
    paid = next(f for f in result.new if f.kind == "paid_after_death")
    # Died in August, the household is paid until the end of November: three months too many.
    assert paid.detail["months"] == "3" and paid.amount == 3 * enrolment.monthly_amount
    assert result.reviews_opened == 1
    report = ChangeReport.objects.get(household=enrolment.household)
    assert report.kind == "death" and "paid after death" in report.description
    enrolment.refresh_from_db()
    assert enrolment.review_due is not None and enrolment.review_due <= dt.date(2026, 11, 25) + dt.timedelta(days=92)
    assert set(Finding.objects.values_list("status", flat=True)) == {FindingStatus.REVIEW}
    assert AuditEntry.objects.filter(action="verification.finding").count() == len(result.new)

    again = crosschecks.run_crosschecks(by=staff["county"], on=TODAY)
    assert again.new == [] and again.reviews_opened == 0
    assert ChangeReport.objects.filter(household=enrolment.household).count() == 1


def test_a_person_on_another_county_s_roll_is_enrolled_twice(tmp_path: Path) -> None:
    staff, enrolment = _enrolled()
    _import_list(staff, _list(tmp_path, "civil_affairs", [
        _person_row(enrolment, "王大明", "R1", programme="dibao", enrolled_area_code="220881000000")]),
        "civil_affairs")
    result = crosschecks.run_crosschecks(by=staff["county"], on=TODAY)
    [duplicate] = [f for f in result.new if f.kind == "duplicate_area"]
    assert duplicate.household == enrolment.household
    assert "220881000000" in duplicate.detail["areas"]


def test_a_staff_relative_enrolled_without_the_flag_is_found() -> None:
    staff, enrolment = _enrolled()
    head = enrolment.household.memberships.get(relation="head").person
    RelativeDeclaration.objects.create(declarant=staff["worker"], declarant_name="张村干", declarant_post="村会计",
                                       area=enrolment.household.area, relative_name=head.name,
                                       relative_id_number=head.id_number, relation="兄弟")
    result = crosschecks.run_crosschecks(by=staff["county"], on=TODAY)
    [found] = [f for f in result.new if f.kind == "relative_unflagged"]
    assert found.person == head and found.detail["post"] == "村会计"


def test_large_medical_bills_warn_the_township(tmp_path: Path) -> None:
    staff, enrolment = _enrolled()
    _import_list(staff, _list(tmp_path, "medical_insurance", [
        _person_row(enrolment, "王大明", "M1", claim_date="2026-09-01", out_of_pocket="15000"),
        _person_row(enrolment, "王小明", "M2", claim_date="2026-10-01", out_of_pocket="5000.01"),
        _person_row(enrolment, "李秀兰", "M3", claim_date="2026-03-01", out_of_pocket="90000")]),  # outside 6 months
        "medical_insurance")
    result = crosschecks.run_crosschecks(by=staff["county"], on=TODAY)
    [warning] = [f for f in result.new if f.kind == "illness_warning"]
    assert str(warning.amount) == "20000.01"  # over the 20,000 yuan threshold of `verification.illness_warning_yuan`
    assert warning.area_code == enrolment.household.area_id
    assert warning.status == FindingStatus.OPEN  # a warning for the village worker, not a review


def test_reverification_asks_again_on_the_intake_s_consent_and_lists_households_without_one() -> None:
    staff, enrolment = _enrolled()
    other = f.poor_family()  # not enrolled: not asked about
    result = crosschecks.reverify(by=staff["county"], on=TODAY)
    assert result.requested == [enrolment.household_id] and result.without_consent == []
    asked = VerificationRequest.objects.filter(household=enrolment.household)
    assert asked.exists() and {r.reference for r in asked} == {f"reverification:{enrolment.household_id}"}
    assert other.pk not in result.requested
    # Requests open: nothing is asked twice.
    assert crosschecks.reverify(by=staff["county"], on=TODAY).requested == []
    Consent.objects.filter(household=enrolment.household).update(withdrawn_on=TODAY)
    VerificationRequest.objects.all().delete()
    assert crosschecks.reverify(by=staff["county"], on=TODAY).without_consent == [enrolment.household_id]
