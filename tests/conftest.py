"""Shared test set-up. Django settings come from pyproject (pytest-django)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.signals import setting_changed

from jiuzhu.rules import i18n as rules_i18n


@pytest.fixture(scope="session", autouse=True)
def compiled_messages() -> None:
    """The .mo files are build output (not in git): compile them when a .po is newer.

    Both the engine's and Django's catalogues are read once per process, so their caches
    are cleared after compiling."""
    locale_dir = Path(settings.LOCALE_PATHS[0])
    stale = [
        po for po in locale_dir.glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        with contextlib.chdir(locale_dir.parent):  # compilemessages walks the working directory
            call_command("compilemessages", verbosity=0, locale=[po.parent.parent.name for po in stale])
        setting_changed.send(sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False)
        rules_i18n._catalogue.cache_clear()


@pytest.fixture(autouse=True)
def official_calendar(request: pytest.FixtureRequest) -> None:
    """Transactional tests (the live server of the browser tests among them) empty every table
    when they end, the calendar and the departments loaded by migrations included: load them
    again for them."""
    if not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from jiuzhu.areas.calendar import load_official_calendar
    from jiuzhu.areas.models import CalendarYear

    if not CalendarYear.objects.exists():
        load_official_calendar()
    from jiuzhu.verification.models import Department
    from jiuzhu.verification.services import sync_departments

    if not Department.objects.exists():  # seeded by a migration, emptied like the calendar
        sync_departments()


@pytest.fixture
def english(settings: Any) -> Iterator[None]:
    """Messages in English for tests that read them: service errors outside a request, and
    pages for a client that sends no Accept-Language (the site's default is zh-hans)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
