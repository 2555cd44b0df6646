"""The programme catalogue: shipped rules as data cases, fact checks, and broken files."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.parameters import ParameterContext, default_tree, region_chain
from jiuzhu.rules.programmes import (
    CatalogueError,
    Programme,
    default_catalogue,
    describe_facts,
    evaluate_programmes,
    load_catalogue,
    validate_facts,
)

CASES = Path(__file__).parent / "programme_cases"


def _load_cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append((f"{path.stem}: {case['name']}", case))
    return found


ALL_CASES = _load_cases()


def _date(raw: Any) -> dt.date:
    return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))


def context(case: dict[str, Any]) -> ParameterContext:
    tree = default_tree()
    area_type = case["area_type"]
    overrides = {name: tree.convert_override(name, area_type, raw)
                 for name, raw in (case.get("parameters") or {}).items()}
    return ParameterContext(tree, str(case["region"]), _date(case["date"]), area_type, overrides)


def programmes_for(region: str) -> list[Programme]:
    return default_catalogue().for_region(region_chain(region))


def failed(reasons: list[dict[str, Any]]) -> list[str]:
    return [r["condition"] for r in reasons if not r["held"]]


def check(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["eligible"] == want["eligible"]
    if "amount" in want:
        assert got["amount"] == pytest.approx(want["amount"], abs=1e-9)
    if "failed" in want:
        assert failed(got["reasons"]) == want["failed"]
    for name, expected in (want.get("values") or {}).items():
        if isinstance(expected, int | float) and not isinstance(expected, bool):
            assert got["values"][name] == pytest.approx(expected), name
        else:
            assert got["values"][name] == expected, name
    if "procedure" in want:
        assert got["procedure"] == want["procedure"]
    members = {m["member"]: m for m in got.get("members", [])}
    for member, expected in (want.get("members") or {}).items():
        check(members[member], expected)


@pytest.mark.parametrize("case", [c for _, c in ALL_CASES], ids=[name for name, _ in ALL_CASES])
def test_programme_case(case: dict[str, Any]) -> None:
    programmes = programmes_for(str(case["region"]))
    if "problems" in case:
        with pytest.raises(InvalidCase) as error:
            evaluate_programmes(programmes, case["facts"], context(case))
        assert sorted(p.path for p in error.value.problems) == sorted(case["problems"])
        return
    results = {r["programme"]: r for r in evaluate_programmes(programmes, case["facts"], context(case))}
    for programme, want in (case.get("expected") or {}).items():
        assert programme in results, f"{programme} was not listed"
        check(results[programme], want)
    for programme in case.get("absent", []):
        assert programme not in results


def test_every_shipped_programme_has_an_eligible_and_an_ineligible_case() -> None:
    seen: dict[tuple[str, str], set[bool]] = defaultdict(set)
    for _, case in ALL_CASES:
        in_force = {p.id: p for p in programmes_for(str(case["region"]))}
        for programme, want in (case.get("expected") or {}).items():
            seen[(in_force[programme].level, programme)].add(bool(want["eligible"]))
    shipped = {(p.level, p.id) for p in default_catalogue().programmes()}
    assert shipped, "the catalogue ships programmes"
    for key in sorted(shipped):
        assert seen[key] == {True, False}, f"{key} needs an eligible and an ineligible case"


def test_the_shipped_catalogue_has_the_domain_examples() -> None:
    assert {p.id for p in programmes_for("511703")} >= {"fire_victims", "special_diseases", "tekun",
                                                         "temporary_expenditure", "temporary_emergency"}
    zhangjiagang = {p.id: p for p in programmes_for("320582")}
    assert {"catastrophic_medical_topup", "edge_student_aid"} <= set(zhangjiagang)
    assert zhangjiagang["temporary_expenditure"].level == "320582"   # replaces the national one
    assert {p.id: p for p in programmes_for("511703")}["temporary_expenditure"].level == "national"


def test_results_read_in_chinese() -> None:
    [case] = [c for name, c in ALL_CASES if name.startswith("fire_victims: completely burnt, dibao")]
    [result] = [r for r in evaluate_programmes(programmes_for("511703"), case["facts"], context(case), "zh-hans")
                if r["programme"] == "fire_victims"]
    assert result["name"] == "火灾受灾群众救助"
    assert result["reasons"][0] == {"condition": "local_hukou", "held": True, "description": "本地户籍"}
    assert {p["name"] for p in result["parameters"]} >= {"programmes.fire_victims.per_resident"}
    assert result["parameters"][0]["region"] == "511703" and result["parameters"][0]["source"]


def test_a_programme_without_its_trigger_is_not_listed() -> None:
    facts = {"household": {"local_hukou": True, "standard": 3960}, "members": [{"id": "m1", "age": 80}]}
    ctx = ParameterContext(default_tree(), "511703", dt.date(2019, 3, 1), "rural")
    assert evaluate_programmes(programmes_for("511703"), facts, ctx) == []


# facts of a case


def paths(problems: list[Any]) -> dict[str, str]:
    return {p.path: p.message() for p in problems}


def test_validate_facts_reports_every_problem_with_its_path() -> None:
    found = paths(validate_facts(
        programmes_for("511703"),
        {"house_damage": "burnt", "houses_owned": "one", "diagnosis": "cancer", "house_damaged": 1},
        [{"at_home_during_fire": "yes", "diagnosis": "flu"}, {}],
    ))
    assert found == {
        "household.facts.house_damage": "must be one of: none, partial, complete",
        "household.facts.houses_owned": "must be a number",
        "household.facts.diagnosis": "is a member fact; give it there",
        "household.facts.house_damaged": "is not a fact of any programme here (did you mean “house_damage”?)",
        "household.members[0].facts.at_home_during_fire": "must be true or false",
        "household.members[0].facts.diagnosis": "must be one of: leukaemia, uraemia, cancer, other",
        "household.members[1].facts.at_home_during_fire": "is needed by the programme “fire_victims”",
        "household.members[0].facts.diagnosed_at_qualifying_hospital": "is needed by the programme “special_diseases”",
        "household.members[0].facts.agency_or_enterprise_staff": "is needed by the programme “special_diseases”",
        "household.members[0].facts.recovered": "is needed by the programme “special_diseases”",
    }


def test_validate_facts_accepts_a_good_case() -> None:
    household = {"house_damage": "partial", "houses_owned": 1, "expenditure_cause": "medical",
                 "hardship_level": "general", "aided_for_same_cause": False}
    members: list[dict[str, Any]] = [{"at_home_during_fire": True, "disability_certificate_grade": 2},
                                     {"at_home_during_fire": False}]
    assert validate_facts(programmes_for("511703"), household, members) == []


def test_a_date_fact_must_be_a_date() -> None:
    found = paths(validate_facts(programmes_for("320582"), {"resident_since": "2019-02-30"}, []))
    assert found["household.facts.resident_since"] == "must be a date (YYYY-MM-DD)"


def test_a_fact_of_another_region_is_unknown_here() -> None:
    found = paths(validate_facts(programmes_for("220882"), {"house_damage": "complete"}, []))
    assert list(found) == ["household.facts.house_damage"]


def test_describe_facts_documents_the_contract() -> None:
    facts = describe_facts(programmes_for("511703"), "en")
    assert facts["household"]["house_damage"]["choices"] == ["none", "partial", "complete"]
    assert facts["members"]["diagnosis"]["programmes"] == [
        {"programme": "special_diseases", "required": True, "default": None, "trigger": True}]


# broken catalogues


PARAMETERS = """\
description: {zh-hans: 测试, en: Test}
amount:
  description: {zh-hans: 金额, en: Amount}
  unit: CNY/household
  values:
    '2018-01-01': {value: 100, reference: test file}
