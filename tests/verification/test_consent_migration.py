"""Consents moved from casework to verification, and requests name their case: the data
survives the migration forwards and backwards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("casework", "0001_initial"), ("verification", "0002_seed_departments")]
AFTER = [("casework", "0003_consent_moved"), ("verification", "0003_consent_and_reference")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_consents_and_request_links_survive_the_move_both_ways() -> None:
    old = _migrate(BEFORE)
    Area = old.get_model("areas", "Area")
    User = old.get_model("accounts", "User")
    Person = old.get_model("registry", "Person")
    Household = old.get_model("registry", "Household")
    Intake = old.get_model("casework", "Intake")
    Application = old.get_model("casework", "Application")
    OldConsent = old.get_model("casework", "Consent")
    Department = old.get_model("verification", "Department")
    Request = old.get_model("verification", "VerificationRequest")
    area = Area.objects.create(code="220882100201", name_zh="村", level="village", parent=None)
    user = User.objects.create(username="worker", role="village_worker", area=area)
    person = Person.objects.create(id_number="220882197003010011", name="王大明", sex="male",
                                   birth_date=dt.date(1970, 3, 1), hukou_type="rural")
    household = Household.objects.create(number="H1", area=area, area_type="rural")
    intake = Intake.objects.create(household=household, channel="window", entered_by=user, applicant=person,
                                   truth_promise=True)
    application = Application.objects.create(intake=intake, household=household, programme="dibao",
                                             area_code=area.code, entered_by=user,
                                             received_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    OldConsent.objects.create(intake=intake, person=person, signature="王大明", given_on=dt.date(2026, 9, 1))
    banks, _created = Department.objects.get_or_create(code="banks", defaults={
        "name_zh": "银行", "name_en": "Banks", "legal_basis": "x", "exchange_format": "csv", "answer_working_days": 10,
        "asks_about": "adults", "items": [{"name": "balance", "type": "money"}]})  # an earlier test may flush the seed
    Request.objects.create(request_id="VR-banks-20260901-00001", department=banks,
                           person=person, household=household, application=application, area_code=area.code,
                           requested_by=user, reason="核对")

    new = _migrate(AFTER)
    consent = new.get_model("verification", "Consent").objects.get()
    assert (consent.person_id, consent.household_id, consent.signature) == (person.pk, household.pk, "王大明")
    assert list(new.get_model("casework", "Intake").objects.get(pk=intake.pk).consents.all()) == [consent]
    moved = new.get_model("verification", "VerificationRequest").objects.get()
    assert moved.reference == f"application:{application.pk}"

    back = _migrate(BEFORE)
    restored = back.get_model("casework", "Consent").objects.get()
    assert (restored.intake_id, restored.person_id, restored.given_on) == (intake.pk, person.pk, dt.date(2026, 9, 1))
    assert back.get_model("verification", "VerificationRequest").objects.get().application_id == application.pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # every app back to its latest, as other tests expect
