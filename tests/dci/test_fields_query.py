"""Agreement field filtering and the reading of search criteria (no Django)."""

from __future__ import annotations

from typing import Any

import pytest

from jiuzhu.dci import codes, fields, query
from jiuzhu.dci.codes import ItemRejected
from jiuzhu.dci.query import All, AnyOf, Not, Predicate

PERSON = {"@type": "SRPerson", "identifier": [{"identifier_type": "UIN", "identifier_value": "220882198403010011"}],
          "name": {"surname": "王", "given_name": "大明"}, "birth_date": "1984-03-01", "sex": "male",
          "phone_number": ["13800000000"]}
MEMBER = {"@type": "Member", "member_identifier": PERSON["identifier"], "demographic_info": PERSON,
          "is_disabled": False, "additional_attributes": [{"name": "hukou_type", "value": "rural"},
                                                          {"name": "disability_grade", "value": 3}]}
GROUP: dict[str, Any] = {
    "@type": "Group", "group_identifier": [{"identifier_type": "HouseholdID", "identifier_value": "2208821002010001"}],
    "group_size": 1, "group_head_info": MEMBER, "member_list": [MEMBER],
    "additional_attributes": [{"name": "programmes", "value": ["dibao"]},
                              {"name": "monthly_amount", "value": "350.00"}],
}


def test_only_granted_fields_leave() -> None:
    out = fields.filter_record("Group", GROUP, ["Group.group_size", "Group.member_list", "Member.demographic_info",
                                                "Person.name", "Person.sex"])
    assert out == {"@type": "Group", "group_size": 1,
                   "member_list": [{"@type": "Member", "demographic_info": {
                       "@type": "SRPerson", "name": {"surname": "王", "given_name": "大明"}, "sex": "male"}}]}


def test_a_nested_object_needs_its_own_grant_as_well_as_its_fields() -> None:
    out = fields.filter_record("Group", GROUP, ["Group.group_size", "Person"])
    assert "member_list" not in out and "group_head_info" not in out


def test_additional_attributes_are_granted_one_by_one_or_all_together() -> None:
    one = fields.filter_record("Group", GROUP, ["Group.additional_attributes.programmes"])
    assert one["additional_attributes"] == [{"name": "programmes", "value": ["dibao"]}]
    every = fields.filter_record("Group", GROUP, ["Group.additional_attributes"])
    assert len(every["additional_attributes"]) == 2
    none = fields.filter_record("Group", GROUP, ["Group.group_size"])
    assert "additional_attributes" not in none
    absent = fields.filter_record("Group", GROUP, ["Group.additional_attributes.review_due"])
    assert "additional_attributes" not in absent
    member = fields.filter_record("Member", MEMBER, ["Member.additional_attributes.hukou_type"])
    assert member["additional_attributes"] == [{"name": "hukou_type", "value": "rural"}]


def test_unknown_grants_are_named() -> None:
    assert fields.unknown_grants(["Group.group_size", "Group.poverty", "Household.x", "Person", "Member.is_disabled"]) \
        == ["Group.poverty", "Household.x"]


def test_an_identifier_query_reads_as_one_predicate() -> None:
    criteria = query.parse_criteria({"query_type": "idtype-value",
                                     "query": {"type": "UIN", "value": "220882 19840301 001x"}})
    assert criteria.where == Predicate("identifier", "eq", "22088219840301001X")
    household = query.parse_criteria({"query_type": "idtype-value",
                                      "query": {"type": "HouseholdID", "value": "2208821002010001"}})
    assert household.where == Predicate("household", "eq", "2208821002010001")


def test_a_predicate_list_reads_as_and_of_its_items_with_their_conditions() -> None:
    criteria = query.parse_criteria({"query_type": "predicate", "query": [
        {"seq_num": 2, "expression1": {"attribute_name": "household_size", "operator": "ge", "attribute_value": "3"}},
        {"seq_num": 1, "expression1": {"attribute_name": "region_code", "operator": "eq",
                                       "attribute_value": "220882000000"},
         "condition": "not",
         "expression2": {"attribute_name": "area", "operator": "in", "attribute_value": ["220882101"]}},
    ], "pagination": {"page_size": 5, "page_number": 2}, "sort": [{"attribute_name": "group_size",
                                                                    "sort_order": "desc"}]})
    assert criteria.where == All((All((Predicate("area", "eq", "220882"), Not(Predicate("area", "in", ["220882101"])))),
                                  Predicate("group_size", "ge", 3)))
    assert (criteria.page_size, criteria.page_number, criteria.paginated) == (5, 2, True)
    assert criteria.sort[0].attribute == "group_size" and criteria.sort[0].descending


def test_the_samples_expression_template_is_understood() -> None:
    # release/sample-jsons/.../social/processflow1-2req.json, with our attribute names.
    criteria = query.parse_criteria({"query_type": "expression", "query": {"type": "ns:org:QueryType:NoSql", "value": {
        "expression": {"collection": "HouseHold", "query": {"$and": [{"household_size": {"$lt": 5}}]}}}}})
    assert criteria.where == All((Predicate("group_size", "lt", 5),))
    either = query.parse_criteria({"query_type": "expression", "query": {"value": {"expression": {
        "collection": "Group", "query": {"$or": [{"programme": "dibao"}, {"area_type": {"$eq": "urban"}}]}}}}})
    assert either.where == AnyOf((Predicate("programme", "eq", "dibao"), Predicate("area_type", "eq", "urban")))


@pytest.mark.parametrize(("criteria", "code"), [
    ({"query_type": "sql", "query": "select *"}, codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "predicate", "query": [{"expression1": {"attribute_name": "poverty_score", "operator": "lt",
                                                            "attribute_value": 5}}]}, codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "predicate", "query": [{"expression1": {"attribute_name": "area", "operator": "gt",
                                                            "attribute_value": "22"}}]}, codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "predicate", "query": [{"expression1": {"attribute_name": "group_size", "operator": "eq",
                                                            "attribute_value": "three"}}]},
     codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "idtype-value", "query": {"type": "UIN", "value": "12345"}}, codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "idtype-value", "query": {"type": "passport", "value": "E123"}}, codes.SEARCH_CRITERIA_INVALID),
    ({"query_type": "idtype-value", "query": {"type": "UIN", "value": "220882198403010011"},
      "sort": [{"attribute_name": "name"}]}, codes.SORT_INVALID),
    ({"query_type": "idtype-value", "query": {"type": "UIN", "value": "220882198403010011"},
      "pagination": {"page_size": 1000}}, codes.PAGINATION_INVALID),
    ({"query_type": "idtype-value", "query": {"type": "UIN", "value": "220882198403010011"},
      "response_entity": "Member"}, codes.SEARCH_CRITERIA_INVALID),
])
def test_criteria_we_cannot_answer_are_rejected_with_the_standards_reason(criteria: dict[str, Any],
                                                                          code: str) -> None:
    with pytest.raises(ItemRejected) as rejected:
        query.parse_criteria(criteria, max_page_size=100)
    assert rejected.value.reason_code == code
    assert rejected.value.message()


def test_division_codes_are_cut_to_their_level() -> None:
    assert query.significant_area("220882000000") == "220882"
    assert query.significant_area("220882100200") == "220882100200"
    assert query.significant_area("220800") == "2208"
    assert query.significant_area("220882100000") == "220882100"
