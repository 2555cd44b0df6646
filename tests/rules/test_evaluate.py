"""`rules evaluate`: the Da'an worked case, the explanation, and every kind of bad input."""

from __future__ import annotations

import pytest

from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.evaluate import evaluate
from tests.rules.factories import adult, daan_example, household


def problems(case: object) -> dict[str, str]:
    with pytest.raises(InvalidCase) as caught:
        evaluate(case)
    return {p["path"]: p["message"] for p in caught.value.as_list()}


def test_daan_worked_case_matches_domain_contract() -> None:
    result = evaluate(daan_example())
    assert result["working_capacity_index"] == 0.4
    assert result["counted_income"] == 5600.0
    assert result["per_capita_net_income"] == 1866.67
    assert result["dibao_eligible"] is True
    assert (result["topup"], result["classified"]) == (5200.0, 1620.0)
    assert (result["total_annual"], result["total_monthly"]) == (6820.0, 568.33)
    assert result["programmes"][0]["programme"] == "dibao" and result["programmes"][0]["amount"] == 6820.0


def test_every_computed_field_has_a_trace_entry_with_sources() -> None:
    result = evaluate(daan_example())
    names = {entry["name"] for entry in result["trace"]}
    assert {"standard", "size", "working_capacity_index", "counted_income", "net_income", "topup",
            "classified", "total_annual", "total_monthly", "dibao_eligible"} <= names
    classified = next(e for e in result["trace"] if e["name"] == "classified")
    m = next(p for p in classified["parameters"] if p["name"] == "classified.adjustment_index")
    assert (m["value"], m["since"], m["region"]) == (0.25, "2018-07-01", "220882")
    assert "Da'an" in m["source"]


def test_standard_from_the_region_when_not_overridden() -> None:
    case = daan_example(parameters={})
    result = evaluate(case)
    standard = next(e for e in result["trace"] if e["name"] == "standard")["parameters"][0]
    assert (standard["value"], standard["region"], standard["since"]) == (3600, "220882", "2018-07-01")
    # Da'an's own parameters in force on that date: working capacity, M = 0.25, household basis.
    assert result["classified"] == 1620.0


def test_standard_changes_on_its_date() -> None:
    before = evaluate(daan_example(date="2018-06-30", parameters={}))
    after = evaluate(daan_example(date="2018-07-01", parameters={}))
    assert (before["standard"], after["standard"]) == (2700.0, 3600.0)


def test_english_explanation_reads_like_the_domain_example() -> None:
    sentences = evaluate(daan_example(), lang="en")["explanation"]
    assert sentences[0] == "Household working capacity index L = (0.4 + 0.8 + 0) / 3 = 0.4."
    assert "m2: earnings imputed at 2000 yuan/month × 0.4 × 3 months = 2400 yuan." in sentences
    assert "Top-up (3600 − 5600 / 3) × 3 = 5200 yuan." in sentences
    assert sentences[-1] == "Total 6820 yuan a year, 568.33 yuan a month."


def test_the_counted_income_read_aloud_adds_up_with_its_deductions() -> None:
    basis = {"income.employment_cost_rate": 0.1, "income.employment_cost_basis": "minimum_wage",
             "income.minimum_wage_monthly": 1500}
    case = household([adult("a"), adult("b", sex="female")], parameters=basis,
                     income=[{"kind": "wage", "amount": 6000, "member": "a"},
                             {"kind": "wage", "amount": 2000, "member": "b"}],
                     expenses=[{"kind": "tax", "amount": 100}])
    english = evaluate(case, lang="en")["explanation"]
    assert ("Employment costs: 10% of the minimum wage of 1500 yuan a month × 12 months × 2 earning member(s), "
            "no more than the wages: 3600 yuan.") in english
    assert "Household counted income 8000 − 3600 − 100 = 4300 yuan." in english
    chinese = evaluate({**case, "parameters": {"income.employment_cost_rate": 0.1}}, lang="zh-hans")["explanation"]
    assert "必要就业成本：工资收入 8000 元的 10% = 800 元。" in chinese
    assert "家庭收入 8000 − 800 − 100 = 7100 元。" in chinese


