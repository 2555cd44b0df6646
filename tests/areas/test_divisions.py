"""Division codes: shape, lookup chain and names (DOMAIN.md §2)."""

from __future__ import annotations

import pytest

from jiuzhu.areas.divisions import (
    InvalidRegion,
    area_name,
    division,
    divisions,
    is_known_region,
    normalise_region,
    parameter_folder,
    region_chain,
    township_kind,
)

PILOTS = {"220882": "吉林省白城市大安市", "511703": "四川省达州市达川区",
          "150102": "内蒙古自治区呼和浩特市新城区", "320582": "江苏省苏州市张家港市"}


def test_table_has_all_34_provincial_level_units() -> None:
    provinces = [d for d in divisions().values() if d.level == "province"]
    assert len(provinces) == 34
    assert {d.key for d in provinces} >= {"11", "22", "15", "32", "51", "50", "54", "71", "81", "82"}


def test_every_row_names_an_existing_parent_one_level_up() -> None:
    table = divisions()
    for d in table.values():
        if d.level == "province":
            assert d.parent is None
            continue
        assert d.parent is not None
        parent = division(d.parent)
        assert parent is not None, d.code
        assert d.code.startswith(parent.key)


@pytest.mark.parametrize(("code", "name"), PILOTS.items())
def test_pilot_counties_are_named_from_the_province_down(code: str, name: str) -> None:
    assert area_name(code) == name
    assert is_known_region(code)


def test_municipal_district_skips_the_missing_prefecture_level() -> None:
    assert area_name("110105") == "北京市朝阳区"


def test_village_code_is_named_down_to_its_known_county() -> None:
    assert area_name("220882100201") == "吉林省白城市大安市"


def test_chain_runs_from_village_to_province() -> None:
    assert region_chain("220882100201") == ["220882100201", "220882100", "220882", "2208", "22"]


def test_chain_of_a_township() -> None:
    assert region_chain("220882203") == ["220882203", "220882", "2208", "22"]


def test_chain_of_a_prefecture_and_a_province_uses_short_keys() -> None:
    assert region_chain("220800") == ["2208", "22"]
    assert region_chain("220000") == ["22"]


def test_township_under_a_prefecture_without_counties_skips_the_county() -> None:
    assert region_chain("441900003") == ["441900003", "4419", "44"]


def test_parameter_folder_joins_the_chain_from_the_province() -> None:
    assert parameter_folder("220882") == "22/2208/220882"
    assert parameter_folder("220800") == "22/2208"
    assert parameter_folder("220882100201") == "22/2208/220882/220882100/220882100201"


def test_normalise_keeps_a_good_code_and_strips_spaces() -> None:
    assert normalise_region(" 220882100201 ") == "220882100201"


def test_normalise_removes_statistics_bureau_zero_padding() -> None:
    assert normalise_region("220882100000") == "220882100"
    assert normalise_region("220882000000") == "220882"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("22088", "6, 9 or 12 digits"),
        ("2208821001", "6, 9 or 12 digits"),
        ("22088A", "only digits"),
        ("２２０８８２", "only digits"),
        ("000000", "province"),
        ("220082", "no prefecture"),
        ("220000100", "no prefecture"),
        ("220882000201", "township digits 000"),
        ("220882400", "township digits 400"),
    ],
)
def test_malformed_codes_say_what_is_wrong(code: str, reason: str) -> None:
    with pytest.raises(InvalidRegion, match=reason):
        normalise_region(code)


def test_unknown_and_malformed_codes_are_not_known() -> None:
    assert not is_known_region("220883")
    assert not is_known_region("440524")
    assert not is_known_region("nonsense")
    assert area_name("nonsense") is None


def test_prefecture_and_province_codes_are_known_by_their_own_level() -> None:
    assert is_known_region("220800")
    assert is_known_region("220000")
    assert not is_known_region("220100")


def test_unknown_county_is_named_as_far_as_the_table_goes() -> None:
    assert area_name("220883") == "吉林省白城市"


def test_township_kind_follows_the_township_digits() -> None:
    assert township_kind("220882001") == "street"
    assert township_kind("220882105201") == "town"
    assert township_kind("220882203") == "township"
    assert township_kind("220882") is None