"""

GOOD = """\
id: {id}
name: {{zh-hans: 测试, en: Test}}
reference: test
period: once
unit: household
trigger: [flooded]
facts:
  household:
    flooded: {{type: boolean, description: {{zh-hans: 受淹, en: Flooded}}}}
conditions:
  - {{id: flooded, description: {{zh-hans: 受淹, en: Flooded}}, expression: flooded}}
amount: {amount}
"""


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "national" / "programmes").mkdir(parents=True)
    (tmp_path / "national" / "programmes" / "test.yaml").write_text(PARAMETERS, encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def problems_of(root: Path) -> dict[str, str]:
    with pytest.raises(CatalogueError) as error:
        load_catalogue(root)
    return {p.path: p.message() for p in error.value.problems}


def test_a_broken_catalogue_file_gives_file_key_and_reason(tmp_path: Path) -> None:
    broken = GOOD.format(id="flood", amount="open('x')").replace(
        "expression: flooded", "expression: 'flooded and __import__(\"os\")'")
    found = problems_of(tree(tmp_path, {"national/catalogue/flood.yaml": broken}))
    assert found == {
        "national/catalogue/flood.yaml:conditions[0].expression":
            "unknown function “__import__”; allowed: min, max, abs, floor, round_fen, months_between, "
            "days_between, param, count, sum_of, any_of, all_of",
        "national/catalogue/flood.yaml:amount":
            "unknown function “open”; allowed: min, max, abs, floor, round_fen, months_between, "
            "days_between, param, count, sum_of, any_of, all_of",
    }


def test_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    files = {
        "national/catalogue/flood.yaml": GOOD.format(id="flood", amount='param("programmes.test.amont")'),
        "national/catalogue/storm.yaml": GOOD.format(id="gale", amount="flooded +"),
        "national/catalogue/quake.yaml": "id: quake\nname: [not, a, mapping\n",
        "51/5117/511703/catalogue/hail.yaml": GOOD.format(id="hail", amount="100").replace(
            "period: once", "period: weekly").replace("trigger: [flooded]", "trigger: [hailed]"),
    }
    found = problems_of(tree(tmp_path, files))
    assert found["national/catalogue/flood.yaml:amount"] == (
        "unknown parameter “programmes.test.amont” (did you mean “programmes.test.amount”?)")
    assert found["national/catalogue/storm.yaml:id"] == "must be the file name (storm)"
    assert found["national/catalogue/storm.yaml:amount"].startswith("syntax error at column")
    assert found["national/catalogue/quake.yaml"].startswith("is not valid YAML")
    assert found["51/5117/511703/catalogue/hail.yaml:period"] == "must be one of: once, per_year, per_month"
    assert found["51/5117/511703/catalogue/hail.yaml:trigger"] == (
        "“hailed” is not a fact declared by this programme")


def test_a_catalogue_folder_outside_a_level_is_reported(tmp_path: Path) -> None:
    found = problems_of(tree(tmp_path, {"national/extra/catalogue/x.yaml": GOOD.format(id="x", amount="1")}))
    assert found["national/extra/catalogue"] == "a catalogue folder must be in national/ or in a region folder"


def test_type_and_choice_mistakes_are_caught_at_load(tmp_path: Path) -> None:
    text = GOOD.format(id="flood", amount="'\"a lot\"'").replace(
        "expression: flooded", "expression: 'flooded + 1'")
    found = problems_of(tree(tmp_path, {"national/catalogue/flood.yaml": text}))
    assert found == {
        "national/catalogue/flood.yaml:conditions[0].expression": "each side of “+” must be number, not boolean",
        "national/catalogue/flood.yaml:amount": "must give number, but gives text",
    }


def test_a_fact_means_one_thing_everywhere(tmp_path: Path) -> None:
    other = GOOD.format(id="drought", amount="1").replace("{type: boolean", "{type: number").replace(
        "expression: flooded", "expression: flooded > 0")
    found = problems_of(tree(tmp_path, {"national/catalogue/flood.yaml": GOOD.format(id="flood", amount="1"),
                                        "national/catalogue/drought.yaml": other}))
    assert list(found) == ["national/catalogue/flood.yaml:facts.household.flooded"]
    assert "declared differently in national/catalogue/drought.yaml" in found[
        "national/catalogue/flood.yaml:facts.household.flooded"]


def test_a_region_adds_programmes_and_replaces_one_by_id(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "national/catalogue/flood.yaml": GOOD.format(id="flood", amount='param("programmes.test.amount")'),
        "51/5117/511703/catalogue/flood.yaml": GOOD.format(id="flood", amount='2 * param("programmes.test.amount")'),
        "51/5117/511703/catalogue/hail.yaml": GOOD.format(id="hail", amount="7"),
    })
    catalogue = load_catalogue(root)
    assert [(p.id, p.level) for p in catalogue.for_region(region_chain("511703"))] == [
        ("flood", "511703"), ("hail", "511703")]
    assert [(p.id, p.level) for p in catalogue.for_region(region_chain("220882"))] == [("flood", "national")]
    from jiuzhu.rules.parameters import load_tree
    ctx = ParameterContext(load_tree(root), "511703001", dt.date(2019, 1, 1), "rural")
    results = evaluate_programmes(catalogue.for_region(region_chain("511703001")),
                                  {"household": {"flooded": True}, "members": []}, ctx)
    assert [(r["programme"], r["amount"]) for r in results] == [("flood", 200.0), ("hail", 7.0)]


def test_tiers_take_the_first_match_and_none_gives_zero(tmp_path: Path) -> None:
    text = GOOD.format(id="flood", amount="").replace("amount: \n", textwrap.dedent("""\
        amount:
          tiers:
            - when: depth > 1
              amount: '300'
            - when: depth > 0
              amount: '100'
        """)).replace("facts:\n  household:\n", "facts:\n  household:\n    depth: {type: number, description: "
                      "{zh-hans: 水深, en: Depth}}\n")
    root = tree(tmp_path, {"national/catalogue/flood.yaml": text})
    programmes = load_catalogue(root).for_region([])
    from jiuzhu.rules.parameters import load_tree
    ctx = ParameterContext(load_tree(root), "511703", dt.date(2019, 1, 1), "rural")
    amounts = [evaluate_programmes(programmes, {"household": {"flooded": True, "depth": d}}, ctx)[0]["amount"]
               for d in (2, 0.5, 0)]
    assert amounts == [300.0, 100.0, 0.0]
