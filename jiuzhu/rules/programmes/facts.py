"""A case's programme facts: known names, types and choices, and those a programme needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jiuzhu.rules.errors import Problem, TemplateError
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.expressions import (
    did_you_mean,
)
from jiuzhu.rules.programmes.model import FactSpec, Programme, _json, _text, convert_fact


def _declared(programmes: Sequence[Programme]) -> tuple[dict[str, FactSpec], dict[str, FactSpec]]:
    household: dict[str, FactSpec] = {}
    members: dict[str, FactSpec] = {}
    for p in programmes:
        for name, spec in p.household_facts.items():
            household.setdefault(name, spec)
        for name, spec in p.member_facts.items():
            members.setdefault(name, spec)
    return household, members


def triggered(programme: Programme, household: Mapping[str, Any],
              members: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the case carries one of the programme's trigger facts."""
    for name in programme.trigger:
        if name in programme.household_facts and name in household:
            return True
        if name in programme.member_facts and any(name in m for m in members):
            return True
    return False


def _candidates(programme: Programme, members: Sequence[Mapping[str, Any]]) -> list[int]:
    """The members a person programme is evaluated for."""
    own = [n for n in programme.trigger if n in programme.member_facts]
    if not own:
        return list(range(len(members)))
    return [i for i, m in enumerate(members) if any(n in m for n in own)]


def _missing(programmes: Sequence[Programme], household: Mapping[str, Any],
             members: Sequence[Mapping[str, Any]]) -> list[Problem]:
    found: dict[str, Problem] = {}
    for p in programmes:
        if not triggered(p, household, members):
            continue
        for spec in p.household_facts.values():
            if spec.required and spec.name not in household:
                path = f"household.facts.{spec.name}"
                found.setdefault(path, Problem(path, _("is needed by the programme “{programme}”"),
                                               {"programme": p.id}))
        rows = _candidates(p, members) if p.unit == "person" else range(len(members))
        for i in rows:
            for spec in p.member_facts.values():
                if spec.required and spec.name not in members[i]:
                    path = f"household.members[{i}].facts.{spec.name}"
                    found.setdefault(path, Problem(path, _("is needed by the programme “{programme}”"),
                                                   {"programme": p.id}))
    return list(found.values())


def _wrong_values(programmes: Sequence[Programme], household: Mapping[str, Any],
                  members: Sequence[Mapping[str, Any]], *, unknown: bool) -> list[Problem]:
    household_specs, member_specs = _declared(programmes)
    problems: list[Problem] = []
    rows: list[tuple[str, Mapping[str, Any], dict[str, FactSpec], dict[str, FactSpec]]] = [
        ("household.facts", household, household_specs, member_specs)]
    rows += [(f"household.members[{i}].facts", m, member_specs, household_specs)
             for i, m in enumerate(members)]
    for prefix, values, specs, other in rows:
        for name, value in values.items():
            path = f"{prefix}.{name}"
            spec = specs.get(name)
            if spec is not None:
                try:
                    convert_fact(spec.type, value)
                except TemplateError as exc:
                    problems.append(exc.problem(path))
            elif unknown and name in other:
                where = "household" if other is household_specs else "member"
                problems.append(Problem(path, _("is a {where} fact; give it there"), {"where": where}))
            elif unknown:
                close = did_you_mean(name, [*specs])
                problems.append(
                    Problem(path, _("is not a fact of any programme here"), {}) if close is None else
                    Problem(path, _("is not a fact of any programme here (did you mean “{close}”?)"),
                            {"close": close}))
    return problems


def validate_facts(programmes: Sequence[Programme], household_facts: Mapping[str, Any],
                   member_facts: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Problems with a case's `household.facts` and `household.members[i].facts`: unknown
    facts, wrong types, bad choices, and facts a triggered programme needs but lacks."""
    problems = _wrong_values(programmes, household_facts, member_facts, unknown=True)
    return problems + _missing(programmes, household_facts, member_facts)


def describe_facts(programmes: Sequence[Programme], lang: str | None = None) -> dict[str, Any]:
    """The facts these programmes read, for documenting the JSON contract."""
    out: dict[str, Any] = {"household": {}, "members": {}}
    for p in programmes:
        for section, specs in (("household", p.household_facts), ("members", p.member_facts)):
            for name, spec in specs.items():
                entry = out[section].setdefault(name, {
                    "type": spec.type.kind, "choices": list(spec.type.choices or []) or None,
                    "description": _text(spec.description, lang), "programmes": []})
                entry["programmes"].append({"programme": p.id, "required": spec.required,
                                            "default": _json(spec.default), "trigger": name in p.trigger})
    return out
