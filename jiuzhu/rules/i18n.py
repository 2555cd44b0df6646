"""Translation for the engine without Django: the same compiled catalogues as the web app.

Messages are English msgids; `translate` looks them up in `jiuzhu/locale/<lang>/LC_MESSAGES/
django.mo` with the standard library, so the CLI and the page say the same sentences.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh-hans", "en")


def to_locale(lang: str) -> str:
    """zh-hans → zh_Hans, the folder name Django uses."""
    if "-" not in lang:
        return lang
    language, country = lang.split("-", 1)
    return f"{language}_{country.title() if len(country) > 2 else country.upper()}"


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    return gettext.translation("django", LOCALE_DIR, languages=[to_locale(lang)], fallback=True)


def translate(message: str, lang: str | None) -> str:
    if not lang or lang == "en":
        return message
    return _catalogue(lang).gettext(message)
