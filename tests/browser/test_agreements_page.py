"""数据共享协议 in a real browser, in Chinese: a county admin finds the page in the menu, is told
every problem of a bad agreement beside its field, fixes them and sees the partner listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from jiuzhu.accounts.roles import Role
from jiuzhu.api.models import DciAgreement
from jiuzhu.dci import envelope
from tests import factories as f
from tests.accounts.factories import confirmed_device
from tests.browser.test_intake_to_certificate import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_county_admin_adds_a_partner_after_fixing_what_the_page_says(page: Page, live_server: LiveServer,
                                                                       settings: Any, tmp_path: Path) -> None:
    settings.DCI_PRIVATE_KEY_PATH = tmp_path / "dci.pem"
    f.county_tree()
    admin = f.user(Role.COUNTY_ADMIN, f.COUNTY)
    sign_in(page, live_server, admin, confirmed_device(admin))
    page.get_by_role("link", name="数据共享").click()
    expect(page.locator("h1")).to_have_text("数据共享协议")
    expect(page.locator("#our-public-key")).to_contain_text("BEGIN PUBLIC KEY")
    page.get_by_role("link", name="添加协议").click()
    page.locator('[name="sender_id"]').fill("province-exchange")
    page.locator('[name="name"]').fill("省民政数据交换平台")
    page.locator('[name="area"]').select_option(f.COUNTY)
    page.locator('[name="public_key"]').fill("not a key")
    page.locator('[name="grants"]').fill("Group.group_size\nPerson.salary")
    page.get_by_label("按身份证号码查询").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_public_key_error")).to_contain_text("Ed25519")
    expect(page.locator("#id_grants_error")).to_contain_text("Person.salary")
    assert not DciAgreement.objects.exists()
    key = envelope.public_key_pem(envelope.generate_private_key().public_key())
    page.locator('[name="public_key"]').fill(key)
    page.locator('[name="grants"]').fill("Group.group_size\nPerson.name")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#agreements")).to_contain_text("省民政数据交换平台")
    expect(page.locator("#agreements")).to_contain_text("Group.group_size, Person.name")
    saved = DciAgreement.objects.get()
    assert saved.allowed_query_types == ["idtype-value"] and saved.area_id == f.COUNTY
