"""Small factory functions for database tests: areas, staff users, persons, households.

Plain functions, not fixture files, so each test says what it arranges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from stdnum.cn import ric

from jiuzhu.accounts.models import User
from jiuzhu.areas.models import Area, Level
from jiuzhu.registry.models import Household, IncomeRecord, Membership, Person, Source

_seq = count(1)

COUNTY = "220882"
TOWNSHIP = "220882100"
VILLAGE = "220882100201"
OTHER_TOWNSHIP = "220882101"
OTHER_VILLAGE = "220882101201"


def area(code: str, name: str = "", level: str | None = None) -> Area:
    """The area and any missing ancestors (2/4/6/9/12-digit codes)."""
    lengths = {2: Level.PROVINCE, 4: Level.PREFECTURE, 6: Level.COUNTY, 9: Level.TOWNSHIP, 12: Level.VILLAGE}
    parent = None
    for length in (2, 4, 6, 9, 12):
        if length > len(code):
            break
        part = code[:length]
        parent, _created = Area.objects.get_or_create(
            code=part, defaults={"name_zh": name if part == code and name else f"地区{part}",
                                 "name_en": f"Area {part}", "level": lengths[length], "parent": parent,
                                 "urban_rural_class": "220" if length == 12 else ""})
    assert parent is not None
    return parent


def county_tree() -> dict[str, Area]:
    """Da'an with two towns, one village each."""
    return {"county": area(COUNTY, "大安市"), "township": area(TOWNSHIP, "安广镇"), "village": area(VILLAGE, "永胜村"),
            "other_township": area(OTHER_TOWNSHIP, "月亮泡镇"), "other_village": area(OTHER_VILLAGE, "新发村")}


def user(role: str, area_code: str, username: str | None = None, **extra: object) -> User:
    name = username or f"{role}{next(_seq)}"
    return User.objects.create_user(username=name, password="Jiuzhu-test-2026", role=role,
                                    area=area(area_code), first_name=name, **extra)


def id_number(birth: dt.date, sex: str = "male", area_code: str = COUNTY) -> str:
    """A valid resident ID number (GB 11643) for the birth date and sex."""
    seq = next(_seq) % 500
    sequence = seq * 2 + (1 if sex == "male" else 0)
    body = f"{area_code[:6]}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(name: str = "王某", birth: dt.date = dt.date(1984, 3, 1), sex: str = "male", **extra: object) -> Person:
    return Person.objects.create(id_number=id_number(birth, sex), name=name, sex=sex, birth_date=birth,
                                 hukou_type="rural", **extra)


def household(village: str = VILLAGE, members: list[tuple[Person, str]] | None = None,
              since: dt.date = dt.date(2020, 1, 1), area_type: str = "rural") -> Household:
    number = f"{village.ljust(12, '0')}{next(_seq):04d}"
    h = Household.objects.create(number=number, area=area(village), area_type=area_type, address="永胜村3组")
    for p, relation in members or [(person(), "head")]:
        Membership.objects.create(household=h, person=p, relation=relation, start=since)
    return h


def poor_family(village: str = VILLAGE) -> Household:
    """Three people, a small land-transfer income: eligible for dibao in Da'an."""
    head = person("王大明", dt.date(1970, 3, 1), "male")
    spouse = person("李秀兰", dt.date(1972, 5, 1), "female")
    child = person("王小明", dt.date(2015, 1, 1), "male")
    h = household(village, [(head, "head"), (spouse, "spouse"), (child, "child")])
    IncomeRecord.objects.create(household=h, kind="land_transfer", amount=Decimal("3200"), source=Source.DECLARED)
    return h
