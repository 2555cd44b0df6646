"""How the standard is set (DOMAIN.md §5): basket, shares, floors."""

from __future__ import annotations

import pytest

from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.standards import compute_standard

GROUPS = {"two_no_worries": 2185.28, "three_guarantees": 3434.01, "others": 899.80}


def test_basket_of_the_daan_model_is_rounded_down_to_the_yuan() -> None:
    result = compute_standard({"method": "basket", "year": 2016, "groups": GROUPS})
    assert result["standard"] == 2962
    assert result["trace"][0]["value"] == 2962.06


def test_the_eight_yearbook_categories_are_grouped() -> None:
    categories = {"food": 1800.0, "clothing": 385.28, "housing": 2000.0, "education_culture": 734.01,
                  "medical": 700.0, "household_goods": 300.0, "transport_communication": 400.0, "other": 199.8}
    assert compute_standard({"method": "basket", "year": 2016, "categories": categories})["standard"] == 2962


def test_share_of_mean_consumption_and_of_median_income() -> None:
    assert compute_standard({"method": "consumption_share", "year": 2019, "mean_consumption": 12000})[
        "standard"] == 4200
    assert compute_standard({"method": "median_income_share", "year": 2019, "median_income": 20001})[
        "standard"] == 12000


def test_the_poverty_line_is_a_floor() -> None:
    result = compute_standard({"method": "consumption_share", "year": 2019, "mean_consumption": 5000})
    assert result["standard"] == 2300
    assert result["trace"][-1]["name"] == "poverty_line_floor"


def test_the_growth_floor_of_the_region() -> None:
    low = {"method": "consumption_share", "year": 2019, "mean_consumption": 30000, "previous_standard": 10500}
    assert compute_standard({**low, "region": "320582"})["standard"] == 11340   # at least +8% in Zhangjiagang
    assert compute_standard({**low, "region": "220882"})["standard"] == 10500   # no growth floor in Da'an


def test_every_problem_is_reported() -> None:
    with pytest.raises(InvalidCase) as caught:
        compute_standard({"method": "magic", "year": 1800, "colour": 1})
    assert {p["path"] for p in caught.value.as_list()} == {"method", "year", "colour"}
