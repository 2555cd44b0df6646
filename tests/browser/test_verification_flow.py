"""核对 in a real browser, as a township officer does it: ask the bank and the tax bureau about a
household, download their request files, import their answers (a good file, a bad one with
its report, the good one again), read the discrepancy on the household file and the report,
and run the means test on the verified figures. Then the refusal when a consent is withdrawn,
the English switch and a phone.

Each step leaves a screenshot in test-artifacts/verification_flow/.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services as casework
from jiuzhu.casework.models import Application, Assessment
from jiuzhu.registry.models import AssetRecord, Household, IncomeRecord, Source
from jiuzhu.verification import services
from jiuzhu.verification.models import Consent, Department
from tests import factories as f
from tests.browser.test_intake_to_certificate import expect_state, sign_in, step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "verification_flow"
BANK_COLUMNS = ["request_id", "id_number", "name", "birth_date", "sex", "found", "as_of", "bank", "account", "balance"]
DEATH_COLUMNS = ["record_id", "id_number", "name", "birth_date", "sex", "area_code", "found", "as_of",
                 "hukou_registered", "hukou_area", "death_date"]
MONDAY = dt.date(2026, 11, 2)


class Camera:
    def __init__(self, page: Page) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page, self.count = page, 0

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(SHOTS / f"{self.count:02d}_{name}.png"), full_page=True)


def _apply(staff: dict[str, Any], members: list[tuple[str, dt.date, str, str]]) -> Application:
    """A household's dibao application, taken at the village with every adult's consent."""
    persons = [(f.person(name, birth, sex), relation) for name, birth, sex, relation in members]
    household = f.household(f.VILLAGE, persons)
    consents = [casework.ConsentData(p, signature=p.name) for p, _relation in persons if p.age_on(MONDAY) >= 18]
    intake = casework.intake_submit(by=staff["worker"], household=household, applicant=persons[0][0],
                                    programmes=["dibao"], channel="village", consents=consents, truth_promise=True,
                                    on=MONDAY)
    return intake.applications.get()


def _arrange() -> dict[str, Any]:
    """Departments from the catalogue (a transactional test empties the seeded table), staff, and a
    household under investigation that declared 1,000 yuan of deposits and 3,200 of land rent."""
    services.sync_departments()
    f.county_tree()
    staff = {"worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE, username="cunyuan"),
             "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP, username="xiangzhen")}
    application = _apply(staff, [("王大明", dt.date(1970, 3, 1), "male", "head"),
                                 ("李秀兰", dt.date(1972, 5, 1), "female", "spouse"),
                                 ("王小明", dt.date(2015, 1, 1), "male", "child")])
    household = application.household
    head = household.memberships.get(relation="head").person
    IncomeRecord.objects.create(household=household, kind="land_transfer", amount=Decimal("3200"),
                                source=Source.DECLARED)
    AssetRecord.objects.create(household=household, person=head, kind="deposit", value=Decimal("1000"),
                               source=Source.DECLARED)
    today = timezone.localdate()
    casework.accept(by=staff["officer"], application=application, on=MONDAY)
    casework.investigation_start(by=staff["officer"], application=application, on=MONDAY)
    casework.visit_record(by=staff["officer"], application=application, visited_on=today,
                          investigators=[staff["officer"], staff["worker"]], findings="家中无劳动力",
                          signed_by_household="王大明", signed_on=today)
    refused = _apply(staff, [("赵秀英", dt.date(1960, 8, 1), "female", "head"),
                             ("钱进", dt.date(1958, 2, 1), "male", "spouse")])
    Consent.objects.filter(person__name="钱进").update(withdrawn_on=today)
    return {**staff, "application": application, "household": household, "refused": refused.household}


def _download(page: Page, button: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator(button).click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _bank_answer(request_file: Path, balances: dict[str, str], path: Path) -> Path:
    """What the bank sends back: each request quoted, the balance by name ("" = no account)."""
    asked = pl.read_csv(request_file, infer_schema=False)
    today = timezone.localdate().isoformat()
    rows = [{"request_id": r["request_id"], "id_number": r["id_number"], "name": r["name"],
             "birth_date": r["birth_date"], "sex": r["sex"], "found": "yes" if balances[r["name"]] else "no",
             "as_of": today, "bank": "农业银行" if balances[r["name"]] else "",
             "account": "6228480012345678" if balances[r["name"]] else "", "balance": balances[r["name"]]}
            for r in asked.iter_rows(named=True)]
    pl.DataFrame(rows, schema=dict.fromkeys(BANK_COLUMNS, pl.String)).write_csv(path)
    return path


def _import(page: Page, department: Department, path: Path) -> None:
    form = page.locator("#import-form")
    form.locator('[name="department"]').select_option(str(department.pk))
    form.locator('[name="kind"][value="answer"]').check()
    form.locator('[name="file"]').set_input_files(str(path))
    form.locator("button[type=submit]").click()
    expect(page.locator("#file-status")).to_be_visible()


def test_verification_from_request_to_means_test(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    a = _arrange()
    banks, tax = Department.objects.get(code="banks"), Department.objects.get(code="tax")
    household = a["household"]
    camera = Camera(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, a["officer"])
    index_url = live_server.url + reverse("verification:index")

    # From the household file: ask the bank and the tax bureau.
    page.goto(live_server.url + reverse("casework:household", args=[household.pk]))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("#request-verification-link").click()
    expect(page.locator("#request-form")).to_be_visible()  # the boxes below are the new page's
    for box in page.locator('[name="departments"]').all():
        box.uncheck()
    page.locator(f'[name="departments"][value="{banks.pk}"]').check()
    page.locator(f'[name="departments"][value="{tax.pk}"]').check()
    page.locator('[name="reason"]').fill("低保申请，首次核对")
    camera.shot("request_form")
    page.locator("#request-form button[type=submit]").click()
    expect(page.locator('#department-banks [data-count="pending"]')).to_have_text("2")
    expect(page.locator('#department-tax [data-count="pending"]')).to_have_text("2")
    expect(page.locator('#departments [data-count="pending"]')).to_have_text(
        ["2" if code in ("banks", "tax") else "0"
         for code in page.locator("#departments tbody tr").evaluate_all("rows => rows.map(r => r.dataset.department)")])
    camera.shot("index_pending")

    # The request files, downloaded: the bank's as CSV, the tax bureau's as JSON.
    bank_file = _download(page, "#department-banks button[type=submit]", tmp_path)
    assert bank_file.name.startswith("banks-") and bank_file.suffix == ".csv"
    page.goto(index_url)
    expect(page.locator('#department-banks [data-count="sent"]')).to_have_text("2")
    page.locator("#department-tax select").select_option("json")
    tax_file = _download(page, "#department-tax button[type=submit]", tmp_path)
    asked = json.loads(tax_file.read_text(encoding="utf-8"))
    assert sorted(r["name"] for r in asked) == ["李秀兰", "王大明"]

    # The good answers come back and are imported.
    page.goto(index_url)
    good = _bank_answer(bank_file, {"王大明": "9000", "李秀兰": "1020"}, tmp_path / "银行答复.csv")
    _import(page, banks, good)
    expect(page.locator("#file-status")).to_have_attribute("data-status", "accepted")
    expect(page.locator('#counts [data-count="linked"] td')).to_have_text("2")
    expect(page.locator('#counts [data-count="facts"] td')).to_have_text("2")
    camera.shot("bank_answers_imported")
    tax_answer = tmp_path / "税务答复.json"
    tax_answer.write_text(json.dumps([
        {"request_id": r["request_id"], "id_number": r["id_number"], "name": r["name"], "birth_date": r["birth_date"],
         "sex": r["sex"], "found": "yes" if r["name"] == "王大明" else "no", "as_of": timezone.localdate().isoformat(),
         "taxable_income": "18000" if r["name"] == "王大明" else None} for r in asked], ensure_ascii=False),
        encoding="utf-8")
    page.goto(index_url)
    _import(page, tax, tax_answer)
    expect(page.locator("#file-status")).to_have_attribute("data-status", "accepted")

    # A bad file: a negative balance and a request the bank was never sent. Nothing is imported.
    bad_rows = pl.read_csv(good, infer_schema=False).with_columns(
        pl.when(pl.col("name") == "王大明").then(pl.lit("-5")).otherwise(pl.col("balance")).alias("balance"),
        pl.when(pl.col("name") == "李秀兰").then(pl.lit("VR-banks-20260101-99999")).otherwise(pl.col("request_id"))
        .alias("request_id"))
    bad = tmp_path / "银行答复-错误.csv"
    bad_rows.write_csv(bad)
    page.goto(index_url)
    _import(page, banks, bad)
    expect(page.locator("#file-status")).to_have_attribute("data-status", "rejected")
    # Row 2 also quotes a request the good file answered already: three problems, in row and column order.
    expect(page.locator("#problems tbody tr")).to_have_count(3)
    expect(page.locator("#problems tbody tr td:nth-child(2)")).to_have_text(["request_id", "balance", "request_id"])
    camera.shot("bad_file_report")
    report_csv = _download(page, "#problems-csv", tmp_path)
    raw = report_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    problems = pl.read_csv(raw[3:], infer_schema=False)
    assert problems.columns == ["row", "column", "reason"]
    assert problems.select("row", "column").rows() == [("2", "request_id"), ("2", "balance"), ("3", "request_id")]
    assert problems["reason"].to_list() == page.locator("#problems tbody tr td:nth-child(3)").all_inner_texts()

    # The good file again: nothing is added.
    page.goto(index_url)
    _import(page, banks, good)
    expect(page.locator("#duplicate")).to_be_visible()
    camera.shot("same_file_again")
    page.goto(index_url)
    expect(page.locator("#answer-files tbody tr")).to_have_count(3)
    camera.shot("index_after_imports")

    # The household file shows the discrepancy and its size; the report shows what the departments said.
    page.goto(live_server.url + reverse("casework:household", args=[household.pk]))
    deposit = page.locator('#verification-discrepancies [data-target="asset:deposit"]')
    expect(deposit.locator(".difference")).to_have_text("+9020.00")
    expect(deposit.locator(".relative")).to_have_text("+902.0 %")
    expect(page.locator('#verification-discrepancies [data-target="income:wage"] .difference')).to_have_text(
        "+18000.00")
    camera.shot("household_discrepancies")
    page.locator("#verification-report-link").click()
    expect(page.locator('#discrepancies [data-target="asset:deposit"] .verified-amount')).to_have_text("10020.00")
    expect(page.locator("#report-requests")).to_contain_text("18000")
    expect(page.locator("#report-requests")).not_to_contain_text("6228480012345678")
    camera.shot("verification_report")

    # The means test runs on the verified figures: the tax bureau's wage is counted, the deposits
    # are no longer "only declared".
    page.goto(live_server.url + reverse("casework:application", args=[a["application"].pk]))
    step(page, "assess")
    expect_state(page, "assessed")
    expect(page.locator("#explanation")).to_contain_text("18000")
    expect(page.locator('#declared-figures li[data-path^="household.assets"]')).to_have_count(0)
    camera.shot("means_test_on_verified_figures")
    case = Assessment.objects.filter(application=a["application"]).latest("pk").case
    assert sorted(item["value"] for item in case["household"]["assets"]) == [1020, 9000]

    # Public security sends its list of deaths on its own. The record has no ID number and another
    # village's code: linkage is not sure it is 王大明, an officer compares and confirms.
    deaths = tmp_path / "公安死亡名单.csv"
    pl.DataFrame([{"record_id": "GA-2026-0001", "id_number": "", "name": "王大明", "birth_date": "1970-03-01",
                   "sex": "male", "area_code": f.OTHER_VILLAGE, "found": "yes",
                   "as_of": timezone.localdate().isoformat(), "hukou_registered": "注销", "hukou_area": "",
                   "death_date": "2026-11-01"}], schema=dict.fromkeys(DEATH_COLUMNS, pl.String)).write_csv(deaths)
    page.goto(index_url)
    form = page.locator("#import-form")
    form.locator('[name="department"]').select_option(str(Department.objects.get(code="public_security").pk))
    form.locator('[name="kind"][value="list"]').check()
    form.locator('[name="file"]').set_input_files(str(deaths))
    form.locator("button[type=submit]").click()
    expect(page.locator('#counts [data-count="to_confirm"] td')).to_contain_text("1")
    page.locator('#counts [data-count="to_confirm"] a').click()
    row = page.locator("article.confirm-row")
    expect(row).to_have_count(1)
    expect(row.locator(".probability")).not_to_have_text("—")
    camera.shot("row_to_confirm")
    row.locator('[name="reason"]').fill("姓名、出生日期一致，户籍地为外村")
    row.locator('button[value="same"]').click()
    expect(page.locator("#nothing-to-confirm")).to_be_visible()
    page.goto(live_server.url + reverse("verification:report", args=[household.pk]))
    expect(page.locator("#findings tbody tr")).to_have_count(1)
    expect(page.locator("#findings")).to_contain_text("2026-11-01")
    camera.shot("report_with_death_finding")
    page.goto(live_server.url + reverse("casework:household", args=[household.pk]))
    expect(page.locator("#verification #findings")).to_contain_text("2026-11-01")

    # A household whose adult withdrew consent: nothing is requested, the person is named.
    page.goto(live_server.url + reverse("verification:request", args=[a["refused"].pk]))
    for box in page.locator('[name="departments"]').all():
        box.uncheck()
    page.locator(f'[name="departments"][value="{banks.pk}"]').check()
    page.locator('[name="reason"]').fill("低保复核")
    page.locator("#request-form button[type=submit]").click()
    expect(page.locator("#missing-consents")).to_contain_text("钱进")
    expect(page.locator("#missing-consents")).not_to_contain_text("赵秀英")
    camera.shot("consent_withdrawn")

    # In English, and on a phone: the pages fold into one column.
    page.goto(index_url)
    page.locator('.language-switch button[value="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Verification")
    camera.shot("index_english")
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in (("index", index_url),
                      ("report", live_server.url + reverse("verification:report", args=[household.pk])),
                      ("request", live_server.url + reverse("verification:request", args=[household.pk]))):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
        camera.shot(f"{name}_phone")
    assert Household.objects.count() == 2
