"""The registry's checks handed to the rules engine, which imports nothing above itself.

The page, the API and the command line pass these to `jiuzhu.rules.evaluate`, so that a
division code or an ID number is refused with the same message everywhere."""

from __future__ import annotations

import datetime as dt

from jiuzhu.areas.divisions import is_known_region
from jiuzhu.registry.identity import check_resident_id

known_region = is_known_region


def identity_check(number: str) -> tuple[list[str], dt.date | None, str | None]:
    """Errors, birth date and sex of a resident ID number, as the case reader expects them."""
    result = check_resident_id(number)
    return list(result.errors), result.birth_date, result.sex
