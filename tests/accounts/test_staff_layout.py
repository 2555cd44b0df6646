"""The staff layout: navigation by role and by the pages that exist, the top bar, the htmx
and CSRF set-up, keyboard and print affordances, and the friendly error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from jiuzhu.accounts import context_processors
from jiuzhu.accounts.context_processors import NavEntry, nav_links
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action, Role
from tests.accounts.factories import make_areas, make_user, staff_client

pytestmark = pytest.mark.django_db

PROCESSOR = "jiuzhu.accounts.context_processors.staff_nav"


@pytest.fixture(autouse=True)
def with_staff_nav(settings: Any) -> None:
    """The context processor as settings.py will list it."""
    templates = [dict(engine, OPTIONS=dict(engine["OPTIONS"])) for engine in settings.TEMPLATES]
    processors = templates[0]["OPTIONS"]["context_processors"]
    if PROCESSOR not in processors:
        templates[0]["OPTIONS"]["context_processors"] = [*processors, PROCESSOR]
    settings.TEMPLATES = templates


@pytest.fixture
def admin() -> User:
    make_areas()
    return make_user("zhao", Role.COUNTY_ADMIN, "220882", name="赵主任")


def nav_urls(response: Any) -> list[str]:
    return [link.url for link in response.context["staff_nav"]]


def test_a_county_admin_sees_users_and_audit(admin: User) -> None:
    response = staff_client(admin).get(reverse("accounts:me"))
    assert reverse("accounts:users") in nav_urls(response)
    assert reverse("accounts:audit") in nav_urls(response)


def test_a_village_worker_sees_neither_users_nor_audit(admin: User) -> None:
    worker = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    urls = nav_urls(staff_client(worker).get(reverse("accounts:me")))
    assert reverse("accounts:users") not in urls
    assert reverse("accounts:audit") not in urls


def test_entries_whose_page_does_not_exist_yet_are_skipped(admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context_processors, "NAV", (
        NavEntry("nowhere:page", "Nowhere", Action.VIEW),
        NavEntry("accounts:users", "Users", Action.ADMIN_USERS),
    ))
    admin.is_verified = lambda: True  # type: ignore[attr-defined]  # what django-otp's middleware sets
    assert [link.url for link in nav_links(admin, "/")] == [reverse("accounts:users")]


def test_the_current_page_is_marked(admin: User) -> None:
    response = staff_client(admin).get(reverse("accounts:user_create"))
    current = [link.url for link in response.context["staff_nav"] if link.current]
    assert current == [reverse("accounts:users")]
    assert 'aria-current="page"' in response.content.decode()


def test_nobody_gets_a_menu_before_the_second_factor(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    response = client.get(reverse("accounts:otp_setup"))
    assert response.status_code == 200
    assert response.context["staff_nav"] == []
    assert reverse("accounts:users") not in response.content.decode()


def test_the_top_bar_names_the_user_role_and_area(admin: User) -> None:
    html = staff_client(admin).get(reverse("accounts:me"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "救助" in html and "Jiuzhu" in html
    assert "赵主任" in html
    assert "county admin" in html
    assert "大安市" in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert 'action="/i18n/setlang/"' in html


def test_htmx_is_loaded_and_sends_the_csrf_token(admin: User) -> None:
    response = staff_client(admin).get(reverse("accounts:me"))
    html = response.content.decode()
    assert "staff/vendor/htmx.min.js" in html
    assert """hx-headers='{"X-CSRFToken": \"""" in html
    assert finders.find("staff/vendor/htmx.min.js")
    assert finders.find("staff/vendor/htmx.LICENSE")


def test_the_page_has_a_skip_link_and_a_print_stylesheet(admin: User) -> None:
    html = staff_client(admin).get(reverse("accounts:me")).content.decode()
    assert 'class="skip-link" href="#content"' in html
    assert 'id="content"' in html
    css_path = finders.find("staff/staff.css")
    assert isinstance(css_path, str)
    css = Path(css_path).read_text(encoding="utf-8")
    assert "@media print" in css
    assert ":focus-visible" in css
    assert "@media (max-width" in css


def test_the_language_switch_turns_the_page_english(admin: User) -> None:
    client = staff_client(admin)
    client.post("/i18n/setlang/", {"language": "en", "next": reverse("accounts:me")})
    assert 'lang="en"' in client.get(reverse("accounts:me")).content.decode()[:200]
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": reverse("accounts:me")})
    assert 'lang="zh-hans"' in client.get(reverse("accounts:me")).content.decode()[:200]


def test_an_unknown_page_gets_the_friendly_404(admin: User) -> None:
    response = staff_client(admin).get("/accounts/no-such-page/")
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert "staff/base.html" in [t.name for t in response.templates]


def test_an_anonymous_404_uses_the_public_layout() -> None:
    response = Client().get("/accounts/no-such-page/")
    assert response.status_code == 404
    assert "base.html" in [t.name for t in response.templates]
    assert "staff/base.html" not in [t.name for t in response.templates]
