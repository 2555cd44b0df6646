"""The demo county: every state of the procedure, a user per role, a sound audit chain, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import TWO_FACTOR_ROLES, Role
from jiuzhu.casework.models import Application, Enrolment, RelativeDeclaration, State
from jiuzhu.cli import demo as demo_cli
from jiuzhu.demo import load_demo, totp_code
from jiuzhu.demo.load import DemoRefused, DemoResult
from jiuzhu.registry.identity import check_resident_id
from jiuzhu.registry.models import Household, Membership, Person
from tests import factories as f

pytestmark = pytest.mark.django_db

HOUSEHOLDS = 120


@pytest.fixture
def fast_passwords(settings):  # type: ignore[no-untyped-def]
    """Argon2 costs a quarter of a second per user; the hash is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(fast_passwords, tmp_path) -> DemoResult:  # type: ignore[no-untyped-def]
    return load_demo(households_count=HOUSEHOLDS, seed=7, department_files=tmp_path / "departments")


def _totals() -> dict[str, int]:
    return {"households": Household.objects.count(), "persons": Person.objects.count(),
            "memberships": Membership.objects.count(), "applications": Application.objects.count(),
            "users": User.objects.count(), "audit": AuditEntry.objects.count()}


def test_every_state_of_the_procedure_has_an_application(demo: DemoResult) -> None:
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(State.values)
    assert demo.loaded and demo.counts["households"] == HOUSEHOLDS


def test_some_applications_are_overdue_some_wait_with_the_clock_stopped(demo: DemoResult) -> None:
    today = timezone.localdate()
    overdue = Application.objects.filter(step_deadline__lt=today, clock_stopped=False,
                                         state__in=[State.ACCEPTED, State.INVESTIGATING])
    assert overdue.exists()
    assert Application.objects.filter(clock_stopped=True, clock_stops__ended_on__isnull=True).exists()
    assert demo.counts["overdue"] >= overdue.count()


def test_a_relative_of_staff_is_declared_and_their_household_s_application_flagged(demo: DemoResult) -> None:
    flagged = Application.objects.filter(relative_flag=True)
    assert flagged.exists()
    numbers = set(Person.objects.filter(memberships__household__applications__in=flagged)
                  .values_list("id_number", flat=True))
    assert RelativeDeclaration.objects.filter(relative_id_number__in=numbers).exists()


def test_enrolments_have_reviews_scheduled_some_due(demo: DemoResult) -> None:
    enrolments = Enrolment.objects.all()
    assert enrolments.exists() and not enrolments.filter(review_due__isnull=True).exists()
    assert enrolments.filter(review_due__lte=timezone.localdate() + dt.timedelta(days=30)).exists()


def test_a_user_per_role_signs_in_with_the_printed_password(demo: DemoResult) -> None:
    assert {a.role for a in demo.accounts} == set(Role.values)
    request = RequestFactory().post("/accounts/login/")
    for account in demo.accounts:
        assert authenticate(request, username=account.username, password=account.password) is not None
    assert User.objects.filter(role=Role.VILLAGE_WORKER).count() == 8
    assert User.objects.filter(role=Role.TOWNSHIP_OFFICER).count() == 4


def test_approvers_and_admins_have_a_confirmed_authenticator_whose_code_verifies(demo: DemoResult) -> None:
    for account in demo.accounts:
        device = TOTPDevice.objects.filter(user__username=account.username, confirmed=True).first()
        assert (device is not None) == (account.role in TWO_FACTOR_ROLES)
        if device is not None:
            assert device.verify_token(totp_code(account.username))


def test_every_resident_id_number_is_valid_and_matches_sex_and_birth_date(demo: DemoResult) -> None:
    for number, sex, birth in Person.objects.values_list("id_number", "sex", "birth_date"):
        check = check_resident_id(number)
        assert check.valid and check.sex == sex and check.birth_date == birth and number.startswith("220882")


def test_the_audit_chain_holds_after_the_load(demo: DemoResult) -> None:
    assert audit.verify().ok
    assert AuditEntry.objects.filter(action="demo.load").count() == 1


def test_the_history_is_back_dated_and_the_audit_log_reads_in_order(demo: DemoResult) -> None:
    """The services read the clock the demo sets: a year of casework, not one afternoon."""
    oldest = Application.objects.earliest("received_at").received_at
    assert oldest.date() < timezone.localdate() - dt.timedelta(days=300)
    moments = list(AuditEntry.objects.order_by("id").values_list("at", flat=True))
    assert moments == sorted(moments)


def test_a_second_load_changes_nothing(demo: DemoResult) -> None:
    before = _totals()
    again = load_demo(households_count=HOUSEHOLDS, seed=7)
    assert not again.loaded
    assert _totals() == before
    assert [a.password for a in again.accounts] == [a.password for a in demo.accounts]


def test_the_demo_is_refused_on_a_database_that_holds_other_households(fast_passwords) -> None:  # type: ignore[no-untyped-def]
    f.county_tree()
    f.household()
    with pytest.raises(DemoRefused, match="already holds 1 households"):
        load_demo(households_count=HOUSEHOLDS)


def test_the_command_loads_once_and_prints_a_user_s_current_code(fast_passwords, capsys, tmp_path,  # type: ignore[no-untyped-def]
                                                                monkeypatch) -> None:
    monkeypatch.setenv("JIUZHU_DEMO_DEPARTMENTS", str(tmp_path))
    assert demo_cli.main(["--households", str(HOUSEHOLDS), "--seed", "7"]) == 0
    first = capsys.readouterr().out
    assert "Demo county loaded" in first and "/accounts/login/" in first and "approver.anguang" in first
    assert demo_cli.main(["--households", str(HOUSEHOLDS)]) == 0
    assert "already loaded (seed 7)" in capsys.readouterr().out
    assert demo_cli.main(["--totp", "approver.anguang"]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    assert demo_cli.main(["--totp", "village.yongsheng"]) == 1


def test_the_demo_round_finds_what_the_fake_departments_planted(demo: DemoResult) -> None:
    """Typos linked to the right person, hidden assets and undeclared income listed as
    discrepancies, deaths, a duplicate in another county and large medical bills found."""
    assert demo.verification is not None and not demo.verification.rejected
    scores = demo.verification.scores
    for name in ("typos", "linkage", "discrepancies", "deaths", "duplicates", "illness"):
        assert scores[name]["planted"] > 0, name
        assert scores[name]["precision"] >= 0.99 and scores[name]["recall"] >= 0.95, (name, scores[name])
    assert scores["discovery"]["precision"] >= 0.95 and scores["discovery"]["hits"] > 0
    assert demo.verification.reviews_opened > 0
