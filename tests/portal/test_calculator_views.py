"""The means-test calculator page and /api/evaluate, through Django's test client."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from django.http import QueryDict
from django.test import Client

from jiuzhu.portal.forms import Calculator


def da_an_household(**changes: str) -> dict[str, str]:
    """The DOMAIN.md §13 example household as the browser posts it (after the 2018 reform)."""
    data = {
        "region": "220882", "date": "2019-06-30", "area_type": "rural", "household_id": "H1", "local_hukou": "on",
        "members-TOTAL_FORMS": "3", "members-INITIAL_FORMS": "0",
        "members-0-id": "m1", "members-0-relation": "head", "members-0-sex": "male",
        "members-0-birth_date": "1984-03-01", "members-0-disability_grade": "5",
        "members-1-id": "m2", "members-1-relation": "spouse", "members-1-sex": "female",
        "members-1-birth_date": "1986-01-01",
        "members-2-id": "m3", "members-2-relation": "child", "members-2-sex": "female",
        "members-2-birth_date": "2009-01-01",
        "income-TOTAL_FORMS": "2", "income-INITIAL_FORMS": "0",
        "income-0-kind": "land_transfer", "income-0-amount": "3200",
        "income-1-kind": "imputed_wage", "income-1-member": "m2",
        "income-1-monthly_reference": "2000", "income-1-months": "3",
        "assets-TOTAL_FORMS": "1", "assets-INITIAL_FORMS": "0",
        "assets-0-kind": "deposit", "assets-0-value": "1500",
        "expenses-TOTAL_FORMS": "1", "expenses-INITIAL_FORMS": "0",
        "facts-TOTAL_FORMS": "0", "facts-INITIAL_FORMS": "0",
        "parameters-TOTAL_FORMS": "4", "parameters-INITIAL_FORMS": "0",
        "parameters-0-name": "dibao.standard", "parameters-0-value": "3600",
        "parameters-1-name": "classified.method", "parameters-1-value": "working_capacity",
        "parameters-2-name": "classified.adjustment_index", "parameters-2-value": "0.25",
        "parameters-3-name": "income.imputation.working_capacity_basis", "parameters-3-value": "household",
    }
    data.update(changes)
    return data


EXAMPLE_CASE: dict[str, Any] = {
    "region": "220882",
    "date": "2019-06-30",
    "area_type": "rural",
    "parameters": {
        "dibao.standard": 3600,
        "classified.method": "working_capacity",
        "classified.adjustment_index": 0.25,
        "income.imputation.working_capacity_basis": "household",
    },
    "household": {
        "id": "H1",
        "local_hukou": True,
        "members": [
            {"id": "m1", "relation": "head", "sex": "male", "birth_date": "1984-03-01",
             "disability_grade": 5},
            {"id": "m2", "relation": "spouse", "sex": "female", "birth_date": "1986-01-01"},
            {"id": "m3", "relation": "child", "sex": "female", "birth_date": "2009-01-01"},
        ],
        "income": [
            {"kind": "land_transfer", "amount": 3200},
            {"kind": "imputed_wage", "member": "m2", "monthly_reference": 2000, "months": 3},
        ],
        "assets": [{"kind": "deposit", "value": 1500}],
        "expenses": [],
    },
}


def posted(data: dict[str, str]) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(data)
    return query


def field_text(html: str, name: str) -> str:
    match = re.search(rf'data-field="{name}">([^<]*)<', html)
    assert match, f"no {name} in the page"
    return match[1]


def cell(html: str, name: str) -> str:
    """The table cell that holds the input called `name`, with its error list."""
    match = re.search(rf'<td[^>]*>(?:(?!</td>).)*name="{re.escape(name)}"(?:(?!</td>).)*</td>', html, re.S)
    assert match, f"no cell for {name}"
    return match[0]


def test_the_form_becomes_the_engines_json_case() -> None:
    calculator = Calculator(posted(da_an_household()))

    assert calculator.is_valid()
    assert calculator.to_case() == EXAMPLE_CASE


def test_empty_and_removed_rows_are_left_out_of_the_case() -> None:
    data = da_an_household(**{
        "members-TOTAL_FORMS": "5", "members-3-DELETE": "on", "members-3-id": "m4", "members-3-sex": "male",
        "expenses-TOTAL_FORMS": "2", "expenses-1-kind": "medical_out_of_pocket", "expenses-1-amount": "120.5",
    })
    calculator = Calculator(posted(data))

    assert calculator.is_valid()
    case = calculator.to_case()
    assert [m["id"] for m in case["household"]["members"]] == ["m1", "m2", "m3"]
    assert case["household"]["expenses"] == [{"kind": "medical_out_of_pocket", "amount": 120.5}]


def test_engine_paths_land_on_their_fields() -> None:
    data = da_an_household(**{"members-TOTAL_FORMS": "4", "members-1-DELETE": "on"})
    calculator = Calculator(posted(data))
    assert calculator.is_valid()
    calculator.to_case()

    calculator.add_problems([
        {"path": "household.members[1].birth_date", "message": "late"},
        {"path": "household.income[1].months", "message": "too many"},
        {"path": "parameters.classified.method", "message": "bad method"},
        {"path": "household.members", "message": "too few"},
        {"path": "date", "message": "no date"},
        {"path": "somewhere.else", "message": "lost"},
    ])

    members = calculator.formsets["members"].forms
    assert members[2].errors == {"birth_date": ["late"]}  # case index 1 is row 2: row 1 was removed
    assert calculator.formsets["income"].forms[1].errors == {"months": ["too many"]}
    assert calculator.formsets["parameters"].forms[1].errors == {"value": ["bad method"]}
    assert calculator.section_errors["members"] == ["too few"]
    assert calculator.case_form.errors == {"date": ["no date"]}
    assert [(m.where, m.text) for m in calculator.messages()][-1] == ("somewhere.else", "lost")


def test_the_example_household_gets_its_amounts(client: Client) -> None:
    response = client.post("/", da_an_household())

    html = response.content.decode()
    assert response.status_code == 200
    assert field_text(html, "topup") == "5200.00"
    assert field_text(html, "classified") == "1620.00"
    assert field_text(html, "total_annual") == "6820.00"
    assert field_text(html, "total_monthly") == "568.33"
    assert field_text(html, "per_capita_net_income") == "1866.67"
    assert field_text(html, "standard") == "3600.00"


def test_the_result_explains_and_traces_in_chinese_by_default(client: Client) -> None:
    html = client.post("/calculator/", da_an_household()).content.decode()

    assert '<html lang="zh-hans">' in html
    assert "低保测算" in html
    assert "L = (0.4 + 0.8 + 0) / 3 = 0.4" in html or "L =（0.4 + 0.8 + 0）÷ 3 = 0.4" in html
    assert "<code>working_capacity_index</code>" in html
    assert "<code>wci.sex.female</code> = 0.8" in html


def test_a_birth_date_after_the_case_date_is_shown_beside_the_field(client: Client) -> None:
    response = client.post("/", da_an_household(**{"members-2-birth_date": "2029-01-01"}))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="result"' not in html
    birth_date = cell(html, "members-2-birth_date")
    assert "晚于测算日期" in birth_date
    assert 'value="2029-01-01"' in birth_date
    assert 'href="#id_members-2-birth_date"' in html  # the summary at the top links to it
    assert 'value="m3"' in cell(html, "members-2-id")  # what was entered is kept


def test_what_is_not_a_number_is_refused_before_the_engine(client: Client) -> None:
    html = client.post("/", da_an_household(**{"income-0-amount": "3200yuan"}), HTTP_ACCEPT_LANGUAGE="en")
    text = html.content.decode()

    assert "Enter a number." in cell(text, "income-0-amount")
    assert 'id="result"' not in text


def test_a_household_without_members_is_told_so(client: Client) -> None:
    blank_member = {f"members-0-{name}": "" for name in ("id", "relation", "sex", "birth_date",
                                                         "disability_grade")}
    data = da_an_household(**{"members-TOTAL_FORMS": "1", "income-TOTAL_FORMS": "1", **blank_member})
    html = client.post("/", data, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "needs at least one member" in html
    assert 'id="result"' not in html


def test_the_english_switch_shows_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Means-test calculator" in html
    assert "低保测算" not in html
    result = client.post("/", da_an_household()).content.decode()
    assert "Household working capacity index L = (0.4 + 0.8 + 0) / 3 = 0.4." in result
    assert "Top-up (gap to the standard)" in result


def test_the_api_evaluates_a_case(client: Client) -> None:
    response = client.post("/api/evaluate?lang=en", EXAMPLE_CASE, content_type="application/json")

    assert response.status_code == 200
    result = response.json()
    assert (result["topup"], result["classified"], result["total_annual"], result["total_monthly"]) == (
        5200.0, 1620.0, 6820.0, 568.33,
    )
    assert result["explanation"][0].startswith("Household working capacity index")


def test_the_api_answers_400_with_every_problem(client: Client) -> None:
    case = json.loads(json.dumps(EXAMPLE_CASE))
    case["household"]["members"][2]["birth_date"] = "2029-01-01"
    case["household"]["income"][0]["amount"] = -1

    response = client.post("/api/evaluate?lang=en", case, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == [
        {"path": "household.members[2].birth_date", "message": "is after the case date"},
        {"path": "household.income[0].amount", "message": "must not be negative"},
    ]


def test_the_api_refuses_what_is_not_json(client: Client) -> None:
    response = client.post("/api/evaluate?lang=en", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == [{"path": "", "message": "the request body is not valid JSON"}]


def test_the_api_takes_only_post(client: Client) -> None:
    assert client.get("/api/evaluate").status_code == 405


def test_the_api_takes_a_list_and_names_the_case_of_each_problem(client: Client) -> None:
    bad = json.loads(json.dumps(EXAMPLE_CASE))
    bad["region"] = "999999"

    response = client.post("/api/evaluate?lang=en", [EXAMPLE_CASE, bad], content_type="application/json")

    assert response.status_code == 400
    assert response.json() == [{"path": "[1].region", "message": "“999999” is not a known division code"}]
    ok = client.post("/api/evaluate", [EXAMPLE_CASE, EXAMPLE_CASE], content_type="application/json")
    assert [result["total_monthly"] for result in ok.json()] == [568.33, 568.33]


def rows(section: str, *items: dict[str, str]) -> dict[str, str]:
    """A section's rows as the browser posts them: the management form and each row's fields."""
    data = {f"{section}-TOTAL_FORMS": str(len(items)), f"{section}-INITIAL_FORMS": "0"}
    for index, item in enumerate(items):
        data.update({f"{section}-{index}-{name}": value for name, value in item.items()})
    return data


def household(region: str, date: str, members: list[dict[str, str]], income: list[dict[str, str]],
              facts: Sequence[dict[str, str]] = (), **case: str) -> dict[str, str]:
    """A rural household as the browser posts it, with no assets, expenses or overrides."""
    return {
        "region": region, "date": date, "area_type": "rural", "household_id": "H1", "local_hukou": "on",
        **rows("members", *members), **rows("income", *income), **rows("assets"), **rows("expenses"),
        **rows("facts", *facts), **rows("parameters"), **case,
    }


def fire_household(*facts: dict[str, str]) -> dict[str, str]:
    """A Dachuan household of two whose house burnt down in 2019, with a pension of 30000."""
    members = [
        {"id": "a", "relation": "head", "sex": "male", "birth_date": "1960-01-01"},
        {"id": "b", "relation": "spouse", "sex": "female", "birth_date": "1962-01-01"},
    ]
    return household("511703", "2019-03-01", members, [{"kind": "pension", "amount": "30000"}], facts)


FIRE_FACTS = (
    {"name": "house_damage", "value": "complete"},
    {"name": "houses_owned", "value": "1"},
    {"member": "a", "name": "at_home_during_fire", "value": "true"},
    {"member": "b", "name": "at_home_during_fire", "value": "false"},
)


def programme_row(html: str, programme: str) -> str:
    match = re.search(rf'<tr data-programme="{programme}">.*?</tr>', html, re.S)
    assert match, f"no row for {programme}"
    return match[0]


def test_programme_facts_become_typed_household_and_member_facts() -> None:
    calculator = Calculator(posted(fire_household(*FIRE_FACTS)))

    assert calculator.is_valid()
    case = calculator.to_case()["household"]
    assert case["facts"] == {"house_damage": "complete", "houses_owned": 1}
    assert [member.get("facts") for member in case["members"]] == [
        {"at_home_during_fire": True}, {"at_home_during_fire": False}]


def test_a_fire_victim_household_gets_the_fire_programme(client: Client) -> None:
    html = client.post("/", fire_household(*FIRE_FACTS), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    row = programme_row(html, "fire_victims")
    assert "Aid to fire victims" in row
    assert field_text(row, "eligible") == "yes"
    assert field_text(row, "amount") == "3500.00"
    assert field_text(row, "period") == "once"
    assert 'data-condition="not_multiple_houses"' in row
    assert "Aid to fire victims: eligible, 3500 yuan once." in html


def test_a_misspelt_fact_name_is_told_beside_its_row(client: Client) -> None:
    misspelt = {"member": "b", "name": "at_home_durng_fire", "value": "false"}
    html = client.post("/", fire_household(*FIRE_FACTS[:3], misspelt)).content.decode()

    assert 'id="result"' not in html
    assert "不是此处任何救助项目的事实项（是否应为“at_home_during_fire”？）" in cell(html, "facts-3-name")
    assert 'href="#id_facts-3-name"' in html  # the summary at the top links to it
    # and the fact the programme still lacks is named in the section
    assert "at_home_during_fire（成员 b）：救助项目“fire_victims”需要此项" in html


def test_a_fact_value_of_the_wrong_type_is_told_beside_the_value(client: Client) -> None:
    wrong = {"name": "houses_owned", "value": "two"}
    html = client.post("/", fire_household(FIRE_FACTS[0], wrong, *FIRE_FACTS[2:])).content.decode()

    assert "应为数字" in cell(html, "facts-1-value")
    assert 'value="two"' in cell(html, "facts-1-value")


def test_a_fact_of_a_member_the_household_lacks_is_refused(client: Client) -> None:
    stray = {"member": "z", "name": "at_home_during_fire", "value": "true"}
    html = client.post("/", fire_household(*FIRE_FACTS, stray), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "refers to member “z”, who is not in the household" in cell(html, "facts-4-member")
    assert 'id="result"' not in html


def test_a_single_applicant_is_tested_as_a_household_of_one(client: Client) -> None:
    members = [
        {"id": "a", "sex": "male", "birth_date": "1990-01-01", "categories": "severe_disability"},
        {"id": "b", "sex": "female", "birth_date": "1980-05-05"},
        {"id": "c", "sex": "male", "birth_date": "1950-01-01"},
    ]
    income = [{"kind": "wage", "amount": "13000", "member": "b"}, {"kind": "pension", "amount": "500", "member": "a"}]
    data = household("220882", "2022-06-30", members, income, single_applicant="a")

    html = client.post("/", data, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert field_text(html, "single_person.allowed") == "yes"
    assert field_text(html, "single_person.topup") == "3100.00"
    assert field_text(html, "single_person.total_annual") == "3100.00"
    assert field_text(html, "single_person.total_monthly") == "258.33"
    assert field_text(html, "dibao_eligible") == "no"  # the family as a whole is a dibao-edge family
    assert "a applies alone as a single-person household" in html


def test_the_fact_names_offer_the_regions_facts_and_the_pilot_counties(client: Client) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    names = re.search(r'<datalist id="fact-names">(.*?)</datalist>', html, re.S)
    assert names
    assert '<option value="hardship_level">' in names[1]  # national, so also Da'an's (220882)
    house_damage = re.search(r'<option value="house_damage">([^<]*)</option>', names[1])
    assert house_damage
    assert house_damage[1].endswith("household · none / partial / complete · only in Dachuan District")
