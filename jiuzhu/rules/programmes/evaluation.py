"""Evaluating a case's triggered programmes: conditions held or not, amounts, parameters used."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jiuzhu.rules.errors import InvalidCase, Problem
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.expressions import (
    Environment,
    ExpressionError,
    MissingFact,
    round_fen,
)
from jiuzhu.rules.parameters import (
    NotInForce,
    ParameterContext,
    ParameterValue,
)
from jiuzhu.rules.programmes.facts import _candidates, _missing, _wrong_values, triggered
from jiuzhu.rules.programmes.model import FactSpec, MemberResult, Programme, ProgrammeResult, Reason, convert_fact


def _with_facts(specs: Mapping[str, FactSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(values)
    for name, spec in specs.items():
        if name in row:
            row[name] = convert_fact(spec.type, row[name])
        elif spec.default is not None:
            row[name] = spec.default
    return row


def _reasons(programme: Programme, env: Environment) -> tuple[Reason, ...]:
    return tuple(Reason(c.id, bool(c.expression.evaluate(env)), c.description) for c in programme.conditions)


def _amount(programme: Programme, env: Environment) -> float:
    amount = float(programme.amount.evaluate(env))
    if programme.cap is not None:
        amount = min(amount, float(programme.cap.evaluate(env)))
    return round_fen(max(amount, 0.0))


def evaluate_programme(programme: Programme, household: Mapping[str, Any],
                       members: Sequence[Mapping[str, Any]], params: ParameterContext) -> ProgrammeResult:
    """One programme for one case whose facts are valid.

    Raises NotInForce, MissingFact or ExpressionError; `programme_results` turns them
    into problems. The amount is only computed when every condition holds, so an
    ineligible case never needs the amount's parameters."""
    used: dict[str, ParameterValue] = {}

    def read(name: str) -> Any:
        found = params.get(name)
        used.setdefault(name, found)
        return found.value

    household_values = _with_facts(programme.household_facts, household)
    household_values.update(area_type=params.area_type, case_date=params.date)
    rows = [_with_facts(programme.member_facts, m) for m in members]
    variables: Mapping[str, Callable[[Environment], Any]] = {n: c.evaluate for n, c in programme.variables}
    root = Environment(household_values, read, members=rows,
                       computed=variables if programme.unit == "household" else None)
    member_results: list[MemberResult] = []
    if programme.unit == "household":
        reasons = _reasons(programme, root)
        eligible = all(r.held for r in reasons)
        amount = _amount(programme, root) if eligible else 0.0
        values = root.computed_values()
    else:
        for i in _candidates(programme, members):
            env = Environment(rows[i], read, computed=variables, household=root, member=i)
            held = _reasons(programme, env)
            ok = all(r.held for r in held)
            paid = _amount(programme, env) if ok else 0.0
            member_results.append(MemberResult(str(rows[i].get("id", i)), ok, paid, held, env.computed_values()))
        eligible = any(m.eligible for m in member_results)
        amount = round_fen(sum(m.amount for m in member_results))
        reasons = tuple(Reason(c.id, any(m.reasons[k].held for m in member_results), c.description)
                        for k, c in enumerate(programme.conditions))
        values = {}
    procedure = {name: c.evaluate(root) for name, c in programme.procedure} if eligible else {}
    return ProgrammeResult(programme, eligible, amount, reasons, tuple(used.values()), values, procedure,
                           tuple(member_results))


def programme_results(programmes: Sequence[Programme], facts: Mapping[str, Any],
                      params: ParameterContext) -> list[ProgrammeResult]:
    """Every triggered programme for one case; InvalidCase with every problem otherwise."""
    household: Mapping[str, Any] = facts.get("household") or {}
    members: Sequence[Mapping[str, Any]] = facts.get("members") or []
    problems = _wrong_values(programmes, household, members, unknown=False)
    problems += _missing(programmes, household, members)
    if problems:
        raise InvalidCase(problems)
    results: list[ProgrammeResult] = []
    for p in programmes:
        if not triggered(p, household, members):
            continue
        try:
            results.append(evaluate_programme(p, household, members, params))
        except NotInForce as exc:
            problems.append(exc.problem(f"programmes.{p.id}", params.region, params.date))
        except MissingFact as exc:
            where = "household" if exc.member is None else f"household.members[{exc.member}]"
            declared = p.household_facts if exc.member is None else p.member_facts
            path = f"{where}.facts.{exc.name}" if exc.name in declared else f"{where}.{exc.name}"
            problems.append(Problem(path, _("is needed by the programme “{programme}”"), {"programme": p.id}))
        except ExpressionError as exc:
            problems.append(exc.problem(f"programmes.{p.id}"))
    if problems:
        raise InvalidCase(problems)
    return results


def evaluate_programmes(programmes: Sequence[Programme], facts: Mapping[str, Any], params: ParameterContext,
                        lang: str | None = None) -> list[dict[str, Any]]:
    """The `programmes` entries of DOMAIN.md §13 for one case (triggered programmes only).

    `facts` = {"household": {means-test outputs, local_hukou, household facts},
    "members": [{id, age, sex, disability_grade, categories, member facts}]}."""
    return [r.as_dict(lang) for r in programme_results(programmes, facts, params)]
