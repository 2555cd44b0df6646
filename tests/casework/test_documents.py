"""The printable documents: certificate, refusal notice, missing-items slip — each only when the
case is in the state it certifies, each with what the applicant needs to read on paper."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from jiuzhu.casework.models import State
from tests import factories as f
from tests.casework.test_views_application import _advance, _intake, _staff, as_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_certificate_shows_the_amount_and_what_a_certificate_carries() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.APPROVED)
    decision = application.decisions.get()
    response = as_user(staff["officer"]).get(reverse("casework:certificate", args=[application.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<span class="amount" id="monthly-amount">{decision.monthly_amount}</span>' in page
    assert application.household.number in page
    assert '<td id="head-name">王大明</td>' in page
    assert "王大明、李秀兰、王小明" in page, "the counted members"
    assert decision.effective_from is not None and decision.effective_from.isoformat() in page
    assert "安广镇" in page, "the issuing township"
    assert "window.print()" in page and "Noto Sans CJK SC" in page
    assert "staff-nav" not in page, "nothing but the document on paper"


def test_the_certificate_stays_available_once_enrolled() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.ENROLLED)
    assert as_user(staff["worker"]).get(reverse("casework:certificate", args=[application.pk])).status_code == 200


@pytest.mark.parametrize("state", [State.RECEIVED, State.ASSESSED, State.NOTICE, State.REFUSED])
def test_no_certificate_before_approval_or_after_refusal(state: str) -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), state)
    assert as_user(staff["officer"]).get(reverse("casework:certificate", args=[application.pk])).status_code == 404


def test_the_refusal_notice_gives_the_reasons_and_the_right_of_appeal() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.REFUSED)
    response = as_user(staff["officer"]).get(reverse("casework:refusal_notice", args=[application.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<li>收入超标</li>" in page
    assert "administrative reconsideration" in page or "行政复议" in page
    assert "王大明" in page and "window.print()" in page


@pytest.mark.parametrize("state", [State.NOTICE, State.APPROVED])
def test_no_refusal_notice_unless_refused(state: str) -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), state)
    assert as_user(staff["officer"]).get(reverse("casework:refusal_notice", args=[application.pk])).status_code == 404


def test_the_slip_lists_every_missing_item_once() -> None:
    staff = _staff()
    application = _intake(staff, programmes=("dibao", "temporary_expenditure"))
    response = as_user(staff["worker"]).get(reverse("casework:missing_items_slip", args=[application.intake_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<ol class="items" id="missing-items"><li>户口簿复印件</li><li>残疾证</li></ol>' in page
    assert "最低生活保障" in page, "the programmes applied for"


def test_documents_are_in_english_when_the_language_is_english() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.APPROVED)
    client = as_user(staff["officer"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("casework:certificate", args=[application.pk])).content.decode()
    assert '<html lang="en">' in page and "Minimum living allowance certificate" in page
    assert "Area 220882100" in page, "the township's English name"


def test_documents_of_another_township_are_not_found() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.APPROVED)
    stranger = as_user(f.user("township_officer", f.OTHER_TOWNSHIP))
    for name, pk in (("certificate", application.pk), ("missing_items_slip", application.intake_id)):
        assert stranger.get(reverse(f"casework:{name}", args=[pk])).status_code == 404