def test_chinese_explanation_comes_from_the_catalogue() -> None:
    sentences = evaluate(daan_example(), lang="zh-hans")["explanation"]
    assert sentences[0] == "家庭劳动能力系数 L =（0.4 + 0.8 + 0）÷ 3 = 0.4。"
    assert any("5200" in s and "差额" in s for s in sentences)


def test_list_of_cases_gives_a_list() -> None:
    results = evaluate([daan_example(), daan_example(area_type="urban", parameters={})])
    assert [r["standard"] for r in results] == [3600.0, 5760.0]


def test_every_problem_is_reported_at_once_and_nothing_computed() -> None:
    case = daan_example()
    case["household"]["members"][1]["birth_date"] = "2020-01-01"
    case["household"]["members"][2]["sex"] = "child"
    case["household"]["income"][0]["amount"] = -5
    case["household"]["income"][1]["member"] = "m9"
    case["household"]["colour"] = "blue"
    case["date"] = "2019-02-30"
    found = problems(case)
    assert found["date"] == "“2019-02-30” is not a real date"
    assert found["household.members[2].sex"].startswith("“child” is not one of")
    assert found["household.income[0].amount"] == "must not be negative"
    assert "m9" in found["household.income[1].member"]
    assert found["household.colour"] == "is not a known field"


def test_birth_after_the_case_date_is_rejected() -> None:
    case = daan_example()
    case["household"]["members"][1]["birth_date"] = "2019-07-01"
    assert problems(case) == {"household.members[1].birth_date": "is after the case date"}


@pytest.mark.parametrize(("field", "value", "path", "message"), [
    ("region", 220882, "region", "must be text"),
    ("region", "2208", "region", "must be a division code of 6, 9 or 12 digits, written as text"),
    ("area_type", "suburban", "area_type", "“suburban” is not one of: urban, rural"),
    ("date", "30/06/2019", "date", "must be a date written YYYY-MM-DD"),
])
def test_bad_top_level_fields(field: str, value: object, path: str, message: str) -> None:
    assert problems(daan_example(**{field: value}))[path] == message


def test_unknown_region_is_rejected_with_a_region_check() -> None:
    with pytest.raises(InvalidCase) as caught:
        evaluate(daan_example(region="990101"), known_region=lambda code: code.startswith("22"))
    assert caught.value.as_list() == [{"path": "region", "message": "“990101” is not a known division code"}]


def test_parameter_not_in_force_is_an_error_not_a_default() -> None:
    found = problems(daan_example(region="110105", parameters={}))
    assert found == {"region": "parameter “dibao.standard” has no value in force on 2019-06-30 for region 110105"}


def test_override_must_name_an_existing_parameter_of_the_right_type() -> None:
    found = problems(daan_example(parameters={"dibao.standrd": 1, "classified.method": "magic",
                                              "dibao.minimum_amount": "ten"}))
    assert found["parameters.dibao.standrd"] == "unknown parameter"
    assert found["parameters.classified.method"].startswith("must be one of")
    assert found["parameters.dibao.minimum_amount"] == "must be a number"


def test_messages_are_translated() -> None:
    case = daan_example()
    case["household"]["members"][1]["birth_date"] = "2019-07-01"
    with pytest.raises(InvalidCase) as caught:
        evaluate(case)
    assert caught.value.as_list("zh-hans")[0]["message"] == "晚于测算日期"


def test_household_without_counted_member_is_rejected() -> None:
    case = household([adult(not_counted_reason="prison")])
    assert problems(case) == {"household.members": "needs at least one counted member"}


def test_members_not_counted_leave_size_and_income() -> None:
    members = [adult("a"), adult("b", sex="female", not_counted_reason="prison")]
    case = household(members, income=[{"kind": "wage", "amount": 1000, "member": "a"},
                                      {"kind": "wage", "amount": 50000, "member": "b"}])
    result = evaluate(case)
    assert (result["size"], result["counted_income"]) == (1, 1000.0)


