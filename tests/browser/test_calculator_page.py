"""The means-test calculator in a real browser: rows added through the page, results, languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def add_row(page: Page, section: str) -> int:
    """Clicks the section's add button; returns the new row's form index."""
    rows = page.locator(f"#{section}-rows > tr")
    index = rows.count()
    page.locator(f'[data-add-row="{section}"]').click()
    expect(rows).to_have_count(index + 1)
    return index


def fill_member(page: Page, index: int, member_id: str, relation: str, sex: str, birth_date: str) -> None:
    prefix = f"members-{index}"
    page.locator(f'[name="{prefix}-id"]').fill(member_id)
    page.locator(f'[name="{prefix}-relation"]').select_option(relation)
    page.locator(f'[name="{prefix}-sex"]').select_option(sex)
    page.locator(f'[name="{prefix}-birth_date"]').fill(birth_date)


def fill_case(page: Page) -> None:
    expect(page.locator('[name="region"]')).to_have_value("220882")
    page.locator('[name="date"]').fill("2019-06-30")
    page.locator('[name="area_type"]').select_option("rural")


def override(page: Page, name: str, value: str) -> None:
    index = add_row(page, "parameters")
    page.locator(f'[name="parameters-{index}-name"]').fill(name)
    page.locator(f'[name="parameters-{index}-value"]').fill(value)


def test_the_example_household_is_entered_and_computed(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("低保测算")
    fill_case(page)

    fill_member(page, 0, "m1", "head", "male", "1984-03-01")
    page.locator('[name="members-0-disability_grade"]').fill("5")
    fill_member(page, add_row(page, "members"), "m2", "spouse", "female", "1986-01-01")
    mistaken = add_row(page, "members")
    fill_member(page, mistaken, "m9", "other", "male", "1950-01-01")
    page.locator(f"#members-rows > tr:nth-child({mistaken + 1}) [data-remove-row]").click()
    fill_member(page, add_row(page, "members"), "m3", "child", "female", "2009-01-01")

    page.locator('[name="income-0-kind"]').select_option("land_transfer")
    page.locator('[name="income-0-amount"]').fill("3200")
    wage = add_row(page, "income")
    page.locator(f'[name="income-{wage}-kind"]').select_option("imputed_wage")
    page.locator(f'[name="income-{wage}-member"]').fill("m2")
    page.locator(f'[name="income-{wage}-monthly_reference"]').fill("2000")
    page.locator(f'[name="income-{wage}-months"]').fill("3")
    page.locator('[name="assets-0-kind"]').select_option("deposit")
    page.locator('[name="assets-0-value"]').fill("1500")

    override(page, "dibao.standard", "3600")
    override(page, "classified.method", "working_capacity")
    override(page, "classified.adjustment_index", "0.25")
    override(page, "income.imputation.working_capacity_basis", "household")
    page.get_by_role("button", name="测算", exact=True).click()

    expect(page.locator('[data-field="topup"]')).to_have_text("5200.00")
    expect(page.locator('[data-field="classified"]')).to_have_text("1620.00")
    expect(page.locator('[data-field="total_annual"]')).to_have_text("6820.00")
    expect(page.locator('[data-field="total_monthly"]')).to_have_text("568.33")
    expect(page.locator('[data-field="size"]')).to_have_text("3")
    expect(page.locator(".explanation")).to_contain_text("家庭劳动能力系数 L =（0.4 + 0.8 + 0）÷ 3 = 0.4。")
    expect(page.locator(".explanation")).to_contain_text("合计每年 6820 元，每月 568.33 元。")
    expect(page.locator(".trace")).to_contain_text("wci.sex.female")


def test_the_language_switch_shows_english(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Means-test calculator")
    expect(page.locator('[data-add-row="members"]')).to_have_text("Add a member")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("h1")).to_have_text("低保测算")


def test_a_birth_date_after_the_case_date_is_shown_beside_the_field(
    page: Page, live_server: LiveServer,
) -> None:
    page.goto(live_server.url + "/")
    fill_case(page)
    fill_member(page, 0, "m1", "head", "male", "2020-05-01")

    page.get_by_role("button", name="测算", exact=True).click()

    cell = page.locator("td.field-birth_date").filter(has=page.locator('[name="members-0-birth_date"]'))
    expect(cell.locator(".errorlist")).to_have_text("晚于测算日期")
    expect(page.locator('[name="members-0-birth_date"]')).to_have_value("2020-05-01")
    expect(page.locator("#problems")).to_contain_text("晚于测算日期")
    expect(page.locator("#result")).to_have_count(0)


def add_fact(page: Page, member: str, name: str, value: str) -> None:
    index = add_row(page, "facts")
    page.locator(f'[name="facts-{index}-member"]').fill(member)
    page.locator(f'[name="facts-{index}-name"]').fill(name)
    page.locator(f'[name="facts-{index}-value"]').fill(value)


def test_programme_facts_added_on_the_page_give_the_fire_programme(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    page.locator('[name="region"]').fill("511703")
    page.locator('[name="date"]').fill("2019-03-01")
    page.locator('[name="area_type"]').select_option("rural")
    fill_member(page, 0, "a", "head", "male", "1960-01-01")
    fill_member(page, add_row(page, "members"), "b", "spouse", "female", "1962-01-01")
    page.locator('[name="income-0-kind"]').select_option("pension")
    page.locator('[name="income-0-amount"]').fill("30000")

    add_fact(page, "", "house_damage", "complete")
    add_fact(page, "", "houses_owned", "1")
    add_fact(page, "a", "at_home_during_fire", "true")
    add_fact(page, "b", "at_home_during_fire", "false")
    page.get_by_role("button", name="测算", exact=True).click()

    fire = page.locator('tr[data-programme="fire_victims"]')
    expect(fire.locator('[data-field="name"]')).to_have_text("火灾受灾群众救助")
    expect(fire.locator('[data-field="eligible"]')).to_have_text("是")
    expect(fire.locator('[data-field="amount"]')).to_have_text("3500.00")
    expect(fire.locator('[data-field="period"]')).to_have_text("一次性")
    expect(fire.locator('[data-condition="local_hukou"]')).to_contain_text("本地户籍")
    expect(page.locator('[name="facts-0-name"]')).to_have_value("house_damage")  # the rows stay filled
