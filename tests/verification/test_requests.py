"""Verification requests: only with consent, audited, exported per department, overdue in working days."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import polars as pl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.casework.models import Application
from jiuzhu.verification import selectors, services
from jiuzhu.verification.models import Department, Status, VerificationRequest
from tests import factories as f
from tests.casework.test_procedure import _intake, _staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

#: A Tuesday two days before the 2026 National Day holiday (1–7 October; Saturday 10 October is worked).
BEFORE_NATIONAL_DAY = dt.date(2026, 9, 29)


def _department(code: str) -> Department:
    return Department.objects.get(code=code)


def _case(application: Application) -> dict[str, Any]:
    return {"household": application.household, "reference": f"application:{application.pk}"}


def _requested(staff: dict[str, Any], *codes: str) -> tuple[Application, list[VerificationRequest]]:
    application = _intake(staff)
    requests = services.request_verification(by=staff["officer"], **_case(application),
                                             departments=[_department(c) for c in codes], reason="低保申请核对",
                                             on=BEFORE_NATIONAL_DAY)
    return application, requests


def test_no_request_without_the_consent_of_the_person_asked_about() -> None:
    staff = _staff()
    application = _intake(staff)
    application.intake.consents.filter(person__name="李秀兰").update(withdrawn_on=BEFORE_NATIONAL_DAY)
    with pytest.raises(ValidationError, match="李秀兰 has given no consent to verification") as caught:
        services.request_verification(by=staff["officer"], **_case(application),
                                      departments=[_department("vehicles"), _department("public_security")],
                                      reason="低保申请核对", on=BEFORE_NATIONAL_DAY)
    assert caught.value.message_dict["consents"] == ["李秀兰 has given no consent to verification"]
    assert not VerificationRequest.objects.exists()
    assert not AuditEntry.objects.filter(action="verification.request").exists()


def test_requests_go_to_adults_or_every_member_as_the_department_asks_and_are_audited() -> None:
    staff = _staff()
    application, requests = _requested(staff, "vehicles", "public_security")
    by_department: dict[str, set[str]] = {}
    for r in requests:
        by_department.setdefault(r.department.code, set()).add(r.person.name)
    # A child is asked about under the consent of the household's adults.
    assert by_department == {"vehicles": {"王大明", "李秀兰"}, "public_security": {"王大明", "李秀兰", "王小明"}}
    assert all(r.status == Status.PENDING and r.reference == f"application:{application.pk}" for r in requests)
    assert requests[0].request_id == "VR-vehicles-20260929-00001"
    assert len({r.request_id for r in requests}) == 5
    entries = AuditEntry.objects.filter(action="verification.request")
    assert entries.count() == 5
    assert {e.reason for e in entries} == {"低保申请核对"}
    assert {e.object_id for e in entries} == {str(r.pk) for r in requests}
    assert audit.verify().ok


def test_asking_again_while_a_request_is_open_adds_nothing() -> None:
    staff = _staff()
    application, first = _requested(staff, "vehicles")
    again = services.request_verification(by=staff["officer"], **_case(application),
                                          departments=[_department("vehicles")], reason="再次核对",
                                          on=BEFORE_NATIONAL_DAY)
    assert len(first) == 2
    assert again == []


def test_a_user_of_another_township_does_not_find_the_household() -> None:
    staff = _staff()
    stranger = f.user(Role.TOWNSHIP_OFFICER, f.OTHER_TOWNSHIP)
    application = _intake(staff)
    with pytest.raises(Http404):
        services.request_verification(by=stranger, **_case(application), departments=[_department("banks")],
                                      reason="核对")
    assert not VerificationRequest.objects.exists()


def test_a_village_worker_may_not_request_verification() -> None:
    staff = _staff()
    application = _intake(staff)
    with pytest.raises(PermissionDenied):
        services.request_verification(by=staff["worker"], **_case(application),
                                      departments=[_department("banks")], reason="核对")


def test_the_csv_request_file_has_the_documented_columns_and_marks_the_requests_sent() -> None:
    staff = _staff()
    _application, requests = _requested(staff, "vehicles", "banks")
    batch, content = services.export_requests(by=staff["officer"], department=_department("vehicles"), fmt="csv",
                                              on=BEFORE_NATIONAL_DAY)
    frame = pl.read_csv(io.BytesIO(content), infer_schema=False)
    assert tuple(frame.columns) == services.COLUMNS
    vehicle_requests = [r for r in requests if r.department.code == "vehicles"]
    assert sorted(frame["request_id"].to_list()) == sorted(r.request_id for r in vehicle_requests)
    assert set(frame["id_number"].to_list()) == {r.person.id_number for r in vehicle_requests}
    assert set(frame["items"].to_list()) == {"plate;vehicle_type;value;owner_id_number"}
    assert set(frame["area_code"].to_list()) == {f.VILLAGE}
    assert batch.row_count == 2 and batch.file_name.endswith(".csv")
    sent = VerificationRequest.objects.filter(batch=batch)
    assert {r.status for r in sent} == {Status.SENT}
    # 5 working days from Tuesday 29 September: 30 Sep, 8, 9, 10 (worked Saturday) and 12 October.
    assert {r.due_on for r in sent} == {dt.date(2026, 10, 12)}
    assert set(VerificationRequest.objects.filter(department__code="banks").values_list("status", flat=True)) == {
        Status.PENDING}
    assert AuditEntry.objects.filter(action="verification.export", object_id=str(batch.pk)).exists()


def test_the_json_request_file_round_trips_and_a_second_export_finds_nothing_pending() -> None:
    staff = _staff()
    _application, _requests = _requested(staff, "public_security")
    _batch, content = services.export_requests(by=staff["officer"], department=_department("public_security"),
                                               fmt="json", on=BEFORE_NATIONAL_DAY)
    rows = json.loads(content)
    frame = pl.read_json(io.BytesIO(content))
    assert tuple(frame.columns) == services.COLUMNS
    assert len(rows) == 3
    assert rows[0]["items"] == ["hukou_registered", "hukou_area", "death_date"]
    child = next(r for r in rows if r["name"] == "王小明")
    assert child["birth_date"] == "2015-01-01" and child["sex"] == "male"
    with pytest.raises(ValidationError, match="no pending requests"):
        services.export_requests(by=staff["officer"], department=_department("public_security"), fmt="json",
                                 on=BEFORE_NATIONAL_DAY)


def test_an_export_holds_only_requests_of_the_users_area() -> None:
    staff = _staff()
    _requested(staff, "vehicles")
    stranger = f.user(Role.TOWNSHIP_OFFICER, f.OTHER_TOWNSHIP)
    with pytest.raises(ValidationError, match="no pending requests"):
        services.export_requests(by=stranger, department=_department("vehicles"), fmt="csv")
    assert set(VerificationRequest.objects.values_list("status", flat=True)) == {Status.PENDING}


def test_a_format_this_installation_cannot_write_is_refused() -> None:
    staff = _staff()
    _requested(staff, "vehicles")
    with pytest.raises(ValidationError, match="“pdf” files cannot be written"):
        services.export_requests(by=staff["officer"], department=_department("vehicles"), fmt="pdf")


def test_a_sent_request_past_its_due_date_is_overdue() -> None:
    staff = _staff()
    _requested(staff, "vehicles")
    services.export_requests(by=staff["officer"], department=_department("vehicles"), fmt="csv",
                             on=BEFORE_NATIONAL_DAY)
    assert not selectors.overdue_requests(staff["officer"], dt.date(2026, 10, 12)).exists()
    overdue = list(selectors.overdue_requests(staff["officer"], dt.date(2026, 10, 13)))
    assert len(overdue) == 2
    assert {r.shown_status for r in overdue} == {Status.OVERDUE}  # type: ignore[attr-defined]
    assert {r.status_on(dt.date(2026, 10, 13)) for r in overdue} == {Status.OVERDUE}
    stranger = f.user(Role.TOWNSHIP_OFFICER, f.OTHER_TOWNSHIP)
    assert not selectors.overdue_requests(stranger, dt.date(2026, 10, 13)).exists()
