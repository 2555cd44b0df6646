"""The review pages of dynamic management: reassessment and review decisions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiuzhu.casework.models import DecisionKind
from jiuzhu.registry.models import IncomeRecord, Source
from tests import factories as f
from tests.accounts.factories import staff_client
from tests.casework.test_dynamic import _enrolled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_an_officer_reassesses_and_an_approver_decides_the_decrease() -> None:
    staff, enrolment = _enrolled()
    IncomeRecord.objects.create(household=enrolment.household, kind="wage", amount=Decimal("1200"),
                                source=Source.VERIFIED)
    officer, approver = staff_client(staff["officer"]), staff_client(staff["approver"])
    assert officer.post(f"/work/enrolments/{enrolment.pk}/review/reassess/").status_code == 302
    page = approver.get(f"/work/enrolments/{enrolment.pk}/review/")
    assert page.status_code == 200
    assessment = enrolment.application.assessments.first()
    response = approver.post(f"/work/enrolments/{enrolment.pk}/review/decide/",
                             {"assessment": assessment.pk, "reasons": "工资收入增加"})
    assert response.status_code == 302
    assert enrolment.application.decisions.first().kind == DecisionKind.DECREASE


def test_the_officer_who_reassessed_cannot_decide_on_the_page() -> None:
    staff, enrolment = _enrolled()
    county = staff_client(staff["county"])
    county.post(f"/work/enrolments/{enrolment.pk}/review/reassess/")
    assessment = enrolment.application.assessments.first()
    response = county.post(f"/work/enrolments/{enrolment.pk}/review/decide/",
                           {"assessment": assessment.pk, "reasons": "x"})
    assert response.status_code == 400
    assert "someone else" in response.content.decode()
    assert enrolment.application.decisions.count() == 1  # only the approval


def test_a_village_worker_may_not_decide_a_review() -> None:
    staff, enrolment = _enrolled()
    response = staff_client(staff["worker"]).post(f"/work/enrolments/{enrolment.pk}/review/decide/",
                                                  {"assessment": 1, "reasons": "x"})
    assert response.status_code == 403


def test_another_townships_officer_finds_no_review_page() -> None:
    _staff, enrolment = _enrolled()
    stranger = f.user("township_officer", f.OTHER_TOWNSHIP)
    client = staff_client(stranger)
    assert client.get(f"/work/enrolments/{enrolment.pk}/review/").status_code == 404
    assert client.post(f"/work/enrolments/{enrolment.pk}/review/reassess/").status_code == 404