def test_excluded_income_kinds_follow_the_dated_parameter() -> None:
    members = [adult("a", birth_date="1950-01-01")]
    income = [{"kind": "central_basic_pension", "amount": 1200}, {"kind": "scholarship", "amount": 800}]
    in_2022 = evaluate(household(members, date="2022-06-30", income=income))
    in_2020 = evaluate(household(members, date="2020-06-30", income=income))
    assert (in_2022["counted_income"], in_2020["counted_income"]) == (0.0, 1200.0)


def test_assets_over_the_limit_make_the_household_ineligible() -> None:
    members = [adult("a")]
    rich = evaluate(household(members, assets=[{"kind": "deposit", "value": 3601}]))
    poor = evaluate(household(members, assets=[{"kind": "deposit", "value": 3600}]))
    assert (rich["assets_within_limit"], rich["dibao_eligible"], rich["topup"]) == (False, False, 0.0)
    assert (poor["assets_within_limit"], poor["dibao_eligible"]) == (True, True)


def test_exempt_vehicle_does_not_count() -> None:
    members = [adult("a")]
    car = evaluate(household(members, assets=[{"kind": "vehicle", "value": 90000}]))
    aid = evaluate(household(members, assets=[{"kind": "vehicle", "value": 90000, "exempt": True}]))
    assert (car["assets_within_limit"], aid["assets_within_limit"]) == (False, True)


def test_dibao_edge_between_the_standard_and_its_multiple() -> None:
    members = [adult("a")]
    edge = evaluate(household(members, income=[{"kind": "wage", "amount": 5000}]))
    above = evaluate(household(members, income=[{"kind": "wage", "amount": 5400}]))
    assert (edge["dibao_eligible"], edge["dibao_edge"]) == (False, True)
    assert above["dibao_edge"] is False  # 5400 is exactly 1.5 × 3600: not below


def test_per_capita_income_equal_to_the_standard_is_not_eligible() -> None:
    result = evaluate(household([adult("a"), adult("b", sex="female")], income=[{"kind": "wage", "amount": 7200}]))
    assert (result["dibao_eligible"], result["topup"]) == (False, 0.0)


def test_minimum_amount_raises_a_small_topup() -> None:
    case = household([adult("a")], income=[{"kind": "wage", "amount": 3590}],
                     parameters={"dibao.minimum_amount": 120})
    assert evaluate(case)["topup"] == 120.0


def test_refused_work_withholds_only_that_members_share() -> None:
    members = [adult("a", refused_work=True), adult("b", sex="female"), adult("c", birth_date="2012-01-01")]
    result = evaluate(household(members, parameters={"classified.method": "none"}))
    assert result["topup"] == round(3600 * 3 * 2 / 3, 2)


def test_category_increments_take_the_highest_rate_per_member() -> None:
    members = [adult("a", disability_grade=1), adult("b", birth_date="2010-01-01", disability_grade=2)]
    case = household(members, date="2017-06-30", income=[{"kind": "wage", "amount": 2000}])
    result = evaluate(case)
    # Da'an before the pilot: severe disability 50%, minor 50% (one each); standard 2700.
    assert result["classified"] == 2700.0


def test_necessary_expenditure_is_deducted_where_the_region_deducts_it() -> None:
    members = [adult("a")]
    expenses = [{"kind": "medical_out_of_pocket", "amount": 2000}, {"kind": "education", "amount": 900}]
    result = evaluate(household(members, income=[{"kind": "wage", "amount": 5000}], expenses=expenses))
    assert (result["necessary_expenditure"], result["net_income"], result["dibao_eligible"]) == (2000.0, 3000.0, True)


def test_bands_give_the_amount_of_the_band() -> None:
    case = household([adult("a"), adult("b", sex="female")], income=[{"kind": "wage", "amount": 3000}],
                     parameters={"dibao.benefit_method": "bands", "dibao.bands.income_thresholds": [0, 1000, 2000],
                                 "dibao.bands.amounts": [3000, 2000, 1000], "classified.method": "none"})
    assert evaluate(case)["topup"] == 4000.0  # 1500 per person lies in the second band


