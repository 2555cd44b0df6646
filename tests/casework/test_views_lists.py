"""The list side of the staff app: work queue, household file, notices, overdue report,
relatives register and reviews, driven through the pages as a browser would."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts.decorators import needs_two_factor
from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, ChangeReport, Notice, Objection, RelativeDeclaration, State
from jiuzhu.registry.models import Household, IncomeRecord, Person, SensitiveView, Source
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MONDAY = dt.date(2026, 11, 2)


def signed_in(user: User) -> Client:
    """A client signed in as `user`, the second factor confirmed where the role needs it."""
    client = Client()
    client.force_login(user)
    if needs_two_factor(user):
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def staff() -> dict[str, User]:
    f.county_tree()
    return {
        "worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE),
        "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "approver": f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP),
        "county": f.user(Role.COUNTY_SUPERVISOR, f.COUNTY),
        "admin": f.user(Role.COUNTY_ADMIN, f.COUNTY),
        "auditor": f.user(Role.AUDITOR, f.COUNTY),
    }


def family(village: str = f.VILLAGE, size: int = 3, surname: str = "王") -> Household:
    """A household of `size` members: head, spouse, then children (minors) and grandparents."""
    members = [(f.person(f"{surname}大明", dt.date(1970, 3, 1), "male"), "head"),
               (f.person(f"李{surname}兰", dt.date(1972, 5, 1), "female"), "spouse")][:size]
    for i in range(size - len(members)):
        if i % 2 == 0:
            members.append((f.person(f"{surname}小{i}", dt.date(2012 + i % 5, 1, 1), "male"), "child"))
        else:
            members.append((f.person(f"{surname}老{i}", dt.date(1945, 1, 1), "female"), "grandparent"))
    household = f.household(village, members)
    IncomeRecord.objects.create(household=household, kind="land_transfer", amount=Decimal("3200"),
                                source=Source.DECLARED)
    return household


def apply(household: Household, by: User, programmes: tuple[str, ...] = ("dibao",)) -> list[Application]:
    members = list(household.memberships.select_related("person"))
    consents = [services.ConsentData(m.person, signature="签名") for m in members if m.person.age_on(MONDAY) >= 18]
    head = next(m.person for m in members if m.relation == "head")
    intake = services.intake_submit(by=by, household=household, applicant=head, programmes=list(programmes),
                                    channel="village", consents=consents, truth_promise=True, on=MONDAY)
    return list(intake.applications.order_by("pk"))


def to_first_review(s: dict[str, User], application: Application, second: User | None = None) -> Application:
    services.accept(by=s["officer"], application=application, on=MONDAY)
    services.investigation_start(by=s["officer"], application=application, on=MONDAY)
    services.visit_record(by=s["officer"], application=application, visited_on=dt.date(2026, 11, 3),
                          investigators=[s["officer"], second or s["worker"]], findings="家中无劳动力",
                          signed_by_household="王大明", signed_on=dt.date(2026, 11, 3))
    services.assess(by=s["officer"], application=application, on=dt.date(2026, 11, 4))
    services.first_review(by=s["officer"], application=application, opinion="approve", reason="符合条件",
                          on=dt.date(2026, 11, 4))
    application.refresh_from_db()
    return application


def rows_of(html: str) -> list[tuple[str, int]]:
    return [(level, int(pk)) for level, pk in re.findall(r'<tr class="urgency-(\w+)" data-application="(\d+)"', html)]


def set_deadline(application: Application, due: dt.date | None, **extra: object) -> None:
    Application.objects.filter(pk=application.pk).update(step_deadline=due, accepted_on=MONDAY, state=State.ACCEPTED,
                                                         **extra)


# -- work queue ---------------------------------------------------------------------------

def test_the_queue_lists_the_nearest_deadline_first_with_a_coloured_and_worded_badge() -> None:
    s = staff()
    today = timezone.localdate()
    late, soon, later, stopped, fresh = (apply(family(surname=n), s["worker"])[0] for n in "赵钱孙李周")
    set_deadline(later, today + dt.timedelta(days=60), step_deadline_provisional=True)
    set_deadline(soon, today + dt.timedelta(days=1))
    set_deadline(late, today - dt.timedelta(days=7))
    set_deadline(stopped, today - dt.timedelta(days=30), clock_stopped=True)

    response = signed_in(s["officer"]).get(reverse("casework:queue"))

    assert response.status_code == 200
    assert rows_of(response.content.decode()) == [("overdue", late.pk), ("due_soon", soon.pk),
                                                   ("on_time", later.pk), ("stopped", stopped.pk), ("none", fresh.pk)]
    html = response.content.decode()
    assert 'class="badge badge-overdue"' in html
    later_row = html[html.index(f'data-application="{later.pk}"'):]
    later_row = later_row[:later_row.index("</tr>")]
    assert "badge-on_time" in later_row and "badge-provisional" in later_row
    assert "badge-provisional" not in html[html.index(f'data-application="{late.pk}"'):
                                           html.index(f'data-application="{soon.pk}"')]


def test_the_queue_filters_by_state_and_programme_and_rejects_unknown_values_without_crashing() -> None:
    s = staff()
    dibao, temporary = apply(family(), s["worker"], ("dibao", "temporary_expenditure"))
    client = signed_in(s["officer"])
    shown = rows_of(client.get(reverse("casework:queue"), {"programme": "temporary_expenditure"}).content.decode())
    assert [pk for _level, pk in shown] == [temporary.pk]
    set_deadline(dibao, timezone.localdate())
    shown = rows_of(client.get(reverse("casework:queue"), {"state": "accepted"}).content.decode())
    assert [pk for _level, pk in shown] == [dibao.pk]
    assert client.get(reverse("casework:queue"), {"state": "nonsense", "programme": "<x>"}).status_code == 400


def test_the_queue_shows_only_the_users_area() -> None:
    s = staff()
    mine = apply(family(), s["worker"])[0]
    other_worker = f.user(Role.VILLAGE_WORKER, f.OTHER_VILLAGE)
    theirs = apply(family(f.OTHER_VILLAGE, surname="钟"), other_worker)[0]
    shown = {pk for _level, pk in rows_of(signed_in(s["officer"]).get(reverse("casework:queue")).content.decode())}
    assert mine.pk in shown and theirs.pk not in shown


# -- overdue -----------------------------------------------------------------------------

def test_overdue_applications_are_counted_per_township() -> None:
    s = staff()
    today = timezone.localdate()
    other_worker = f.user(Role.VILLAGE_WORKER, f.OTHER_VILLAGE)
    a1, a2, a3 = (apply(family(surname=n), s["worker"])[0] for n in "赵钱孙")
    b1 = apply(family(f.OTHER_VILLAGE, surname="钟"), other_worker)[0]
    for application in (a1, a2, b1):
        set_deadline(application, today - dt.timedelta(days=10))
    set_deadline(a3, today + dt.timedelta(days=20))

    response = signed_in(s["county"]).get(reverse("casework:overdue"))
    counts = {row.township.code: (row.overdue, row.open) for row in response.context["rows"]}
    assert counts == {f.TOWNSHIP: (2, 3), f.OTHER_TOWNSHIP: (1, 1)}
    listed = {a.pk for a, _urgency in response.context["listed"]}
    assert listed == {a1.pk, a2.pk, b1.pk}

    one = signed_in(s["county"]).get(reverse("casework:overdue"), {"township": f.OTHER_TOWNSHIP})
    assert {a.pk for a, _urgency in one.context["listed"]} == {b1.pk}
    township_view = signed_in(s["officer"]).get(reverse("casework:overdue"))
    assert [row.township.code for row in township_view.context["rows"]] == [f.TOWNSHIP]
    assert signed_in(s["officer"]).get(reverse("casework:overdue"), {"township": "x' OR 1"}).status_code == 200


# -- household file --------------------------------------------------------------------

def _busy_household(s: dict[str, User], size: int, surname: str) -> Household:
    household = family(size=size, surname=surname)
    first, *_rest = apply(household, s["worker"], ("dibao", "temporary_expenditure", "housing_renovation"))
    services.accept(by=s["officer"], application=first, on=MONDAY)
    for member in household.memberships.select_related("person"):
        IncomeRecord.objects.create(household=household, person=member.person, kind="wage", amount=Decimal("100"),
                                    source=Source.VERIFIED)
    return household


def test_the_household_page_makes_a_bounded_number_of_queries_whatever_the_size(
        django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    s = staff()
    small, big = _busy_household(s, 2, "赵"), _busy_household(s, 8, "钱")
    client = signed_in(s["officer"])
    client.get(reverse("casework:household", args=[small.pk]))  # warm caches (catalogue, calendar)
    counts = []
    for household in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("casework:household", args=[household.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(20):
        client.get(reverse("casework:household", args=[big.pk]))


def test_the_household_page_masks_numbers_and_shows_members_facts_applications_and_history(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "zh-hans"  # the page as a township PC shows it
    s = staff()
    household = _busy_household(s, 3, "王")
    Household.objects.filter(pk=household.pk).update(bank_account="6228480012345678901")
    head = household.memberships.get(relation="head").person
    Person.objects.filter(pk=head.pk).update(phone="13912345678")
    IncomeRecord.objects.filter(household=household, person__isnull=True).update(superseded=True)

    html = signed_in(s["officer"]).get(reverse("casework:household", args=[household.pk])).content.decode()

    assert head.name in html and "李王兰" in html
    assert head.id_number not in html and head.id_number[-4:] in html
    assert "13912345678" not in html and "139****5678" in html
    assert "6228480012345678901" not in html and "8901" in html
    assert 'class="superseded"' in html
    assert "housing_renovation" not in html or "住房" in html  # programmes by name
    assert 'id="history"' in html and "household.create" not in html


def test_pressing_show_logs_a_sensitive_view_and_an_audit_entry_and_returns_the_value() -> None:
    s = staff()
    household = family()
    head = household.memberships.get(relation="head").person
    client = signed_in(s["officer"])
    url = reverse("registry:show_sensitive", args=["person", head.pk, "id_number"])

    response = client.post(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert head.id_number in response.content.decode()
    assert "<html" not in response.content.decode()
    view = SensitiveView.objects.get()
    assert (view.user, view.person, view.field) == (s["officer"], head, "id_number")
    entry = AuditEntry.objects.filter(action="sensitive.show").get()
    assert (entry.object_type, entry.object_id, entry.actor_id) == ("registry.person", str(head.pk), s["officer"].pk)
    assert response["Cache-Control"] == "no-store"


def test_show_without_javascript_gives_a_page_and_refuses_roles_and_fields_it_should() -> None:
    s = staff()
    household = family()
    Household.objects.filter(pk=household.pk).update(bank_account="6228480012345678901")
    response = signed_in(s["officer"]).post(
        reverse("registry:show_sensitive", args=["household", household.pk, "bank_account"]),
        {"next": "https://evil.example/"})
    assert response.status_code == 200 and "6228480012345678901" in response.content.decode()
    assert "evil.example" not in response.content.decode()
    assert signed_in(s["auditor"]).post(
        reverse("registry:show_sensitive", args=["household", household.pk, "bank_account"])).status_code == 403
    assert signed_in(s["officer"]).post(
        reverse("registry:show_sensitive", args=["household", household.pk, "address"])).status_code == 404
    assert signed_in(s["officer"]).get(
        reverse("registry:show_sensitive", args=["household", household.pk, "bank_account"])).status_code == 405
    assert SensitiveView.objects.count() == 1


def test_a_stale_household_edit_answers_409_and_overwrites_nothing() -> None:
    s = staff()
    household = family()
    client = signed_in(s["officer"])
    page = client.get(reverse("casework:household", args=[household.pk]))
    version = page.context["edit_form"].initial["version"]
    client.post(reverse("casework:household_edit", args=[household.pk]),
                {"edit-address": "永胜村5组", "edit-area_type": "rural", "edit-version": version})

    response = client.post(reverse("casework:household_edit", args=[household.pk]),
                           {"edit-address": "别的地址", "edit-area_type": "urban", "edit-version": version})

    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="stale"' in html and "别的地址" in html  # the message, and what was typed is kept
    household.refresh_from_db()
    assert (household.address, household.area_type, household.version) == ("永胜村5组", "rural", version + 1)


def test_an_edit_with_the_current_version_is_saved_and_audited() -> None:
    s = staff()
    household = family()
    response = signed_in(s["officer"]).post(
        reverse("casework:household_edit", args=[household.pk]),
        {"edit-address": "永胜村7组", "edit-area_type": "rural", "edit-version": household.version,
         "edit-reason": "搬家"})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.address == "永胜村7组"
    assert AuditEntry.objects.filter(action="household.update", object_id=str(household.pk)).exists()
    history = signed_in(s["officer"]).get(reverse("casework:household", args=[household.pk])).context["history"]
    assert any(e.action == "household.update" for e in history)


def test_recording_a_death_ends_the_membership_and_files_a_change_report() -> None:
    s = staff()
    household = family()
    spouse = household.memberships.get(relation="spouse")
    response = signed_in(s["officer"]).post(reverse("casework:household_death", args=[household.pk]),
                                            {"death-member": spouse.pk, "death-on": "2026-11-20"})
    assert response.status_code == 302
    spouse.refresh_from_db()
    assert spouse.end == dt.date(2026, 11, 20)
    assert Person.objects.get(pk=spouse.person_id).death_date == dt.date(2026, 11, 20)
    assert ChangeReport.objects.get(household=household).kind == "death"


def test_a_death_in_the_future_is_refused_beside_the_field() -> None:
    s = staff()
    household = family()
    spouse = household.memberships.get(relation="spouse")
    response = signed_in(s["officer"]).post(reverse("casework:household_death", args=[household.pk]),
                                            {"death-member": spouse.pk, "death-on": "2099-01-01"})
    assert response.status_code == 400
    assert response.context["death_form"].errors["on"]
    assert Person.objects.get(pk=spouse.person_id).death_date is None


def test_an_auditor_sees_the_file_but_may_not_change_it() -> None:
    s = staff()
    household = family()
    client = signed_in(s["auditor"])
    page = client.get(reverse("casework:household", args=[household.pk]))
    assert page.status_code == 200 and not page.context["can_edit"]
    assert client.post(reverse("casework:household_edit", args=[household.pk]),
                       {"edit-address": "x", "edit-area_type": "rural", "edit-version": 1}).status_code == 403


# -- notices ------------------------------------------------------------------------------

def _published(s: dict[str, User]) -> tuple[Household, Application, Notice]:
    household = family()
    Household.objects.filter(pk=household.pk).update(address="永胜村3组88号")
    application = to_first_review(s, apply(household, s["worker"])[0])
    response = signed_in(s["officer"]).post(reverse("casework:notice_publish"),
                                            {"applications": [application.pk], "village": f.VILLAGE})
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notice.objects.get()
    application.refresh_from_db()
    assert application.state == State.NOTICE
    return household, application, notice


def test_the_notice_page_groups_the_ready_applications_by_village() -> None:
    s = staff()
    application = to_first_review(s, apply(family(), s["worker"])[0])
    response = signed_in(s["officer"]).get(reverse("casework:notices"))
    villages = response.context["villages"]
    assert [(v.code, [a.pk for a in apps]) for v, apps in villages] == [(f.VILLAGE, [application.pk])]


def test_the_printed_notice_shows_the_masked_name_size_and_amount_and_nothing_else() -> None:
    s = staff()
    household, _application, notice = _published(s)
    head = household.memberships.get(relation="head").person
    entry = notice.entries.get()

    html = signed_in(s["worker"]).get(reverse("casework:notice_print", args=[notice.pk])).content.decode()

    assert "王*明" in html and f"<td class=\"num\">{entry.household_size}</td>" in html
    assert f"{entry.monthly_amount:.2f}" in html
    assert head.name not in html and "李王兰" not in html
    for member in household.memberships.select_related("person"):
        assert member.person.id_number not in html
        assert member.person.id_number[-4:] not in html
    assert "永胜村3组" not in html and household.number not in html
    assert "Noto Sans CJK SC" in html and notice.ends_on.isoformat() in html


def test_an_objection_is_recorded_against_an_entry_of_the_notice() -> None:
    s = staff()
    _household, application, notice = _published(s)
    entry = notice.entries.get()
    client = signed_in(s["officer"])
    bad = client.post(reverse("casework:notice_objection", args=[notice.pk]),
                      {"entry": entry.pk, "content": "", "received_on": "2026-11-06"})
    assert bad.status_code == 400 and bad.context["form"].errors["content"]
    response = client.post(reverse("casework:notice_objection", args=[notice.pk]),
                           {"entry": entry.pk, "content": "家里有车", "raised_by": "村民",
                            "received_on": "2026-11-06"})
    assert response.status_code == 302
    objection = Objection.objects.get()
    assert (objection.application_id, objection.notice_entry_id, objection.content) == (application.pk, entry.pk,
                                                                                         "家里有车")
    application.refresh_from_db()
    assert application.state == State.OBJECTION


def test_publishing_applications_of_two_villages_is_refused_with_the_reason() -> None:
    s = staff()
    f.area("220882100202", "新发村")
    first = to_first_review(s, apply(family(), s["worker"])[0])
    other_worker = f.user(Role.VILLAGE_WORKER, "220882100202")
    second = to_first_review(s, apply(family("220882100202", surname="钱"), other_worker)[0], other_worker)
    response = signed_in(s["officer"]).post(reverse("casework:notice_publish"),
                                            {"applications": [first.pk, second.pk]})
    assert response.status_code == 400
    assert "one village" in response.content.decode() or "一个村" in response.content.decode()
    assert not Notice.objects.exists()


# -- relatives and reviews ---------------------------------------------------------------

def test_a_relative_is_declared_on_the_page_and_their_household_is_flagged() -> None:
    s = staff()
    household = family()
    application = apply(household, s["worker"])[0]
    head = household.memberships.get(relation="head").person
    client = signed_in(s["officer"])
    response = client.post(reverse("casework:relatives"), {
        "relative-declarant": s["officer"].pk, "relative-declarant_post": "乡镇干部", "relative-area": f.TOWNSHIP,
        "relative-relative_name": head.name, "relative-relative_id_number": head.id_number.lower(),
        "relative-relation": "兄弟"})
    assert response.status_code == 302
    declaration = RelativeDeclaration.objects.get()
    assert declaration.declarant_name == s["officer"].first_name
    application.refresh_from_db()
    assert application.relative_flag
    html = client.get(reverse("casework:relatives")).content.decode()
    assert head.id_number not in html and "flagged" in html
    assert application.pk in [a.pk for a in client.get(reverse("casework:relatives")).context["flagged"]]


def test_a_bad_declaration_keeps_what_was_typed_and_names_the_fields() -> None:
    s = staff()
    response = signed_in(s["officer"]).post(reverse("casework:relatives"), {
        "relative-declarant_post": "村主任", "relative-area": f.VILLAGE, "relative-relative_name": "张三",
        "relative-relative_id_number": "123", "relative-relation": "父子"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"declarant_name", "relative_id_number"} or "declarant_name" in form.errors
    assert "张三" in response.content.decode()
    assert not RelativeDeclaration.objects.exists()


def test_the_reviews_page_lists_enrolments_due() -> None:
    s = staff()
    household, application, notice = _published(s)
    after = notice.ends_on + dt.timedelta(days=1)
    services.decide(by=s["approver"], application=application, approve=True, reasons="公示无异议", on=after)
    enrolment = services.enrol(by=s["officer"], application=application, on=after)
    assert not signed_in(s["officer"]).get(reverse("casework:reviews")).context["page"].object_list
    type(enrolment).objects.filter(pk=enrolment.pk).update(review_due=timezone.localdate() + dt.timedelta(days=3))
    response = signed_in(s["officer"]).get(reverse("casework:reviews"))
    assert [e.pk for e in response.context["page"]] == [enrolment.pk]
    assert household.number in response.content.decode()


# -- bad input ----------------------------------------------------------------------------

GARBAGE = [
    {},
    {"x": "1"},
    {"edit-version": "abc", "edit-area_type": "mars", "edit-address": "x" * 5000},
    {"edit-version": "-3", "edit-area_type": "rural"},
    {"death-member": "999999", "death-on": "2026-13-45"},
    {"death-member": "abc", "death-on": "yesterday"},
    {"change-kind": "<script>", "change-occurred_on": "0000-00-00", "change-description": ""},
    {"applications": ["abc", "-1", "99999999999999999999"]},
    {"entry": "nan", "content": "x", "received_on": "9999-99-99"},
    {"relative-declarant": "x", "relative-area": "'; DROP TABLE", "relative-relative_id_number": "1" * 100},
    {"day-date": "2026-02-30", "day-kind": "maybe"},
    {"enter-year": "99999", "enter-holidays": "garbage\n2027-01-01..2026-01-01", "enter-source": ""},
]


def test_malformed_posts_never_give_a_server_error() -> None:
    s = staff()
    household, _application, notice = _published(s)
    person = household.memberships.first().person  # type: ignore[union-attr]
    client = signed_in(s["county"])
    urls = [reverse("casework:household_edit", args=[household.pk]),
            reverse("casework:household_death", args=[household.pk]),
            reverse("casework:household_change", args=[household.pk]),
            reverse("casework:notice_publish"), reverse("casework:notice_objection", args=[notice.pk]),
            reverse("casework:relatives"), reverse("registry:show_sensitive", args=["person", person.pk, "x"]),
            reverse("areas:calendar_day"), reverse("areas:calendar_year")]
    for url in urls:
        for data in GARBAGE:
            response = client.post(url, data)
            assert response.status_code < 500, (url, data, response.status_code)
    for url, query in [(reverse("casework:queue"), {"state": ["a", "b"], "programme": "\x00"}),
                       (reverse("casework:overdue"), {"township": "\x00", "page": "-1"}),
                       (reverse("casework:notices"), {"page": "abc"}),
                       (reverse("casework:reviews"), {"page": "99999"}),
                       (reverse("casework:relatives"), {"page": "x"}),
                       (reverse("registry:search"), {"q": "x" * 500, "area": "nowhere"}),
                       (reverse("areas:calendar"), {"year": "MMXXVII"})]:
        assert client.get(url, query).status_code < 500, (url, query)
    assert client.post(reverse("registry:search"), {"q": "x" * 500, "area": "nowhere"}).status_code == 400
