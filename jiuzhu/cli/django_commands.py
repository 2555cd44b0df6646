"""Django's management commands through `jiuzhu`: `jiuzhu migrate`, `jiuzhu runserver`,
`jiuzhu createsuperuser`, `jiuzhu check`, … (`jiuzhu help` lists them all).

The database comes from the settings, so DATABASE_URL is honoured as everywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

SETTINGS_MODULE = "jiuzhu.settings"


def setup() -> None:
    """Django ready for a command that reads or writes the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def run(argv: Sequence[str]) -> int:
    """Hand the arguments to Django's own command line (it exits non-zero itself on failure)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jiuzhu", *argv])
    return 0
