"""Division codes (行政区划代码): their shape, the chain up to the province, and names.

GB/T 2260 gives six digits, two each for province, prefecture and county; the statistics
bureau's codes add three township digits (001–099 street office, 100–199 town, 200–399
township) and three village or community digits (DOMAIN.md §2). Parameters are looked up
from the most specific level upward, so `region_chain` is that lookup order and
`parameter_folder` is where the parameter tree keeps a level's files.

The table in `data/divisions.csv` is deliberately small: the 34 provincial-level units,
and the prefectures and counties of the pilot areas (plus Beijing Chaoyang, the area of
the GB 11643 sample number). Codes change when divisions change and old ID numbers keep
old codes, so an unknown code is normal and never an error here; only a malformed one is.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from jiuzhu.rules.errors import TemplateError, gettext_noop

Level = Literal["province", "prefecture", "county"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "divisions.csv"

_DIGITS = re.compile(r"[0-9]+")

TownshipKind = Literal["street", "town", "township"]

_LEVELS: dict[str, Level] = {"province": "province", "prefecture": "prefecture", "county": "county"}


class InvalidRegion(TemplateError):
    """A division code of the wrong shape; the message says what is wrong with it."""


@dataclass(frozen=True)
class Division:
    """One row of the division table, keyed by its short key (22, 2208, 220882)."""

    code: str
    name_zh: str
    name_en: str
    level: Level
    parent: str | None

    @property
    def key(self) -> str:
        """The key `region_chain` uses for this level: 2, 4 or 6 digits."""
        return _short_key(self.code)


def _short_key(code6: str) -> str:
    """220000 → 22, 220800 → 2208, 220882 → 220882: the code without its zero padding."""
    if code6[2:] == "0000":
        return code6[:2]
    if code6[4:] == "00":
        return code6[:4]
    return code6


@cache
def divisions() -> dict[str, Division]:
    """The division table by short key, read once: codes are looked up on every case."""
    table: dict[str, Division] = {}
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = _LEVELS.get(row["level"])
            if level is None:
                raise ValueError(f"{DATA_FILE}: unknown level {row['level']!r} for {row['code']}")
            division = Division(
                code=normalise_region(row["code"]),
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                level=level,
                parent=row["parent"] or None,
            )
            table[division.key] = division
    return table


def normalise_region(code: str) -> str:
    """The canonical form of a division code, or `InvalidRegion` saying what is wrong.

    Surrounding spaces are dropped, and the statistics bureau's zero padding is removed
    (220882100000 is the township 220882100, 220882000000 the county 220882), so one
    area has one code wherever it came from.
    """
    text = code.strip()
    if not _DIGITS.fullmatch(text):
        raise InvalidRegion(gettext_noop("division code {code!r} must contain only digits"), code=code)
    if len(text) not in (6, 9, 12):
        raise InvalidRegion(
            gettext_noop("division code {code!r} must have 6, 9 or 12 digits, not {length}"),
            code=code,
            length=len(text),
        )
    if len(text) == 12 and text[9:] == "000":
        text = text[:9]
    if len(text) == 9 and text[6:] == "000":
        text = text[:6]
    province, prefecture, county = text[:2], text[2:4], text[4:6]
    if not "1" <= province[0] <= "8":
        raise InvalidRegion(
            gettext_noop("division code {code!r} does not start with a province number (11–82)"), code=code
        )
    if prefecture == "00" and (county != "00" or len(text) > 6):
        raise InvalidRegion(
            gettext_noop("division code {code!r} has a county or township but no prefecture"), code=code
        )
    if len(text) >= 9 and not 1 <= int(text[6:9]) <= 399:
        raise InvalidRegion(
            gettext_noop("division code {code!r} has township digits {township} outside 001–399"),
            code=code,
            township=text[6:9],
        )
    if len(text) == 12 and text[9:] == "000":
        raise InvalidRegion(gettext_noop("division code {code!r} has village digits 000"), code=code)
    return text


def region_chain(code: str) -> list[str]:
    """The keys from the most specific level to the province: the parameter lookup order.

    220882100201 → [220882100201, 220882100, 220882, 2208, 22]; a prefecture 220800 →
    [2208, 22]; a province 220000 → [22]. A township directly under a prefecture-level
    city without counties (441900003, Dongguan) skips the county level.
    """
    text = normalise_region(code)
    chain: list[str] = []
    if len(text) == 12:
        chain.append(text)
    if len(text) >= 9:
        chain.append(text[:9])
    if text[4:6] != "00":
        chain.append(text[:6])
    if text[2:4] != "00":
        chain.append(text[:4])
    chain.append(text[:2])
    return chain


def _table_key(code: str) -> str | None:
    """The most specific key the table can know (county, else prefecture, else province)."""
    try:
        chain = region_chain(code)
    except InvalidRegion:
        return None
    return next(key for key in chain if len(key) <= 6)


def division(code: str) -> Division | None:
    """The table row of the code's county (or prefecture, or province), if the table has it."""
    key = _table_key(code)
    return None if key is None else divisions().get(key)


def is_known_region(code: str) -> bool:
    """Whether the table knows the code's own level; townships and villages by their county.

    A malformed code is simply not known: callers that need the reason use
    `normalise_region`.
    """
    return division(code) is not None


def area_name(code: str) -> str | None:
    """The Chinese name from the province down to the most specific level the table knows.

    110105 → 北京市朝阳区 (no 市辖区 in between); 220882100201 → 吉林省白城市大安市, because
    townships and villages are not in the table. None when no level is known or the code
    is malformed.
    """
    try:
        chain = region_chain(code)
    except InvalidRegion:
        return None
    table = divisions()
    names = [table[key].name_zh for key in reversed(chain) if key in table]
    return "".join(names) or None


def parameter_folder(code: str) -> str:
    """The parameter tree's folder for the code: 220882 → "22/2208/220882"."""
    return "/".join(reversed(region_chain(code)))


def township_kind(code: str) -> TownshipKind | None:
    """Street office, town or township, from the township digits of a 9- or 12-digit code.

    Streets are urban and townships rural; towns hold both, so this is a hint for the
    urban/rural class, not the class itself. None for codes above the township level.
    """
    text = normalise_region(code)
    if len(text) < 9:
        return None
    number = int(text[6:9])
    if number < 100:
        return "street"
    if number < 200:
        return "town"
    return "township"
