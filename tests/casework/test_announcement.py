"""公布: after approval the village is told who receives what, once per approval."""

from __future__ import annotations

import pytest

from jiuzhu.casework.models import NoticeKind
from tests.accounts.factories import staff_client
from tests.casework.test_dynamic import _enrolled

pytestmark = pytest.mark.django_db


def test_an_enrolled_household_is_announced_once_with_only_masked_name_size_and_amount() -> None:
    staff, enrolment = _enrolled()
    officer = staff_client(staff["officer"])
    page = officer.get("/work/notices/").content.decode()
    assert "Approved, not yet announced" in page or "已批准" in page
    response = officer.post("/work/notices/publish/", {"kind": "approval", "village": enrolment.household.area_id,
                                                       "applications": [enrolment.application_id]})
    assert response.status_code == 302
    notice = enrolment.application.notice_entries.get(notice__kind=NoticeKind.APPROVAL).notice
    printed = officer.get(f"/work/notices/{notice.pk}/print/").content.decode()
    head = enrolment.application.intake.applicant
    assert "王*明" in printed and head.name not in printed and head.id_number not in printed
    again = officer.post("/work/notices/publish/", {"kind": "approval", "village": enrolment.household.area_id,
                                                    "applications": [enrolment.application_id]})
    assert again.status_code == 400  # no longer offered: announced already
