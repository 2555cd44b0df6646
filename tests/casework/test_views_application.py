"""The application side of the staff app through HTTP: the intake wizard, the application page
and each step's URL — who may use it, what a refused or malformed post answers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts.decorators import needs_two_factor
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, Intake, MissingItem, State
from jiuzhu.casework.views import application_urls
from jiuzhu.casework.views.application import STEPS
from jiuzhu.casework.views.intake import SESSION_KEY
from jiuzhu.registry.models import AssetRecord, ExpenseRecord, Household, IncomeRecord, Person
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = services.today()


# -- arrange ------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Six staff users per test: argon2's deliberate slowness is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _staff() -> dict[str, User]:
    f.county_tree()
    return {
        "worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE),
        "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "officer2": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "approver": f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP),
        "auditor": f.user(Role.AUDITOR, f.TOWNSHIP),
        # A township approver may do every step, so anything but 404 from them would be a leak.
        "stranger": f.user(Role.TOWNSHIP_APPROVER, f.OTHER_TOWNSHIP),
    }


def login(client: Client, user: User) -> Client:
    """Signed in, with the second factor confirmed for the roles that need it."""
    client.force_login(user)
    if needs_two_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def as_user(user: User) -> Client:
    return login(Client(), user)


def _intake(staff: dict[str, User], by: str = "worker", programmes: tuple[str, ...] = ("dibao",)) -> Application:
    household = f.poor_family()
    members = household.memberships.select_related("person")
    adults = [services.ConsentData(m.person, signature="签名") for m in members if m.person.age_on(TODAY) >= 18]
    intake = services.intake_submit(by=staff[by], household=household,
                                    applicant=members.get(relation="head").person, programmes=list(programmes),
                                    channel="village", consents=adults, truth_promise=True,
                                    missing_items=["户口簿复印件", "残疾证"])
    return intake.applications.get(programme=programmes[0])


def _advance(staff: dict[str, User], application: Application, to: str) -> Application:
    """Drive the application through the services until it is in state `to`."""
    officer = staff["officer"]
    path = [State.ACCEPTED, State.INVESTIGATING, State.ASSESSED, State.FIRST_REVIEW, State.NOTICE,
            State.OBJECTION, State.RECHECK, State.APPROVED, State.ENROLLED]
    if to in (State.APPROVED, State.ENROLLED, State.REFUSED):
        path = [s for s in path if s not in (State.OBJECTION, State.RECHECK)]
    for state in path:
        application.refresh_from_db()
        if application.state == to:
            break
        if state == State.ACCEPTED:
            services.accept(by=officer, application=application)
        elif state == State.INVESTIGATING:
            services.investigation_start(by=officer, application=application)
        elif state == State.ASSESSED:
            services.visit_record(by=officer, application=application, visited_on=TODAY,
                                  investigators=[officer, staff["worker"]], findings="家中无劳动力",
                                  signed_by_household="王大明", signed_on=TODAY)
            services.assess(by=officer, application=application)
        elif state == State.FIRST_REVIEW:
            services.first_review(by=officer, application=application, opinion="approve", reason="符合条件")
        elif state == State.NOTICE:
            services.notice_publish(by=officer, applications=[application], on=TODAY - dt.timedelta(days=10))
        elif state == State.OBJECTION:
            services.objection_record(by=officer, application=application, content="收入不实", raised_by="村民")
        elif state == State.RECHECK:
            services.objection_resolve(by=officer, objection=application.objections.get(), method="recheck",
                                       outcome="复查属实")
        elif state == State.APPROVED:
            if to == State.REFUSED:
                services.decide(by=staff["approver"], application=application, approve=False, reasons="收入超标")
                break
            services.decide(by=staff["approver"], application=application, approve=True, reasons="公示无异议")
        elif state == State.ENROLLED:
            services.enrol(by=officer, application=application)
    application.refresh_from_db()
    assert application.state == to, (application.state, to)
    return application


def _url(name: str, application: Application) -> str:
    return reverse(f"casework:{name}", args=[application.pk])


# -- the intake wizard ----------------------------------------------------------------------------------

def _member(i: int, id_number: str, name: str, relation: str, **extra: str) -> dict[str, str]:
    row = {"id_number": id_number, "name": name, "relation": relation, "hukou_type": "rural", "counted": "yes",
           "sex": "", "birth_date": "", "not_counted_reason": "", "disability_grade": "", "disability_type": ""}
    row.update(extra)
    return {f"members-{i}-{k}": v for k, v in row.items()}


def _household_post(members: list[dict[str, str]]) -> dict[str, str]:
    data = {"village": f.VILLAGE, "area_type": "rural", "address": "永胜村3组", "members-TOTAL": str(len(members)),
            "next": "1"}
    for row in members:
        data.update(row)
    return data


THREE = [
    ("王大明", dt.date(1970, 3, 1), "male", "head"),
    ("李秀兰", dt.date(1972, 5, 1), "female", "spouse"),
    ("王小明", dt.date(2015, 1, 1), "male", "child"),
]


def _three_members() -> list[dict[str, str]]:
    return [_member(i, f.id_number(born, sex), name, relation) for i, (name, born, sex, relation) in enumerate(THREE)]


def test_the_wizard_creates_household_persons_facts_two_applications_and_consents(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    staff = _staff()
    client = as_user(staff["worker"])
    assert client.get(reverse("casework:intake_start")).status_code == 200

    response = client.post(reverse("casework:intake_start"), _household_post(_three_members()))
    assert response.status_code == 302 and response["Location"] == reverse("casework:intake_facts")
    assert not Household.objects.exists(), "nothing is written before the last step"

    facts = {"income-TOTAL": "2", "income-0-kind": "land_transfer", "income-0-amount": "3200",
             "income-1-kind": "imputed_wage", "income-1-member": "r1", "income-1-monthly_reference": "2000",
             "income-1-months": "3", "assets-TOTAL": "1", "assets-0-kind": "deposit", "assets-0-value": "1500",
             "expenses-TOTAL": "1", "expenses-0-kind": "medical_out_of_pocket", "expenses-0-amount": "800",
             "next": "1"}
    response = client.post(reverse("casework:intake_facts"), facts)
    assert response.status_code == 302 and response["Location"] == reverse("casework:intake_programmes")

    page = client.get(reverse("casework:intake_programmes")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="signature_r0"' in page and 'name="scan_r1"' in page
    assert 'name="signature_r2"' not in page, "a child gives no consent"

    response = client.post(reverse("casework:intake_programmes"), {
        "programmes": ["dibao", "temporary_expenditure"], "channel": "village", "applicant": "r0",
        "signature_r0": "王大明", "scan_r1": SimpleUploadedFile("consent.pdf", b"%PDF-1.4 signed", "application/pdf"),
        "truth_promise": "on", "missing_items": "户口簿复印件\n\n 残疾证 \n", "submit": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    intake = Intake.objects.get()
    assert response["Location"] == reverse("casework:intake_summary", args=[intake.pk])

    household = intake.household
    assert household.area_id == f.VILLAGE
    assert household.memberships.filter(end__isnull=True).count() == 3
    assert Person.objects.count() == 3
    head = Person.objects.get(name="王大明")
    assert (head.sex, head.birth_date) == ("male", dt.date(1970, 3, 1)), "read from the ID number"
    assert IncomeRecord.objects.filter(household=household, source="declared").count() == 2
    wage = IncomeRecord.objects.get(kind="imputed_wage")
    assert wage.person is not None and wage.person.name == "李秀兰" and wage.months == 3
    assert AssetRecord.objects.filter(household=household).count() == 1
    assert ExpenseRecord.objects.filter(household=household).count() == 1
    assert sorted(intake.applications.values_list("programme", flat=True)) == ["dibao", "temporary_expenditure"]
    assert set(intake.applications.values_list("state", flat=True)) == {State.RECEIVED}
    consents = {c.person.name: c for c in intake.consents.all()}
    assert all(c.household_id == household.pk for c in consents.values())
    assert set(consents) == {"王大明", "李秀兰"}
    assert consents["王大明"].signature == "王大明"
    assert consents["李秀兰"].scan.name.endswith(".pdf")
    assert list(MissingItem.objects.values_list("description", flat=True)) == ["户口簿复印件", "残疾证"]
    assert SESSION_KEY not in client.session

    summary = client.get(response["Location"]).content.decode()
    assert reverse("casework:missing_items_slip", args=[intake.pk]) in summary
    for application in intake.applications.all():
        assert reverse("casework:application", args=[application.pk]) in summary


def test_a_bad_id_number_shows_beside_that_members_field_and_keeps_what_was_typed() -> None:
    staff = _staff()
    client = as_user(staff["worker"])
    members = _three_members()
    good = members[1]["members-1-id_number"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    members[1]["members-1-id_number"] = bad
    response = client.post(reverse("casework:intake_start"), _household_post(members))
    assert response.status_code == 400
    page = response.content.decode()
    field = re.search(r'<div class="field has-error"[^>]*data-path="members\[1\]\.id_number">(.*?)</div>', page, re.S)
    assert field, "the error sits in that member's ID number field"
    assert "check character" in field.group(1) and 'id="id_members-1-id_number_error"' in field.group(1)
    assert f'value="{bad}"' in page and 'value="李秀兰"' in page and 'value="王小明"' in page
    assert 'data-path="members[0].id_number">' in page and 'data-path="members[0].id_number"' not in re.findall(
        r'<div class="field has-error"[^>]*>', page)[0]
    assert not Person.objects.exists()


def test_a_person_already_registered_is_reused_and_one_in_another_household_is_refused() -> None:
    staff = _staff()
    client = as_user(staff["worker"])
    known = f.person("赵四", dt.date(1980, 1, 1), "male")
    other = f.poor_family()
    taken = other.memberships.get(relation="spouse").person
    members = [_member(0, known.id_number, "赵四", "head"), _member(1, taken.id_number, taken.name, "spouse")]
    response = client.post(reverse("casework:intake_start"), _household_post(members))
    assert response.status_code == 400
    assert f"already belongs to household {other.number}" in response.content.decode()
    response = client.post(reverse("casework:intake_start"), _household_post(members[:1]))
    assert response.status_code == 302
    assert client.session[SESSION_KEY]["new"]["members"][0]["person_id"] == known.pk


def test_a_missing_consent_shows_beside_that_member_and_nothing_is_written() -> None:
    staff = _staff()
    client = as_user(staff["worker"])
    client.post(reverse("casework:intake_start"), _household_post(_three_members()))
    client.post(reverse("casework:intake_facts"), {"income-TOTAL": "0", "assets-TOTAL": "0", "expenses-TOTAL": "0"})
    response = client.post(reverse("casework:intake_programmes"), {
        "programmes": ["dibao"], "channel": "village", "applicant": "r0", "signature_r0": "王大明",
        "missing_items": "户口簿复印件", "submit": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'data-path="consents\[r1\]\.signature">.*?李秀兰 is an adult member', page, re.S)
    assert re.search(r'data-path="truth_promise">.*?promise of truth', page, re.S)
    assert "户口簿复印件" in page and 'value="王大明"' in page, "what was typed stays"
    assert not Household.objects.exists() and not Intake.objects.exists()


def test_an_existing_household_is_found_and_used() -> None:
    staff = _staff()
    household = f.poor_family()
    client = as_user(staff["worker"])
    page = client.get(reverse("casework:intake_start"), {"q": "王大明"}).content.decode()
    assert household.number in page and 'name="use_household"' in page
    response = client.post(reverse("casework:intake_start"), {"use_household": str(household.pk)})
    assert response.status_code == 302
    client.post(reverse("casework:intake_facts"), {"income-TOTAL": "0", "assets-TOTAL": "0", "expenses-TOTAL": "0"})
    members = {m.person.name: m.person_id for m in household.memberships.select_related("person")}
    response = client.post(reverse("casework:intake_programmes"), {
        "programmes": ["dibao"], "channel": "township", "applicant": f"p{members['王大明']}",
        f"signature_p{members['王大明']}": "王大明", f"signature_p{members['李秀兰']}": "李秀兰",
        "truth_promise": "on", "submit": "1"})
    assert response.status_code == 302
    assert Application.objects.get().household == household
    assert Household.objects.count() == 1


def test_a_household_of_another_township_cannot_be_used_for_an_intake() -> None:
    staff = _staff()
    foreign = f.poor_family(f.OTHER_VILLAGE)
    client = as_user(staff["officer"])
    assert client.post(reverse("casework:intake_start"), {"use_household": str(foreign.pk)}).status_code == 404
    assert foreign.number not in client.get(reverse("casework:intake_start"), {"q": "王大明"}).content.decode()


def test_malformed_wizard_posts_never_give_500() -> None:
    staff = _staff()
    client = as_user(staff["worker"])
    garbage: dict[str, str] = {"village": "999", "area_type": "moon", "members-TOTAL": "99999",
                               "members-0-id_number": "x" * 40, "members-0-birth_date": "2026-13-45",
                               "members-0-disability_grade": "eleven", "members-0-relation": "king"}
    assert client.post(reverse("casework:intake_start"), garbage).status_code == 400
    assert client.post(reverse("casework:intake_start"), {"members-TOTAL": "abc"}).status_code == 400
    assert client.post(reverse("casework:intake_start"), {"use_household": "abc"}).status_code == 404
    client.post(reverse("casework:intake_start"), _household_post(_three_members()))
    response = client.post(reverse("casework:intake_facts"), {
        "income-TOTAL": "2", "income-0-kind": "wage", "income-0-amount": "lots", "income-1-kind": "imputed_wage",
        "income-1-months": "-3", "assets-TOTAL": "1", "assets-0-kind": "gold", "expenses-TOTAL": "x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-path="income[0].amount"' in page and 'value="lots"' in page
    client.post(reverse("casework:intake_facts"), {"income-TOTAL": "0", "assets-TOTAL": "0", "expenses-TOTAL": "0"})
    response = client.post(reverse("casework:intake_programmes"), {
        "programmes": ["nonsense"], "channel": "fax", "applicant": "r99", "truth_promise": "on"})
    assert response.status_code == 400


def test_adding_a_member_row_keeps_what_was_typed() -> None:
    staff = _staff()
    client = as_user(staff["worker"])
    data = _household_post(_three_members()[:1])
    data["add_row"] = "members"
    del data["next"]
    response = client.post(reverse("casework:intake_start"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="members-1-id_number"' in page and 'value="王大明"' in page
    assert 'name="members-TOTAL" value="2"' in page
    assert 'class="errorlist"' not in page


# -- every URL pattern of this side: another township answers 404 ---------------------------------------

OBJECT_PATTERNS = [p for p in application_urls.urlpatterns if "<int:pk>" in str(p.pattern)]
STEP_NAMES = {step.url_name for step in STEPS}


@pytest.mark.parametrize("pattern", OBJECT_PATTERNS, ids=lambda p: p.name)
def test_a_user_of_another_township_gets_404_on_every_url(pattern: Any) -> None:
    staff = _staff()
    state = State.REFUSED if pattern.name == "refusal_notice" else State.ENROLLED
    application = _advance(staff, _intake(staff), state)
    pk = application.intake_id if pattern.name.startswith(("intake", "missing_items")) else application.pk
    url = reverse(f"casework:{pattern.name}", args=[pk])
    client = as_user(staff["stranger"])
    response = client.post(url, {"reason": "x"}) if pattern.name in STEP_NAMES else client.get(url)
    assert response.status_code == 404
    assert application.household.number not in response.content.decode()
    assert as_user(staff["approver"]).get(url).status_code in (200, 405), "the same URL works inside the township"


def test_every_pattern_of_this_side_is_covered_by_the_loop() -> None:
    names = {p.name for p in application_urls.urlpatterns}
    assert names >= STEP_NAMES
    assert {p.name for p in OBJECT_PATTERNS} | {"intake_start", "intake_facts", "intake_programmes",
                                                "intake_reset"} == names


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_a_role_without_the_duty_gets_403_on_every_step(step: Any) -> None:
    staff = _staff()
    application = _intake(staff)
    response = as_user(staff["auditor"]).post(_url(step.url_name, application), {"reason": "x"})
    assert response.status_code == 403
    assert "may not" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.RECEIVED


@pytest.mark.parametrize("name", ["application_accept", "application_assess", "application_first_review",
                                  "application_decide", "application_enrol"])
def test_a_village_worker_may_not_take_township_steps(name: str) -> None:
    staff = _staff()
    application = _intake(staff)
    assert as_user(staff["worker"]).post(_url(name, application), {}).status_code == 403


def test_step_urls_answer_only_post() -> None:
    staff = _staff()
    application = _intake(staff)
    client = as_user(staff["approver"])
    for step in STEPS:
        assert client.get(_url(step.url_name, application)).status_code == 405


# -- each step by the right role ---------------------------------------------------------------------------

STEP_CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # step, state before, who, data, state after
    ("accept", State.RECEIVED, "officer", {"reason": ""}, State.ACCEPTED),
    ("investigate", State.ACCEPTED, "officer", {}, State.INVESTIGATING),
    ("first_review", State.ASSESSED, "officer", {"opinion": "approve", "reason": "符合条件"}, State.FIRST_REVIEW),
    ("objection", State.NOTICE, "worker", {"received_on": TODAY.isoformat(), "raised_by": "村民",
                                           "content": "有收入未申报"}, State.OBJECTION),
    ("decide", State.NOTICE, "approver", {"outcome": "approve", "reasons": "公示无异议"}, State.APPROVED),
    ("enrol", State.APPROVED, "officer", {}, State.ENROLLED),
    ("withdraw", State.ACCEPTED, "worker", {"reason": "申请人撤回"}, State.WITHDRAWN),
]


@pytest.mark.parametrize(("step", "before", "who", "data", "after"), STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_each_step_works_for_the_right_role(step: str, before: str, who: str, data: dict[str, Any],
                                            after: str) -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), before)
    client = as_user(staff[who])
    page = client.get(_url("application", application)).content.decode()
    assert f'id="form-{step}"' in page, f"{step} is offered to {who}"
    response = client.post(_url(f"application_{step}", application), {**data, "version": application.version})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == _url("application", application)
    application.refresh_from_db()
    assert application.state == after
    assert client.get(response["Location"]).status_code == 200


def test_the_visit_and_the_means_test_from_the_page() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.INVESTIGATING)
    client = as_user(staff["officer"])
    page = client.get(_url("application", application)).content.decode()
    assert 'id="form-visit"' in page and 'id="form-assess"' not in page, "no means test before the visit"
    response = client.post(_url("application_visit", application), {
        "visited_on": TODAY.isoformat(), "investigators": [staff["officer"].pk], "findings": "x",
        "signed_by_household": "王大明", "signed_on": TODAY.isoformat()})
    assert response.status_code == 400
    assert re.search(r'data-path="investigators">.*?at least two investigators', response.content.decode(), re.S)
    response = client.post(_url("application_visit", application), {
        "visited_on": TODAY.isoformat(), "investigators": [staff["officer"].pk, staff["worker"].pk],
        "findings": "家中无劳动力", "living_conditions": "土房两间", "signed_by_household": "王大明",
        "signed_on": TODAY.isoformat()})
    assert response.status_code == 302
    assert application.visits.get().investigators.count() == 2
    response = client.post(_url("application_assess", application), {"version": application.version})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.ASSESSED
    page = client.get(_url("application", application)).content.decode()
    assert 'id="explanation"' in page and 'id="declared-figures"' in page


def test_clock_stop_and_resume_from_the_page() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.ACCEPTED)
    client = as_user(staff["worker"])
    assert client.post(_url("application_clock_stop", application), {"reason": "缺少病历"}).status_code == 302
    application.refresh_from_db()
    assert application.clock_stopped
    page = client.get(_url("application", application)).content.decode()
    assert 'id="form-clock_resume"' in page and 'id="form-clock_stop"' not in page
    assert 'data-urgency="stopped"' in page
    assert client.post(_url("application_clock_resume", application), {}).status_code == 302
    application.refresh_from_db()
    assert not application.clock_stopped


def test_an_objection_is_resolved_and_then_decided() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.OBJECTION)
    client = as_user(staff["officer"])
    objection = application.objections.get()
    response = client.post(_url("application_objection_resolve", application), {
        "objection": objection.pk, "method": "appraisal", "outcome": "民主评议通过"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.RECHECK
    objection.refresh_from_db()
    assert objection.method == "appraisal" and objection.resolved_on == TODAY
    assert 'id="form-decide"' in as_user(staff["approver"]).get(_url("application", application)).content.decode()


# -- refused, illegal, forged, stale and malformed posts -------------------------------------------------

def test_an_illegal_transition_gives_a_clear_message_and_changes_nothing() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.ACCEPTED)
    version = application.version
    response = as_user(staff["officer"]).post(_url("application_accept", application), {})
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()
    application.refresh_from_db()
    assert (application.state, application.version) == (State.ACCEPTED, version)


def test_the_entering_user_sees_no_decide_form_and_a_forged_decision_is_refused() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff, by="approver"), State.NOTICE)
    client = as_user(staff["approver"])
    page = client.get(_url("application", application)).content.decode()
    assert 'id="form-decide"' not in page
    response = client.post(_url("application_decide", application), {"outcome": "approve", "reasons": "ok"})
    assert response.status_code == 403
    assert "entered this application" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.NOTICE and not application.decisions.exists()


def test_no_decide_form_while_the_notice_runs_and_a_forced_post_is_refused_with_the_date() -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.FIRST_REVIEW)
    services.notice_publish(by=staff["officer"], applications=[application], on=TODAY)
    client = as_user(staff["approver"])
    page = client.get(_url("application", application)).content.decode()
    assert 'id="form-decide"' not in page and "decide after it ends" in page
    response = client.post(_url("application_decide", application), {"outcome": "approve", "reasons": "ok"})
    assert response.status_code == 400 and "decide after it ends" in response.content.decode()


def test_a_page_changed_by_someone_else_answers_409_and_changes_nothing() -> None:
    staff = _staff()
    application = _intake(staff)
    seen = application.version
    services.accept(by=staff["officer2"], application=application)
    application.refresh_from_db()
    response = as_user(staff["officer"]).post(_url("application_withdraw", application),
                                              {"reason": "撤回", "version": seen})
    assert response.status_code == 409
    assert "reload" in response.content.decode().lower()
    application.refresh_from_db()
    assert application.state == State.ACCEPTED


GARBAGE: dict[str, Any] = {
    "version": "x", "visited_on": "2026-13-45", "signed_on": "yesterday", "investigators": ["abc", "-1"],
    "received_on": "0000-00-00", "opinion": "maybe", "outcome": "perhaps", "method": "dice", "objection": "abc",
    "reason": "", "reasons": "", "content": "", "findings": "",
}


PAYLOADS: list[dict[str, Any]] = [GARBAGE, {}, {"version": "99999999999999999999999"}, {"version": "-1"}]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_malformed_posts_never_give_500(step: Any) -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), State.OBJECTION)
    approver = as_user(staff["approver"])
    for payload in PAYLOADS:
        response = approver.post(_url(step.url_name, application), payload)
        assert response.status_code in (400, 403, 409), (payload, response.status_code)
        htmx = approver.post(_url(step.url_name, application), payload, HTTP_HX_REQUEST="true")
        assert htmx.status_code == response.status_code
        assert 'id="content"' in htmx.content.decode(), "htmx swaps the page in place"
    application.refresh_from_db()
    assert application.state == State.OBJECTION


# -- the page itself ------------------------------------------------------------------------------------------

def test_the_page_shows_timeline_assessment_declared_figures_and_decision_as_stored(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "zh-hans"  # the page as a township PC shows it
    staff = _staff()
    application = _advance(staff, _intake(staff), State.APPROVED)
    decision = application.decisions.get()
    client = as_user(staff["officer"])
    page = client.get(_url("application", application)).content.decode()
    assert page.count('<li data-to="') == 6
    assert "公示无异议" in page
    assert decision.explanation_zh[0] in page
    assert 'data-path="household.income[0]"' in page, "the land-transfer income was only declared"
    assert str(decision.monthly_amount) in page
    assert reverse("casework:certificate", args=[application.pk]) in page
    assert 'id="form-enrol"' in page and 'id="form-withdraw"' not in page
    client.cookies["django_language"] = "en"
    english = client.get(_url("application", application)).content.decode()
    assert decision.explanation_en[0] in english


def test_the_auditor_sees_the_page_without_any_form() -> None:
    staff = _staff()
    application = _intake(staff)
    page = as_user(staff["auditor"]).get(_url("application", application)).content.decode()
    assert 'id="no-actions"' in page and "<form method=\"post\" action=\"/work/applications" not in page


def test_a_relative_flag_is_shown() -> None:
    staff = _staff()
    application = _intake(staff)
    Application.objects.filter(pk=application.pk).update(relative_flag=True)
    page = as_user(staff["officer"]).get(_url("application", application)).content.decode()
    assert 'id="relative-flag"' in page


@pytest.mark.parametrize("state", [State.RECEIVED, State.NOTICE, State.ENROLLED])
def test_the_page_makes_a_bounded_number_of_queries(state: str, django_assert_max_num_queries: Any) -> None:
    staff = _staff()
    application = _advance(staff, _intake(staff), state)
    client = as_user(staff["approver"])
    client.get(_url("application", application))
    with django_assert_max_num_queries(40):
        assert client.get(_url("application", application)).status_code == 200
