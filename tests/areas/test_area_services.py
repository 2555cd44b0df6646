"""Writes to the division tree and the calendar: checked, audited, all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.models import Area, CalendarDay, CalendarYear
from jiuzhu.areas.selectors import area_chain, areas_under, townships_in
from jiuzhu.areas.services import calendar_enter_year, calendar_set_day, load_divisions

pytestmark = pytest.mark.django_db

DAAN = Path(__file__).resolve().parents[2] / "jiuzhu" / "areas" / "data" / "areas_220882.csv"
HEADER = "code,name_zh,name_en,level,parent,urban_rural_class\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The messages are matched in English; the site's default language is Chinese."""
    with translation.override("en"):
        yield


def user(role: str = Role.COUNTY_ADMIN) -> User:
    return User.objects.create_user(username=f"user-{role}", role=role)


def csv_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "areas.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_daan_file_loads_into_an_empty_table() -> None:
    assert load_divisions(DAAN) == 13
    assert Area.objects.get(code="220882100201").parent_id == "220882100"
    assert AuditEntry.objects.filter(action="areas.load_divisions").count() == 1


def test_loading_the_same_file_again_changes_nothing() -> None:
    load_divisions(DAAN)
    assert load_divisions(DAAN) == 0
    assert Area.objects.count() == 13
    assert AuditEntry.objects.filter(action="areas.load_divisions").count() == 1


def test_a_changed_name_is_updated(tmp_path: Path) -> None:
    load_divisions(DAAN)
    assert load_divisions(csv_file(tmp_path, "220882100,月亮泡镇（新）,Yueliangpao,township,220882,\n")) == 1
    assert Area.objects.get(code="220882100").name_zh == "月亮泡镇（新）"


def test_a_bad_file_writes_nothing_and_names_every_bad_line(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "22,吉林省,Jilin,province,,\n"
                              "2208,白城市,Baicheng,prefecture,22,\n"
                              "220882000,大安市,Da'an,county,2208,\n"
                              "220882100201,某村,,village,220882100,999\n")
    with pytest.raises(ValidationError) as raised:
        load_divisions(path)
    messages = raised.value.messages
    assert any(m.startswith("line 4:") and "220882000" in m for m in messages)
    assert any(m.startswith("line 5:") and "220882100" in m for m in messages)  # parent not known
    assert any(m.startswith("line 5:") and "999" in m for m in messages)
    assert Area.objects.count() == 0
    assert not AuditEntry.objects.filter(action="areas.load_divisions").exists()


def test_parents_may_come_from_the_table(tmp_path: Path) -> None:
    load_divisions(DAAN)
    assert load_divisions(csv_file(tmp_path, "220882102,丰收镇,Fengshou Town,township,220882,\n")) == 1
    assert [a.code for a in townships_in("220882")] == ["220882100", "220882101", "220882102"]


def test_padded_codes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ends in zeros"):
        load_divisions(csv_file(tmp_path, "22,吉林省,Jilin,province,,\n2200,吉林省,Jilin,prefecture,22,\n"))


def test_area_chain_runs_from_province_to_village() -> None:
    load_divisions(DAAN)
    assert [a.name_zh for a in area_chain("220882100201")] == ["吉林省", "白城市", "大安市", "月亮泡镇", "永胜村"]
    assert area_chain("220882999") == []


def test_areas_under_excludes_the_area_and_filters_by_level() -> None:
    load_divisions(DAAN)
    villages = areas_under("220882100", level="village")
    assert villages.count() == 4
    assert not areas_under("220882100").filter(code="220882100").exists()
    assert [a.is_urban for a in villages] == [True, False, False, False]


def test_setting_a_day_is_audited_with_before_and_after() -> None:
    admin = user()
    calendar_set_day(by=admin, day=dt.date(2026, 11, 2), is_working_day=False, name="local holiday")
    entry = AuditEntry.objects.get(action="calendar.set_day", object_id="2026-11-02")
    assert entry.actor == admin
    assert entry.before is None
    assert entry.after == {"date": "2026-11-02", "is_working_day": False, "name": "local holiday",
                           "source": "set by user-county_admin"}


def test_setting_a_day_back_to_the_weekday_rule_removes_its_row() -> None:
    admin = user()
    calendar_set_day(by=admin, day=dt.date(2026, 10, 5), is_working_day=True, name="")
    assert not CalendarDay.objects.filter(date=dt.date(2026, 10, 5)).exists()
    entry = AuditEntry.objects.get(action="calendar.set_day", object_id="2026-10-05")
    assert entry.before is not None and entry.before["name"] == "国庆节"
    assert entry.after is None


def test_only_calendar_keepers_may_set_a_day() -> None:
    with pytest.raises(PermissionDenied):
        calendar_set_day(by=user(Role.VILLAGE_WORKER), day=dt.date(2026, 11, 2), is_working_day=False, name="x")
    assert not CalendarDay.objects.filter(date=dt.date(2026, 11, 2)).exists()


def test_entering_a_year_is_audited_and_skips_weekend_holidays() -> None:
    calendar_enter_year(by=user(), year=2027, source="test notice",
                        holidays=[(dt.date(2027, 1, 1), "元旦"), (dt.date(2027, 1, 2), "元旦")], working_weekends=[])
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [dt.date(2027, 1, 1)]
    entry = AuditEntry.objects.get(action="calendar.enter_year", object_id="2027")
    assert entry.after == {"source": "test notice", "holidays": ["2027-01-01"], "working_days": []}
    assert CalendarYear.objects.get(year=2027).entered_by == "user-county_admin"


def test_entering_a_year_names_each_bad_field_and_date_and_writes_nothing() -> None:
    with pytest.raises(ValidationError) as raised:
        calendar_enter_year(by=user(), year=2027, source="test notice",
                            holidays=[(dt.date(2026, 12, 31), "元旦")],
                            working_weekends=[(dt.date(2027, 2, 3), "春节")])  # a Wednesday
    errors = raised.value.message_dict
    assert "2026-12-31" in errors["holidays"][0]
    assert "2027-02-03" in errors["working_weekends"][0]
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
