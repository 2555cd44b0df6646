"""The findings list and the department catalogue pages."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.verification.models import Department, Finding, FindingStatus
from tests import factories as f
from tests.accounts.factories import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ITEMS = """- name: balance
  type: money
  description: {zh-hans: 公积金余额, en: Provident fund balance}
  fact: asset.deposit
"""


def _finding(household, kind: str = "illness_warning") -> Finding:  # type: ignore[no-untyped-def]
    return Finding.objects.create(kind=kind, key=f"{kind}:{household.pk}", household=household,
                                  area_code=household.area_id, detail={"claims": "3"}, amount="25000.00",
                                  found_on=dt.date(2026, 11, 25))


def test_the_township_sees_its_findings_and_dismisses_one_with_a_reason() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    mine = _finding(f.poor_family())
    other = _finding(f.poor_family(f.OTHER_VILLAGE))
    client = staff_client(officer)
    page = client.get("/verification/centre/findings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert mine.household.number in page and "illness warning" in page
    assert other.household.number not in page
    refused = client.post(f"/verification/centre/findings/{mine.pk}/dismiss/", {"reason": " "})
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    done = client.post(f"/verification/centre/findings/{mine.pk}/dismiss/", {"reason": "已核实为一次性住院"})
    assert done.status_code == 302
    mine.refresh_from_db()
    assert mine.status == FindingStatus.DISMISSED and mine.handled_by == officer
    assert AuditEntry.objects.get(action="verification.finding_handle").reason == "已核实为一次性住院"
    assert client.post(f"/verification/centre/findings/{other.pk}/dismiss/", {"reason": "x"}).status_code == 404


def test_a_bad_filter_is_an_error_on_the_page_not_a_crash() -> None:
    f.county_tree()
    client = staff_client(f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP))
    response = client.get("/verification/centre/findings/?kind=nonsense")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_a_discovered_household_can_be_started_as_an_application() -> None:
    f.county_tree()
    worker = f.user(Role.VILLAGE_WORKER, f.VILLAGE)
    household = f.poor_family()
    _finding(household, "discovery")
    page = staff_client(worker).get("/verification/centre/findings/").content.decode()
    assert f'name="use_household" value="{household.pk}"' in page
    assert "Dismiss" not in page  # a village worker reviews nothing


def test_a_county_admin_adds_a_department_without_code_and_bad_items_are_named() -> None:
    f.county_tree()
    admin = f.user(Role.COUNTY_ADMIN, f.COUNTY)
    client = staff_client(admin)
    form = {"code": "housing_fund", "name_zh": "住房公积金中心", "name_en": "Housing provident fund",
            "legal_basis": "《最低生活保障审核确认办法》第二十条", "exchange_format": "csv", "answer_working_days": "5",
            "asks_about": "adults", "items": ITEMS.replace("money", "cash")}
    bad = client.post("/verification/centre/departments/add/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    assert "items[0].type: must be one of text, number, date, money, not &#x27;cash&#x27;" in bad.content.decode()
    in_chinese = client.post("/verification/centre/departments/add/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "items[0].type: 应为 text, number, date, money 之一，而不是 &#x27;cash&#x27;" in in_chinese.content.decode()
    assert not Department.objects.filter(code="housing_fund").exists()
    good = client.post("/verification/centre/departments/add/", {**form, "items": ITEMS})
    assert good.status_code == 302
    added = Department.objects.get(code="housing_fund")
    assert added.items[0]["fact"] == "asset.deposit" and added.answer_working_days == 5
    assert AuditEntry.objects.filter(action="verification.department_create", object_id=str(added.pk)).exists()
    listed = client.get("/verification/centre/departments/").content.decode()
    assert "Housing provident fund" in listed or "住房公积金中心" in listed


def test_only_a_county_admin_edits_the_catalogue() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    client = staff_client(officer)
    assert client.get("/verification/centre/departments/banks/").status_code == 403
    assert "Add a department" not in client.get("/verification/centre/departments/",
                                                HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_morning_queue_shows_the_night_s_illness_warnings() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    client = staff_client(officer)
    assert 'id="verification-alerts"' not in client.get("/work/").content.decode()
    _finding(f.poor_family())
    page = client.get("/work/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="verification-alerts"' in page and "illness warning: high medical costs: 1" in page


def test_an_online_department_needs_its_address_id_and_a_real_key() -> None:
    from jiuzhu.dci import envelope

    f.county_tree()
    client = staff_client(f.user(Role.COUNTY_ADMIN, f.COUNTY))
    form = {"name_zh": "民政局", "name_en": "Civil affairs", "legal_basis": "《社会救助暂行办法》第十一条",
            "exchange_format": "csv", "answer_working_days": "10", "asks_about": "members",
            "items": ITEMS}
    half = client.post("/verification/centre/departments/civil_affairs/", {**form, "dci_url": "https://x.example/dci"})
    assert half.status_code == 400 and "needs its DCI address, sender id and public key" in half.content.decode()
    bad_key = client.post("/verification/centre/departments/civil_affairs/", {
        **form, "dci_url": "https://x.example/dci", "dci_server_id": "ca-220881", "dci_public_key": "nonsense"})
    assert bad_key.status_code == 400 and "not an Ed25519 public key" in bad_key.content.decode()
    key = envelope.public_key_pem(envelope.generate_private_key().public_key())
    good = client.post("/verification/centre/departments/civil_affairs/", {
        **form, "dci_url": "https://x.example/dci", "dci_server_id": "ca-220881", "dci_public_key": key})
    assert good.status_code == 302
    saved = Department.objects.get(code="civil_affairs")
    assert (saved.dci_url, saved.dci_server_id) == ("https://x.example/dci", "ca-220881")
