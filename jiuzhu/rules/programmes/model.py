"""The catalogue's vocabulary: programmes, facts, conditions and results as data."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jiuzhu.rules.errors import TemplateError
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.expressions import (
    BOOLEAN,
    DATE,
    FUNCTIONS,
    NUMBER,
    TEXT,
    TEXTS,
    Environment,
    Expression,
    FactType,
)
from jiuzhu.rules.parameters import (
    AREA_TYPES,
    NATIONAL,
    ParameterError,
    ParameterTree,
    ParameterValue,
)
from jiuzhu.rules.vocabulary import RELATIONS, SEXES

CATALOGUE_FOLDER = "catalogue"


PERIODS = ("once", "per_year", "per_month")


#: The gradient order of assistance (DOMAIN.md §6): basic livelihood, then temporary, then special.
GRADIENTS = ("basic", "temporary", "special")


UNITS = ("household", "person")


FACT_KINDS = ("number", "boolean", "text", "date")


#: Household names the engine supplies: the means-test outputs (DOMAIN.md §13), local
#: household registration, and the case's area type and date.
HOUSEHOLD_BUILTINS: Mapping[str, FactType] = {
    "standard": NUMBER, "size": NUMBER, "working_capacity_index": NUMBER, "counted_income": NUMBER,
    "necessary_expenditure": NUMBER, "net_income": NUMBER, "per_capita_net_income": NUMBER,
    "assets_within_limit": BOOLEAN, "dibao_eligible": BOOLEAN, "dibao_edge": BOOLEAN,
    "gradual_exit": BOOLEAN, "topup": NUMBER, "classified": NUMBER, "total_annual": NUMBER,
    "total_monthly": NUMBER, "local_hukou": BOOLEAN, "area_type": FactType("text", AREA_TYPES),
    "case_date": DATE,
}


#: Member names the engine supplies (disability_grade 0 = none; categories given and derived).
MEMBER_BUILTINS: Mapping[str, FactType] = {
    "id": TEXT, "relation": FactType("text", RELATIONS), "sex": FactType("text", SEXES), "age": NUMBER,
    "disability_grade": NUMBER, "categories": TEXTS,
}


_RESERVED = frozenset({"members", "household", *FUNCTIONS})


_PROGRAMME_KEYS = frozenset({"id", "name", "reference", "period", "unit", "gradient", "trigger", "facts", "variables",
                             "conditions", "amount", "cap", "procedure", "description", "documentation"})


_FACT_KEYS = frozenset({"type", "choices", "description", "required", "default"})


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ParameterError):
    """The catalogue (or the parameter tree under it) is invalid: every problem, with file, key and reason."""


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: FactType
    description: Mapping[str, str]
    required: bool
    default: Any = None


@dataclass(frozen=True)
class Tier:
    when: Expression | None
    value: Expression


@dataclass(frozen=True)
class Tiers:
    """The first tier whose `when` holds gives the value; number tiers with no match give 0."""

    tiers: tuple[Tier, ...]
    type: FactType

    @property
    def source(self) -> str:
        return "; ".join(f"{t.when.source if t.when else 'otherwise'} → {t.value.source}" for t in self.tiers)

    def evaluate(self, env: Environment) -> Any:
        for tier in self.tiers:
            if tier.when is None or tier.when.evaluate(env):
                return tier.value.evaluate(env)
        return 0


Computation = Expression | Tiers


@dataclass(frozen=True)
class Condition:
    id: str
    description: Mapping[str, str]
    expression: Expression


@dataclass(frozen=True)
class Programme:
    id: str
    name: Mapping[str, str]
    reference: str
    period: str
    unit: str
    gradient: str
    trigger: tuple[str, ...]
    household_facts: Mapping[str, FactSpec]
    member_facts: Mapping[str, FactSpec]
    variables: tuple[tuple[str, Computation], ...]
    conditions: tuple[Condition, ...]
    amount: Computation
    cap: Computation | None
    procedure: tuple[tuple[str, Computation], ...]
    file: str
    level: str


@dataclass
class Catalogue:
    """Programmes per level (national or a region code), in file order."""

    levels: dict[str, dict[str, Programme]] = field(default_factory=dict)

    def for_region(self, region_chain: Sequence[str]) -> list[Programme]:
        """The programmes in force for a region chain (most specific first, as `region_chain` gives).

        The national list comes first; each level from the province down adds programmes
        or replaces one of the same id in place."""
        chosen = dict(self.levels.get(NATIONAL, {}))
        for level in reversed([c for c in region_chain if c != NATIONAL]):
            chosen.update(self.levels.get(level, {}))
        return list(chosen.values())

    def programmes(self) -> list[Programme]:
        return [p for level in self.levels.values() for p in level.values()]


@dataclass(frozen=True)
class Reason:
    condition: str
    held: bool
    description: Mapping[str, str]

    def as_dict(self, lang: str | None) -> dict[str, Any]:
        return {"condition": self.condition, "held": self.held, "description": _text(self.description, lang)}


@dataclass(frozen=True)
class MemberResult:
    member: str
    eligible: bool
    amount: float
    reasons: tuple[Reason, ...]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ProgrammeResult:
    """One programme for one case: eligibility, amount to the fen, and why."""

    programme: Programme
    eligible: bool
    amount: float
    reasons: tuple[Reason, ...]
    parameters: tuple[ParameterValue, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    procedure: Mapping[str, Any] = field(default_factory=dict)
    members: tuple[MemberResult, ...] = ()

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        p = self.programme
        out: dict[str, Any] = {
            "programme": p.id, "name": _text(p.name, lang), "eligible": self.eligible, "amount": self.amount,
            "period": p.period, "unit": p.unit, "gradient": p.gradient,
            "reasons": [r.as_dict(lang) for r in self.reasons],
            "values": {k: _json(v) for k, v in self.values.items()}, "formula": p.amount.source,
            "parameters": [v.as_trace() for v in self.parameters], "reference": p.reference,
        }
        if p.procedure:
            out["procedure"] = {k: _json(v) for k, v in self.procedure.items()}
        if p.unit == "person":
            out["members"] = [
                {"member": m.member, "eligible": m.eligible, "amount": m.amount,
                 "reasons": [r.as_dict(lang) for r in m.reasons],
                 "values": {k: _json(v) for k, v in m.values.items()}}
                for m in self.members
            ]
        return out


def _text(texts: Mapping[str, str], lang: str | None) -> str:
    key = (lang or "en").lower().replace("_", "-")
    return texts.get(key) or texts.get("en") or next(iter(texts.values()), "")


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value


def convert_fact(fact_type: FactType, value: Any) -> Any:
    """A fact value of the declared type (ISO text → date); TemplateError with the reason otherwise."""
    kind = fact_type.kind
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TemplateError(_("must be a number"))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TemplateError(_("must be true or false"))
        return value
    if kind == "text":
        if not isinstance(value, str):
            raise TemplateError(_("must be text"))
        if fact_type.choices is not None and value not in fact_type.choices:
            raise TemplateError(_("must be one of: {choices}"), choices=", ".join(fact_type.choices))
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise TemplateError(_("must be a date (YYYY-MM-DD)"))


def parameter_types(tree: ParameterTree) -> dict[str, str]:
    """Declared parameter names → type, including urban/rural nodes (`dibao.standard`)."""
    types: dict[str, str] = {name: d.type for name, d in tree.declarations.items()}
    for node in tree.variants:
        leaves = [types[f"{node}.{a}"] for a in AREA_TYPES if f"{node}.{a}" in types]
        if leaves:
            types[node] = leaves[0]
    return types
