"""Playwright in Debian's chromium against pytest-django's live server."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.signals import setting_changed

from jiuzhu.rules import i18n as rules_i18n

# The live server runs in a thread while Playwright's sync API holds an event loop in this
# one; Django would otherwise refuse database access from "async" code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
LOCALE_DIR = Path(settings.LOCALE_PATHS[0])


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A browser set to Chinese, as on a township PC: the page then starts in zh-hans."""
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session", autouse=True)
def compiled_messages() -> None:
    """The .mo files are build output (not in git): compile them when a .po is newer."""
    stale = [
        po for po in LOCALE_DIR.glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        with contextlib.chdir(LOCALE_DIR.parent):  # compilemessages walks the working directory
            call_command("compilemessages", verbosity=0, locale=[po.parent.parent.name for po in stale])
        setting_changed.send(sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False)
        rules_i18n._catalogue.cache_clear()
