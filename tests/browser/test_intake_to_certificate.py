"""The whole procedure in a real browser, as the county's staff do it: a village worker's intake,
the township's acceptance, visit, means test and first review, the village notice, and
the decision by an approver who did not enter the case, up to the certificate.

In Chinese, then a shorter run in English. Each step leaves a screenshot in
test-artifacts/intake_flow/ for the people who review the pages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, Decision, Notice
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "intake_flow"
PASSWORD = "Jiuzhu-test-2026"


class Camera:
    """Numbered full-page screenshots: 01_login.png, 02_household.png, ..."""

    def __init__(self, page: Page, prefix: str = "") -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page, self.prefix, self.count = page, prefix, 0

    def shot(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(SHOTS / f"{self.prefix}{self.count:02d}_{step}.png"), full_page=True)


def sign_in(page: Page, live_server: LiveServer, user: User, device: TOTPDevice | None = None) -> None:
    page.goto(live_server.url + reverse("accounts:login"))
    page.locator('[name="username"]').fill(user.username)
    page.locator('[name="password"]').fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if device is not None:
        expect(page.locator('[name="code"]')).to_be_visible()
        page.locator('[name="code"]').fill(f"{totp(device.bin_key):06d}")
        page.locator("main form button[type=submit]").click()
    expect(page.locator("form.logout")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("form.logout button").click()
    expect(page.locator('[name="username"]')).to_be_visible()


def fill_member(page: Page, index: int, id_number: str, name: str, relation: str) -> None:
    page.locator(f'[name="members-{index}-id_number"]').fill(id_number)
    page.locator(f'[name="members-{index}-name"]').fill(name)
    page.locator(f'[name="members-{index}-relation"]').select_option(relation)


def step(page: Page, name: str) -> None:
    """Press the submit button of one action form and wait for the page to come back."""
    with page.expect_response(lambda r: r.request.method == "POST" and f"/{name}/" in r.url):
        page.locator(f'form[data-step][action$="/{name}/"] button[type=submit]').click()


def expect_state(page: Page, state: str) -> None:
    expect(page.locator("#app-state")).to_have_attribute("data-state", state)


def _staff() -> dict[str, Any]:
    f.county_tree()
    approver = f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP, username="shenpi")
    device = TOTPDevice.objects.create(user=approver, name="phone", confirmed=True)
    return {"worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE, username="cunyuan"),
            "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP, username="xiangzhen"),
            "approver": approver, "device": device}


def test_intake_to_certificate_in_chinese(page: Page, live_server: LiveServer, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    staff = _staff()
    today = services.today()
    camera = Camera(page)

    # A village worker takes the application of a new household of three.
    sign_in(page, live_server, staff["worker"])
    camera.shot("worker_signed_in")
    page.goto(live_server.url + reverse("casework:intake_start"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    fill_member(page, 0, f.id_number(dt.date(1970, 3, 1), "male"), "王大明", "head")
    fill_member(page, 1, f.id_number(dt.date(1972, 5, 1), "female"), "李秀兰", "spouse")
    fill_member(page, 2, f.id_number(dt.date(2015, 1, 1), "male"), "王小明", "child")
    page.locator('[name="address"]').fill("永胜村3组")
    camera.shot("intake_household")
    page.locator("#household-form button.primary").click()

    expect(page.locator("#facts-form")).to_be_visible()
    page.locator('[name="income-0-kind"]').select_option("land_transfer")
    page.locator('[name="income-0-amount"]').fill("3200")
    page.locator('[name="assets-0-kind"]').select_option("deposit")
    page.locator('[name="assets-0-value"]').fill("1500")
    camera.shot("intake_facts")
    page.locator("#facts-form button.primary").click()

    expect(page.locator("#programmes-form")).to_be_visible()
    page.locator('[name="programmes"][value="dibao"]').check()
    page.locator('[name="programmes"][value="temporary_expenditure"]').check()
    page.locator('[name="signature_r0"]').fill("王大明")
    scan = tmp_path / "consent.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    page.locator('[name="scan_r1"]').set_input_files(str(scan))
    page.locator('[name="truth_promise"]').check()
    page.locator('[name="missing_items"]').fill("户口簿复印件\n残疾证")
    camera.shot("intake_programmes")
    page.locator("#programmes-form button.primary").click()

    expect(page.locator("#applications li")).to_have_count(2)
    camera.shot("intake_summary")
    page.locator("#slip-link").click()
    expect(page.locator("#missing-items li")).to_have_text(["户口簿复印件", "残疾证"])
    expect(page.locator("#print-button")).to_be_visible()
    camera.shot("missing_items_slip")
    application = Application.objects.get(programme="dibao")
    app_url = live_server.url + reverse("casework:application", args=[application.pk])
    page.goto(app_url)
    expect(page.locator("#form-accept")).to_have_count(0)  # the village does not accept
    sign_out(page)

    # The township officer accepts, investigates, visits, runs the means test and gives the opinion.
    sign_in(page, live_server, staff["officer"])
    page.goto(app_url)
    expect_state(page, "received")
    camera.shot("officer_application")
    step(page, "accept")
    expect_state(page, "accepted")
    expect(page.locator("#step-deadline .badge").first).to_be_visible()
    camera.shot("accepted")
    step(page, "investigate")
    expect_state(page, "investigating")
    visit = page.locator("#form-visit")
    visit.locator('[name="visited_on"]').fill(today.isoformat())
    visit.locator(f'[name="investigators"][value="{staff["officer"].pk}"]').check()
    visit.locator(f'[name="investigators"][value="{staff["worker"].pk}"]').check()
    visit.locator('[name="findings"]').fill("家中无劳动力，收入仅土地流转")
    visit.locator('[name="living_conditions"]').fill("土房两间")
    visit.locator('[name="signed_by_household"]').fill("王大明")
    visit.locator('[name="signed_on"]').fill(today.isoformat())
    camera.shot("visit_form")
    step(page, "visit")
    expect(page.locator(".visit")).to_have_count(1)
    step(page, "assess")
    expect_state(page, "assessed")
    expect(page.locator("#explanation li").first).to_be_visible()
    expect(page.locator("#declared-figures")).to_be_visible()
    camera.shot("means_test")
    review = page.locator("#form-first_review")
    review.locator('[name="opinion"][value="approve"]').check()
    review.locator('[name="reason"]').fill("人均收入低于保障标准，符合条件")
    step(page, "first-review")
    expect_state(page, "first_review")
    camera.shot("first_review")
    publish_notice(page, live_server, staff["officer"], application)
    camera.shot("notice_published")
    application.refresh_from_db()
    assert application.state == "notice"
    sign_out(page)

    # Seven days pass without objection.
    Notice.objects.update(published_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=3))

    # An approver who did not enter or accept the case decides, with the second factor.
    sign_in(page, live_server, staff["approver"], staff["device"])
    page.goto(app_url)
    expect_state(page, "notice")
    decide = page.locator("#form-decide")
    decide.locator('[name="outcome"][value="approve"]').check()
    decide.locator('[name="reasons"]').fill("公示期满无异议，予以批准")
    camera.shot("decide_form")
    step(page, "decide")
    expect_state(page, "approved")
    camera.shot("approved")
    step(page, "enrol")
    expect_state(page, "enrolled")
    camera.shot("enrolled")
    page.locator("#certificate-link").click()
    decision = Decision.objects.get(application=application)
    expect(page.locator("#monthly-amount")).to_have_text(str(decision.monthly_amount))
    expect(page.locator("#head-name")).to_have_text("王大明")
    assert decision.monthly_amount > 0
    camera.shot("certificate")


def publish_notice(page: Page, live_server: LiveServer, by: User, application: Application) -> None:
    """Through the notices page when it exists; otherwise (page not built yet) through the service."""
    try:
        url = reverse("casework:notices")
    except NoReverseMatch:
        services.notice_publish(by=by, applications=[application])
        return
    page.goto(live_server.url + url)
    form = page.locator("form", has=page.locator(f'input[name="applications"][value="{application.pk}"]'))
    form.locator(f'input[name="applications"][value="{application.pk}"]').check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_intake_and_application_page_in_english(page: Page, live_server: LiveServer) -> None:
    staff = _staff()
    camera = Camera(page, prefix="en_")
    sign_in(page, live_server, staff["worker"])
    page.goto(live_server.url + reverse("casework:intake_start"))
    page.locator('.language-switch button[value="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Intake")
    fill_member(page, 0, f.id_number(dt.date(1950, 7, 1), "female"), "张桂芝", "head")
    page.locator("#household-form button.primary").click()
    page.locator('[name="income-0-kind"]').select_option("pension")
    page.locator('[name="income-0-amount"]').fill("1200")
    camera.shot("facts")
    page.locator("#facts-form button.primary").click()
    page.locator('[name="programmes"][value="dibao"]').check()
    page.locator('[name="signature_r0"]').fill("张桂芝")
    page.locator('[name="truth_promise"]').check()
    camera.shot("programmes")
    page.locator("#programmes-form button.primary").click()
    expect(page.locator("#applications li")).to_have_count(1)
    camera.shot("summary")
    page.locator("#applications a").first.click()
    expect(page.locator("h1")).to_contain_text("Minimum living allowance")
    expect_state(page, "received")
    expect(page.locator("#timeline")).to_contain_text("received")
    camera.shot("application")

    # A village worker's phone: the page reflows to one column, nothing runs off the side.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (page.url, live_server.url + reverse("casework:intake_start")):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
        camera.shot("phone")