def test_gradual_exit_keeps_the_previous_amount_for_a_while() -> None:
    case = household([adult("a")], date="2023-03-31", income=[{"kind": "wage", "amount": 9000}],
                     previous_topup=2400, employment_started="2023-01-15")
    late = household([adult("a")], date="2023-09-30", income=[{"kind": "wage", "amount": 9000}],
                     previous_topup=2400, employment_started="2023-01-15")
    assert (evaluate(case)["gradual_exit"], evaluate(case)["topup"]) == (True, 2400.0)
    assert (evaluate(late)["gradual_exit"], evaluate(late)["topup"]) == (False, 0.0)


def test_imputed_wage_from_an_occupation_uses_the_reference_earnings() -> None:
    members = [adult("a", sex="female")]
    case = household(members, income=[{"kind": "imputed_wage", "member": "a", "occupation": "domestic_service",
                                       "months": 2}], parameters={"income.imputation.working_capacity_basis": "none"})
    assert evaluate(case)["counted_income"] == 4000.0


def _fire_case(**facts: object) -> dict[str, object]:
    members = [adult("a", birth_date="1960-01-01", facts={"at_home_during_fire": True}),
               adult("b", sex="female", birth_date="1962-01-01", facts={"at_home_during_fire": False})]
    return household(members, region="511703", date="2019-03-01", income=[{"kind": "pension", "amount": 30000}],
                     facts={"house_damage": "complete", "houses_owned": 1, **facts})


def test_catalogue_programmes_are_evaluated_when_the_case_carries_their_facts() -> None:
    result = evaluate(_fire_case(), lang="en")
    fire = next(p for p in result["programmes"] if p["programme"] == "fire_victims")
    # Not a dibao household: 3,000 for the burnt house + 500 for the one resident at home.
    assert (fire["eligible"], fire["amount"]) == (True, 3500.0)
    assert "Aid to fire victims: eligible, 3500 yuan once." in result["explanation"]
    assert [p["programme"] for p in evaluate(daan_example())["programmes"]] == ["dibao"]


def test_programme_conditions_that_fail_are_named() -> None:
    result = evaluate(_fire_case(houses_owned=2))
    fire = next(p for p in result["programmes"] if p["programme"] == "fire_victims")
    assert fire["eligible"] is False and fire["amount"] == 0.0
    assert [r["condition"] for r in fire["reasons"] if not r["held"]] == ["not_multiple_houses"]


def test_programme_facts_are_validated_with_the_case() -> None:
    case = _fire_case(house_damage="flooded", colour="red")
    case["household"]["members"][0]["birth_date"] = "2030-01-01"  # type: ignore[index]
    found = problems(case)
    assert found["household.facts.house_damage"] == "must be one of: none, partial, complete"
    assert found["household.facts.colour"] == "is not a fact of any programme here"
    assert found["household.members[0].birth_date"] == "is after the case date"


def _edge_family(applicant_tags: list[str], date: str = "2022-06-30") -> dict[str, object]:
    members = [adult("a", categories=applicant_tags, birth_date="1990-01-01"), adult("b", sex="female"),
               adult("c", birth_date="1950-01-01")]
    # Family income 13,500 for 3: 4,500 each, over the 3,600 standard and under 1.5 × 3,600.
    income = [{"kind": "wage", "amount": 13000, "member": "b"}, {"kind": "pension", "amount": 500, "member": "a"}]
    return household(members, date=date, income=income, single_applicant="a")


def test_a_severely_disabled_member_of_an_edge_family_may_apply_alone() -> None:
    result = evaluate(_edge_family(["severe_disability"]), lang="en")
    assert (result["dibao_edge"], result["dibao_eligible"]) == (True, False)
    single = result["single_person"]
    assert (single["member"], single["allowed"], single["dibao_eligible"]) == ("a", True, True)
    assert single["topup"] == 3100.0  # 3600 − his own 500
    assert result["programmes"][0]["eligible"] is True and result["programmes"][0]["member"] == "a"


def test_a_member_without_qualifying_need_may_not_apply_alone() -> None:
    single = evaluate(_edge_family([]))["single_person"]
    assert (single["allowed"], single["topup"]) == (False, 0.0)
    assert [r["held"] for r in single["reasons"]] == [True, False]


def test_single_person_applications_before_the_2021_rules_are_an_error() -> None:
    assert "household.single_applicant" in problems(_edge_family(["severe_disability"], date="2019-06-30"))
