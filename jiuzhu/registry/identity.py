"""Resident identity numbers (居民身份证号码, GB 11643-1999): check one and read what it says.

A number is 6 area digits, 8 birth-date digits, a 3-digit sequence (odd for men, even for
women) and a check character (ISO 7064 MOD 11-2, computed by python-stdnum). Every
problem is reported at once, so a caseworker fixes a mistyped number in one go
(DOMAIN.md §2). The area digits are checked for shape only: codes change when divisions
change and old numbers keep their old codes, so an unknown area is not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from stdnum.cn import ric

from jiuzhu.areas.divisions import area_name, is_known_region
from jiuzhu.rules.errors import gettext_noop

Sex = Literal["male", "female"]

LENGTH = 18
_SEPARATORS = re.compile(r"[\s-]+")
_NOT_ALLOWED = re.compile(r"[^0-9X]")


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one number, with what it tells when it is valid.

    `sex`, `birth_date` and `area_code` are None unless the number is valid: a number
    with a wrong check character has a mistyped character somewhere, so no part of it
    can be trusted.
    """

    valid: bool
    number: str
    sex: Sex | None = None
    birth_date: date | None = None
    area_code: str | None = None
    area_name: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape `jiuzhu id check` prints."""
        return {
            "valid": self.valid,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "area_code": self.area_code,
            "area_name": self.area_name,
            "errors": list(self.errors),
        }


def normalise_resident_id(number: str) -> str:
    """Upper-case, without the spaces and hyphens people type between the groups."""
    return _SEPARATORS.sub("", number).upper()


def check_resident_id(number: str, *, today: date | None = None) -> IdCheck:
    """Check a resident ID number against GB 11643-1999 and collect every problem.

    `today` bounds the birth date (no future births); it defaults to the current date
    and is a parameter so checks are reproducible in tests and batch runs.
    """
    today = today or date.today()
    text = normalise_resident_id(number)
    errors: list[str] = []

    if len(text) != LENGTH:
        errors.append(
            gettext_noop("the number must have 18 characters, not {length}").format(length=len(text))
        )
    strangers = sorted(set(_NOT_ALLOWED.findall(text)))
    if strangers:
        errors.append(
            gettext_noop("the number may contain only digits and a final X, not {characters}").format(
                characters=" ".join(strangers)
            )
        )
    if "X" in text[:-1] or (len(text) != LENGTH and "X" in text):
        errors.append(gettext_noop("X may only be the 18th character"))
    if errors:
        return IdCheck(valid=False, number=text, errors=errors)

    body, check = text[:17], text[17]
    birth_date = _birth_date(body[6:14], errors)
    if birth_date is not None and birth_date > today:
        errors.append(
            gettext_noop("the birth date {date} is in the future").format(date=birth_date.isoformat())
        )
    expected = ric.calc_check_digit(text)
    if check != expected:
        errors.append(
            gettext_noop(
                "the check character {check} does not match the first 17 digits: a character is mistyped"
            ).format(check=check)
        )
    if errors:
        return IdCheck(valid=False, number=text, errors=errors)

    area_code = body[:6]
    return IdCheck(
        valid=True,
        number=text,
        sex="male" if int(body[14:17]) % 2 == 1 else "female",
        birth_date=birth_date,
        area_code=area_code,
        area_name=area_name(area_code) if is_known_region(area_code) else None,
    )


def _birth_date(digits: str, errors: list[str]) -> date | None:
    """The YYYYMMDD part as a date, or an error naming the impossible date."""
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        errors.append(
            gettext_noop("the birth date part {digits} is not a real date (YYYYMMDD)").format(digits=digits)
        )
        return None


def mismatches(check: IdCheck, *, sex: str | None = None, birth_date: date | None = None) -> list[str]:
    """What was entered beside the number that the number contradicts (DOMAIN.md §2).

    Intake forms ask for sex and birth date as well as the number; a difference means
    one of them is mistyped, and the caseworker should see it before the record is saved.
    """
    problems: list[str] = []
    if not check.valid:
        return problems
    if sex is not None and sex != check.sex:
        problems.append(
            gettext_noop("the number is a {expected} person's, but {entered} was entered").format(
                expected=check.sex, entered=sex
            )
        )
    if birth_date is not None and check.birth_date is not None and birth_date != check.birth_date:
        problems.append(
            gettext_noop("the number gives the birth date {expected}, but {entered} was entered").format(
                expected=check.birth_date.isoformat(), entered=birth_date.isoformat()
            )
        )
    return problems
