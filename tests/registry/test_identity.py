"""Resident ID numbers per GB 11643-1999 (DOMAIN.md §2)."""

from __future__ import annotations

from datetime import date

import pytest

from jiuzhu.registry.identity import check_resident_id, mismatches

TODAY = date(2024, 6, 30)
SAMPLE = "11010519491231002X"


def test_standard_sample_is_a_woman_born_1949_in_chaoyang() -> None:
    result = check_resident_id(SAMPLE, today=TODAY)
    assert result.valid
    assert result.errors == []
    assert result.sex == "female"
    assert result.birth_date == date(1949, 12, 31)
    assert result.area_code == "110105"
    assert result.area_name == "北京市朝阳区"


def test_second_sample_is_a_man_from_an_area_the_table_does_not_know() -> None:
    result = check_resident_id("440524188001010014", today=TODAY)
    assert result.valid
    assert result.sex == "male"
    assert result.birth_date == date(1880, 1, 1)
    assert result.area_code == "440524"
    assert result.area_name is None


def test_lower_case_x_is_accepted_and_stored_upper_case() -> None:
    result = check_resident_id("11010519491231002x", today=TODAY)
    assert result.valid
    assert result.number == SAMPLE


def test_spaces_and_hyphens_between_groups_are_ignored() -> None:
    assert check_resident_id(" 110105-19491231-002X ", today=TODAY).number == SAMPLE


def test_wrong_check_character_is_rejected_without_trusting_the_rest() -> None:
    result = check_resident_id("110105194912310021", today=TODAY)
    assert not result.valid
    assert result.sex is None and result.birth_date is None and result.area_code is None
    assert any("check character 1" in e for e in result.errors)


@pytest.mark.parametrize("number", ["11010519491231002", "11010519491231002X1", ""])
def test_wrong_length_is_rejected(number: str) -> None:
    result = check_resident_id(number, today=TODAY)
    assert not result.valid
    assert any("18 characters, not" in e for e in result.errors)


def test_letters_are_named_in_the_message() -> None:
    result = check_resident_id("11O10519491231002X", today=TODAY)
    assert not result.valid
    assert any("not O" in e for e in result.errors)


def test_x_in_the_middle_is_rejected() -> None:
    result = check_resident_id("1101051949123100X2", today=TODAY)
    assert not result.valid
    assert any("18th character" in e for e in result.errors)


def test_wrong_length_and_letters_are_reported_together() -> None:
    result = check_resident_id("1101A51949", today=TODAY)
    assert len(result.errors) == 2


def test_impossible_date_and_wrong_check_character_are_reported_together() -> None:
    # 1949-02-30 does not exist; the check character was not recomputed either
    result = check_resident_id("11010519490230002X", today=TODAY)
    assert not result.valid
    assert len(result.errors) == 2
    assert "19490230 is not a real date" in result.errors[0]
    assert "check character" in result.errors[1]


def test_future_birth_date_is_rejected_even_with_a_right_check_character() -> None:
    body = "11010520300101002"
    number = body + _check(body)
    result = check_resident_id(number, today=TODAY)
    assert not result.valid
    assert result.errors == ["the birth date 2030-01-01 is in the future"]


def test_birth_today_is_allowed() -> None:
    body = "22088220240630001"
    result = check_resident_id(body + _check(body), today=TODAY)
    assert result.valid
    assert result.area_name == "吉林省白城市大安市"


def test_entered_sex_and_birth_date_are_cross_checked() -> None:
    result = check_resident_id(SAMPLE, today=TODAY)
    assert mismatches(result, sex="female", birth_date=date(1949, 12, 31)) == []
    problems = mismatches(result, sex="male", birth_date=date(1949, 12, 30))
    assert len(problems) == 2


def _check(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    remainder = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    return "10X98765432"[remainder]
