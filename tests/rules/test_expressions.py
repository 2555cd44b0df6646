"""The catalogue's expression language: unsafe input is refused at load, rules evaluate exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jiuzhu.rules.expressions import (
    BOOLEAN,
    DATE,
    NUMBER,
    TEXTS,
    Environment,
    ExpressionError,
    FactType,
    MissingFact,
    Schema,
    compile_expression,
    months_between,
    round_fen,
)

SCHEMA = Schema(
    household={"size": NUMBER, "income": NUMBER, "local_hukou": BOOLEAN, "since": DATE, "today": DATE,
               "damage": FactType("text", ("none", "partial", "complete"))},
    member={"age": NUMBER, "at_home": BOOLEAN, "categories": TEXTS,
            "diagnosis": FactType("text", ("leukaemia", "uraemia", "cancer", "other"))},
)
PARAMETERS = {"programmes.x.per_resident": "number", "programmes.x.kinds": "list"}


def household(**values: Any) -> Environment:
    members = values.pop("members", [
        {"age": 70, "at_home": True, "categories": ["elderly"], "diagnosis": "cancer"},
        {"age": 40, "at_home": True, "categories": [], "diagnosis": "other"},
        {"age": 10, "at_home": False, "categories": ["minor"], "diagnosis": "leukaemia"},
    ])
    base = {"size": 3, "income": 3600.0, "local_hukou": True, "since": dt.date(2019, 1, 15),
            "today": dt.date(2019, 7, 14), "damage": "complete"}
    return Environment({**base, **values}, {"programmes.x.per_resident": 500}.__getitem__, members=members)


def value(source: str, env: Environment | None = None, scope: str = "household") -> Any:
    expression = compile_expression(source, SCHEMA, scope=scope, parameters=PARAMETERS)  # type: ignore[arg-type]
    return expression.evaluate(env or household())


def refused(source: str) -> str:
    with pytest.raises(ExpressionError) as error:
        compile_expression(source, SCHEMA, parameters=PARAMETERS)
    return str(error.value)


@pytest.mark.parametrize(("source", "reason"), [
    ("__import__('os')", "unknown function “__import__”"),
    ("__import__('os').system('true')", "only the listed functions can be called"),
    ("().__class__", "“__class__” is not allowed"),
    ("household.__class__", "“__class__” is not allowed"),
    ("size.__class__.__bases__", "not allowed"),
    ("_secret", "underscore"),
    ("lambda: 1", "lambda is not allowed"),
    ("[a for a in members]", "comprehension is not allowed"),
    ("sum(x for x in [1, 2])", "unknown function “sum”"),
    ("open('/etc/passwd')", "unknown function “open”"),
    ("eval('1')", "unknown function “eval”"),
    ("size ** 99999", "operator ** is not allowed"),
    ("size // 2", "operator // is not allowed"),
    ("members[0]", "indexing"),
    ("{'a': 1}", "a dict is not allowed"),
    ("f'{size}'", "f-string is not allowed"),
    ("(x := 1)", "assignment (:=) is not allowed"),
    ("size is None", "“is” is not allowed"),
    ("None", "literal None is not allowed"),
    ("min(*[1, 2])", "unpacking"),
])
def test_unsafe_or_foreign_constructs_are_refused(source: str, reason: str) -> None:
    assert reason in refused(source)


def test_a_syntax_error_names_the_column() -> None:
    assert "syntax error at column" in refused("size +* 2")


def test_a_statement_is_not_an_expression() -> None:
    assert "syntax error" in refused("import os")


def test_an_unknown_name_suggests_the_declared_fact() -> None:
    assert refused("sise + 1") == "unknown name “sise” (did you mean “size”?)"


def test_a_misspelt_choice_is_refused_at_load() -> None:
    assert "“completed” is not one of the allowed values: none, partial, complete" in refused(
        'damage == "completed"')
    assert "“leukemia”" in refused('count(members, diagnosis in ["leukemia", "cancer"])')


def test_types_are_checked_at_load() -> None:
    assert "must be number, not boolean" in refused("local_hukou + 1")
    assert "must be boolean, not number" in refused("size and local_hukou")
    assert "cannot compare number with text" in refused('size == "3"')
    assert "same type" in refused('1 if local_hukou else "a"')


def test_an_unknown_parameter_is_refused_at_load() -> None:
    assert "unknown parameter “programmes.x.per_residnt”" in refused('param("programmes.x.per_residnt")')
    assert "quoted text" in refused("param(size)")


def test_members_is_only_an_aggregate_argument() -> None:
    assert "first argument" in refused("members")
    assert "needs members" in refused("count(size)")


def test_member_functions_do_not_nest() -> None:
    assert "inside another member function" in refused("count(members, count(members) > 1)")


def test_overlong_or_deeply_nested_input_is_refused() -> None:
    assert "longer than" in refused("1 + " * 1000 + "1")
    assert "nested too deeply" in refused("-" * 60 + "1")


def test_arithmetic_follows_the_usual_precedence() -> None:
    assert value("(1 + 2) * 3 / 4 - -1") == 3.25
    assert value("income / size") == 1200.0
    assert value("min(income, 1000, 5000) + max(1, 2) + abs(-3) + floor(2.9)") == 1007


def test_booleans_and_chained_comparisons() -> None:
    assert value("local_hukou and not size > 3") is True
    assert value("1 <= size <= 3 and size != 4") is True
    assert value("size < 3 or income >= 3600") is True
    assert value("size > 1 > 2") is False


def test_tiers_as_conditional_expressions() -> None:
    rule = '5000 if damage == "complete" else (1500 if damage == "partial" else 0)'
    assert value(rule) == 5000
    assert value(rule, household(damage="partial")) == 1500
    assert value(rule, household(damage="none")) == 0


def test_membership_in_a_literal_list_and_in_a_list_fact() -> None:
    assert value('damage in ["partial", "complete"]') is True
    assert value('damage not in ["partial", "complete"]') is False
    assert value('any_of(members, "minor" in categories)') is True


def test_aggregates_over_members() -> None:
    assert value("count(members)") == 3
    assert value("count(members, at_home)") == 2
    assert value("count(members, at_home, age=70)") == 1
    assert value("sum_of(members, age)") == 120
    assert value("sum_of(members, age, age >= 18)") == 110
    assert value('any_of(members, diagnosis="leukaemia")') is True
    assert value("all_of(members, age > 5)") is True
    assert value("all_of(members, at_home)") is False


def test_a_member_expression_reaches_its_household() -> None:
    member = household().members()[0]
    assert value("age >= 60 and household.local_hukou", member, scope="member") is True
    assert value("count(members, household.size > 2)", member, scope="member") == 3


def test_parameters_are_read_through_the_callers_reader() -> None:
    asked: list[str] = []

    def reader(name: str) -> Any:
        asked.append(name)
        return 500

    env = Environment({"size": 3}, reader, members=[{"at_home": True}, {"at_home": True}])
    expression = compile_expression('param("programmes.x.per_resident") * count(members, at_home)', SCHEMA,
                                    parameters=PARAMETERS)
    assert expression.evaluate(env) == 1000
    assert asked == ["programmes.x.per_resident"]
    assert expression.parameters == {"programmes.x.per_resident"}


def test_compiled_once_evaluated_many_times() -> None:
    expression = compile_expression("income / size", SCHEMA)
    assert [expression.evaluate(household(size=n)) for n in (1, 2, 4)] == [3600.0, 1800.0, 900.0]


def test_dates() -> None:
    assert value("months_between(since, today)") == 5
    assert value("days_between(since, today)") == 180
    assert value("since < today") is True
    assert months_between(dt.date(2019, 1, 15), dt.date(2019, 7, 15)) == 6


def test_round_fen_is_half_up_to_the_fen() -> None:
    assert round_fen(2.675) == 2.68
    assert round_fen(0.125) == 0.13
    assert round_fen(1.3 * 3960) == 5148.0
    assert value("round_fen(10 / 3)") == 3.33


def test_division_by_zero_is_a_clear_error() -> None:
    with pytest.raises(ExpressionError, match="division by zero in “income / size”"):
        value("income / size", household(size=0))


def test_a_missing_fact_says_which() -> None:
    expression = compile_expression("income / size", SCHEMA)
    with pytest.raises(MissingFact) as missing:
        expression.evaluate(Environment({"income": 1.0}, {"unused": 0}.__getitem__))
    assert (missing.value.name, missing.value.member) == ("size", None)


def test_a_rule_folded_over_lines_reads_as_one() -> None:
    assert value("local_hukou\n  and size == 3") is True
