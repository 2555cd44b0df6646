"""The programme catalogue (救助项目目录) as data: who qualifies for what, and how much.

Why data: Dachuan integrated 40 assistance items of 12 departments, and every county
adds or changes items; a catalogue that lives in code would need a programmer for each
local decision. A definition is a YAML file in `jiuzhu/parameters/<level>/catalogue/`,
where level is `national` or a region path (`51/5117/511703`). A region's catalogue adds
programmes, or replaces the one with the same id from a higher level. Amounts and
thresholds are ordinary dated parameters (`programmes.<id>.*`) with their references,
so a change of amount is a parameter change on a date, never an edit of the rule.

A definition::

    id: fire_victims                       # the file name without .yaml
    name: {zh-hans: 火灾受灾群众救助, en: Aid to fire victims}
    reference: the document, article or page the rule comes from
    period: once                           # once | per_year | per_month
    unit: household                        # household | person (one result per member)
    trigger: [house_damage]                # listed only when the case carries one of these
    facts:
      household:
        house_damage: {type: text, choices: [none, partial, complete], description: {zh-hans: …, en: …}}
      members:
        at_home_during_fire: {type: boolean, description: {…}}   # `default: x` or `required: false`
    variables:                             # named steps, in order, shown in the result
      residents_aid: 'param("programmes.fire_victims.per_resident") * count(members, at_home_during_fire)'
      house_aid: {tiers: [{when: 'house_damage == "partial"', value: 'param("…")'}, {value: '0'}]}
    conditions:                            # all must hold; each is shown held or not
      - {id: local_hukou, description: {…}, expression: local_hukou}
    amount: residents_aid + house_aid      # or {tiers: [{when: …, amount: …}, …]}: first match, none → 0
    cap: 'param("…")'                      # optional upper limit
    procedure: {pay_first: 'True'}         # optional, household-level, shown when eligible

Expressions are those of `jiuzhu.rules.expressions`. In a `unit: person` programme the
variables, conditions and amount are member-level (bare names are the member's facts,
`household.<fact>` the household's); it is evaluated for each member that carries one of
its member trigger facts (every member when the triggers are household facts), and its
amount is the sum over the eligible members.

Fact types are number, boolean, text (with choices) and date (ISO text). A fact is
required once its programme is triggered, unless it has a `default` or `required: false`
(then only an expression that actually reads it needs it). A fact name means the same
thing in every programme. The engine, not the case's `facts`, supplies the names in
HOUSEHOLD_BUILTINS and MEMBER_BUILTINS.
"""

from __future__ import annotations

import datetime as dt
import keyword
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jiuzhu.rules.errors import InvalidCase, Problem, TemplateError
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
    ExpressionError,
    FactType,
    MissingFact,
    Schema,
    ScopeName,
    compile_expression,
    did_you_mean,
    round_fen,
    union_type,
)
from jiuzhu.rules.parameters import (
    AREA_TYPES,
    NATIONAL,
    PARAMETER_ROOT,
    NotInForce,
    ParameterContext,
    ParameterError,
    ParameterTree,
    ParameterValue,
    _is_region,
    _nested,
    default_tree,
    load_tree,
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


# loading


def load_catalogue(tree_root: Path | str | None = None) -> Catalogue:
    """Read and validate every catalogue file under the tree (raises CatalogueError with every problem).

    The parameter tree is read too, so that `param("…")` names are checked against the
    declarations at load time rather than failing on the first case that reaches them."""
    root = Path(tree_root) if tree_root is not None else PARAMETER_ROOT
    problems: list[Problem] = []
    types: dict[str, str] | None = None
    try:
        types = parameter_types(default_tree() if tree_root is None else load_tree(root))
    except ParameterError as exc:
        problems.extend(exc.problems)
    loader = _Loader(root, types)
    catalogue = loader.load()
    problems.extend(loader.problems)
    if problems:
        raise CatalogueError(problems)
    return catalogue


@cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, read once per process."""
    return load_catalogue()


class _Loader:
    """Reads every catalogue folder, collecting problems instead of stopping at the first."""

    def __init__(self, root: Path, parameters: Mapping[str, str] | None):
        self.root = root
        self.parameters = parameters
        self.problems: list[Problem] = []
        #: fact name → (household | members, type, file): a fact means one thing everywhere
        self.facts: dict[str, tuple[str, FactType, str]] = {}

    def problem(self, file: str, key: str, template: str, **args: Any) -> None:
        self.problems.append(Problem(f"{file}:{key}" if key else file, template, args))

    def load(self) -> Catalogue:
        catalogue = Catalogue()
        for level, folder in self._folders():
            for path in sorted(folder.glob("*.yaml")):
                programme = _FileReader(self, path, level).read()
                if programme is not None:
                    catalogue.levels.setdefault(level, {})[programme.id] = programme
        return catalogue

    def _folders(self) -> list[tuple[str, Path]]:
        found: list[tuple[tuple[int, str], str, Path]] = []
        for folder in self.root.rglob(CATALOGUE_FOLDER):
            if not folder.is_dir():
                continue
            relative = folder.relative_to(self.root)
            parts = list(relative.parts[:-1])
            if parts == [NATIONAL]:
                found.append(((0, ""), NATIONAL, folder))
            elif parts and all(_is_region(p) for p in parts) and _nested(parts):
                found.append(((len(parts), parts[-1]), parts[-1], folder))
            else:
                self.problem(str(relative), "",
                             _("a catalogue folder must be in national/ or in a region folder"))
        return [(level, folder) for _key, level, folder in sorted(found, key=lambda f: f[0])]


class _FileReader:
    """One programme file: every problem is recorded with the file and the key it is under."""

    def __init__(self, loader: _Loader, path: Path, level: str):
        self.loader = loader
        self.path = path
        self.level = level
        self.file = str(path.relative_to(loader.root))
        self.failed = False

    def problem(self, key: str, template: str, **args: Any) -> None:
        self.failed = True
        self.loader.problem(self.file, key, template, **args)

    def read(self) -> Programme | None:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            self.problem("", _("is not valid YAML: {error}"), error=str(exc).splitlines()[0])
            return None
        if not isinstance(data, Mapping):
            self.problem("", _("must be a mapping"))
            return None
        for unknown in sorted(set(map(str, data)) - _PROGRAMME_KEYS):
            self.problem(unknown, _("unknown key"))
        pid = data.get("id")
        if not (isinstance(pid, str) and _NAME.match(pid)):
            self.problem("id", _("needs an id of lower-case letters, digits and _"))
            pid = self.path.stem
        elif pid != self.path.stem:
            self.problem("id", _("must be the file name ({stem})"), stem=self.path.stem)
        name = self.bilingual(data.get("name"), "name")
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            self.problem("reference", _("needs a reference (document, article or page)"))
        period = self.choice(data.get("period"), "period", PERIODS)
        unit = self.choice(data.get("unit"), "unit", UNITS)
        # Most catalogue items are special assistance (专项救助); basic and temporary say so.
        gradient = self.choice(data.get("gradient", "special"), "gradient", GRADIENTS)
        household_facts, member_facts = self.facts(data.get("facts"))
        trigger = self.trigger(data.get("trigger"), household_facts, member_facts)

        household_types = {**HOUSEHOLD_BUILTINS, **{n: s.type for n, s in household_facts.items()}}
        member_types = {**MEMBER_BUILTINS, **{n: s.type for n, s in member_facts.items()}}
        plain_member = dict(member_types)
        scope: ScopeName = "member" if unit == "person" else "household"
        variables = self.variables(data.get("variables"), household_types, member_types, scope)
        schema = Schema(household_types, member_types)
        conditions = self.conditions(data.get("conditions"), schema, scope)
        amount = None
        if "amount" not in data:
            self.problem("amount", _("needs an amount (an expression or tiers)"))
        else:
            amount = self.computation(data["amount"], "amount", schema, scope, NUMBER)
        cap = None
        if data.get("cap") is not None:
            cap = self.computation(data["cap"], "cap", schema, scope, NUMBER)
        # household-level: a household programme's variables, but no member-level ones
        procedure = self.named(data.get("procedure"), "procedure", Schema(household_types, plain_member),
                               "household")
        if self.failed or amount is None:
            return None
        return Programme(
            id=pid, name=name, reference=str(reference).strip(), period=period, unit=unit, gradient=gradient,
            trigger=trigger,
            household_facts=household_facts, member_facts=member_facts, variables=variables,
            conditions=conditions, amount=amount, cap=cap, procedure=procedure, file=self.file,
            level=self.level,
        )

    def bilingual(self, raw: Any, key: str) -> dict[str, str]:
        texts = [raw.get(lang) for lang in ("zh-hans", "en")] if isinstance(raw, Mapping) else []
        if isinstance(raw, Mapping) and all(isinstance(t, str) and t.strip() for t in texts):
            return {str(k): str(v) for k, v in raw.items()}
        self.problem(key, _("needs a text in zh-hans and en"))
        return {"zh-hans": "", "en": ""}

    def choice(self, raw: Any, key: str, allowed: tuple[str, ...]) -> str:
        if raw in allowed:
            return str(raw)
        self.problem(key, _("must be one of: {choices}"), choices=", ".join(allowed))
        return allowed[0]

    def facts(self, raw: Any) -> tuple[dict[str, FactSpec], dict[str, FactSpec]]:
        sections: dict[str, dict[str, FactSpec]] = {"household": {}, "members": {}}
        if raw is None:
            return {}, {}
        if not isinstance(raw, Mapping):
            self.problem("facts", _("must be a mapping with household and/or members"))
            return {}, {}
        for unknown in sorted(set(map(str, raw)) - set(sections)):
            self.problem(f"facts.{unknown}", _("unknown key; use household or members"))
        for section, specs in sections.items():
            entries = raw.get(section) or {}
            if not isinstance(entries, Mapping):
                self.problem(f"facts.{section}", _("must be a mapping of fact names"))
                continue
            for name, spec in entries.items():
                fact = self.fact(str(name), spec, f"facts.{section}.{name}", section)
                if fact is not None:
                    specs[fact.name] = fact
        return sections["household"], sections["members"]

    def fact(self, name: str, spec: Any, key: str, section: str) -> FactSpec | None:
        if not _NAME.match(name) or keyword.iskeyword(name) or name in _RESERVED:
            self.problem(key, _("“{name}” cannot be a fact name"), name=name)
            return None
        if name in HOUSEHOLD_BUILTINS or name in MEMBER_BUILTINS:
            self.problem(key, _("“{name}” is supplied by the engine; do not declare it"), name=name)
            return None
        if not isinstance(spec, Mapping):
            self.problem(key, _("must be a mapping with type and description"))
            return None
        for unknown in sorted(set(map(str, spec)) - _FACT_KEYS):
            self.problem(f"{key}.{unknown}", _("unknown key"))
        kind = spec.get("type")
        if kind not in FACT_KINDS:
            self.problem(f"{key}.type", _("must be one of: {choices}"), choices=", ".join(FACT_KINDS))
            return None
        choices = spec.get("choices")
        if choices is not None and (kind != "text" or not isinstance(choices, list) or not choices
                                    or not all(isinstance(c, str) for c in choices)):
            self.problem(f"{key}.choices", _("only a text fact has choices: a list of texts"))
            choices = None
        fact_type = FactType(kind, tuple(choices) if choices else None)
        description = self.bilingual(spec.get("description"), f"{key}.description")
        default = spec.get("default")
        if default is not None:
            try:
                default = convert_fact(fact_type, default)
            except TemplateError as exc:
                self.problem(f"{key}.default", exc.template, **exc.args_)
        required = spec.get("required", default is None)
        if not isinstance(required, bool) or (required and default is not None):
            self.problem(f"{key}.required", _("must be true or false, and false when there is a default"))
        seen = self.loader.facts.get(name)
        if seen is not None and (seen[0], seen[1]) != (section, fact_type):
            self.problem(key, _("“{name}” is declared differently in {other}; a fact means one thing"),
                         name=name, other=seen[2])
        self.loader.facts.setdefault(name, (section, fact_type, self.file))
        return FactSpec(name, fact_type, description, bool(required) and default is None, default)

    def trigger(self, raw: Any, household: Mapping[str, FactSpec], members: Mapping[str, FactSpec]
                ) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
            self.problem("trigger", _("needs a list of the facts that bring this programme into a case"))
            return ()
        for name in raw:
            if name not in household and name not in members:
                self.problem("trigger", _("“{name}” is not a fact declared by this programme"), name=name)
        return tuple(raw)

    def variables(self, raw: Any, household: dict[str, FactType], member: dict[str, FactType],
                  scope: ScopeName) -> tuple[tuple[str, Computation], ...]:
        """Compiled in order; each is then a name the later ones (and the rules) can use."""
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            self.problem("variables", _("must be a mapping of names to expressions"))
            return ()
        out: list[tuple[str, Computation]] = []
        names = household if scope == "household" else member
        for name, value in raw.items():
            key = f"variables.{name}"
            if not (isinstance(name, str) and _NAME.match(name)) or keyword.iskeyword(name) \
                    or name in _RESERVED or name in names:
                self.problem(key, _("“{name}” cannot be a variable name (taken, or not a name)"), name=name)
                continue
            computed = self.computation(value, key, Schema(household, member), scope, None)
            if computed is not None:
                names[name] = computed.type
                out.append((name, computed))
        return tuple(out)

    def conditions(self, raw: Any, schema: Schema, scope: ScopeName) -> tuple[Condition, ...]:
        if not isinstance(raw, list):
            self.problem("conditions", _("must be a list of conditions (id, description, expression)"))
            return ()
        out: list[Condition] = []
        for i, entry in enumerate(raw):
            key = f"conditions[{i}]"
            if not isinstance(entry, Mapping):
                self.problem(key, _("must be a mapping with id, description and expression"))
                continue
            for unknown in sorted(set(map(str, entry)) - {"id", "description", "expression"}):
                self.problem(f"{key}.{unknown}", _("unknown key"))
            cid = entry.get("id")
            if not (isinstance(cid, str) and _NAME.match(cid)) or cid in {c.id for c in out}:
                self.problem(f"{key}.id", _("needs a unique id of lower-case letters, digits and _"))
                cid = f"condition_{i}"
            description = self.bilingual(entry.get("description"), f"{key}.description")
            expression = self.expression(entry.get("expression"), f"{key}.expression", schema, scope, BOOLEAN)
            if expression is not None:
                out.append(Condition(str(cid), description, expression))
        return tuple(out)

    def named(self, raw: Any, key: str, schema: Schema,
              scope: ScopeName) -> tuple[tuple[str, Computation], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            self.problem(key, _("must be a mapping of names to expressions"))
            return ()
        out = []
        for name, value in raw.items():
            computed = self.computation(value, f"{key}.{name}", schema, scope, None)
            if computed is not None:
                out.append((str(name), computed))
        return tuple(out)

    def computation(self, raw: Any, key: str, schema: Schema, scope: ScopeName,
                    want: FactType | None) -> Computation | None:
        if not isinstance(raw, Mapping):
            return self.expression(raw, key, schema, scope, want)
        if set(map(str, raw)) != {"tiers"} or not isinstance(raw["tiers"], list) or not raw["tiers"]:
            self.problem(key, _("must be an expression, or tiers: a list of {{when, amount}}"))
            return None
        entries: list[Any] = raw["tiers"]
        tiers: list[Tier] = []
        for i, entry in enumerate(entries):
            tier_key = f"{key}.tiers[{i}]"
            results = [k for k in ("amount", "value") if isinstance(entry, Mapping) and k in entry]
            extra = set(map(str, entry)) - {"when", *results} if isinstance(entry, Mapping) else set()
            if not isinstance(entry, Mapping) or len(results) != 1 or extra:
                self.problem(tier_key, _("must be a mapping with when and amount (or value)"))
                continue
            if "when" not in entry and i != len(entries) - 1:
                self.problem(tier_key, _("only the last tier may leave out “when”"))
            when = None
            if "when" in entry:
                when = self.expression(entry["when"], f"{tier_key}.when", schema, scope, BOOLEAN)
            value = self.expression(entry[results[0]], f"{tier_key}.{results[0]}", schema, scope, want)
            if value is not None and (when is not None or "when" not in entry):
                tiers.append(Tier(when, value))
        if len(tiers) != len(entries):
            return None
        kind = union_type([t.value.type for t in tiers])
        if kind.kind not in ("number", "any") and tiers[-1].when is not None:
            self.problem(key, _("tiers that do not give a number need a last tier without “when”"))
            return None
        return Tiers(tuple(tiers), kind)

    def expression(self, raw: Any, key: str, schema: Schema, scope: ScopeName,
                   want: FactType | None) -> Expression | None:
        if isinstance(raw, bool):
            raw = str(raw)
        elif isinstance(raw, int | float):
            raw = repr(raw)
        if not isinstance(raw, str):
            self.problem(key, _("must be an expression (text)"))
            return None
        try:
            expression = compile_expression(raw, schema, scope=scope, parameters=self.loader.parameters)
        except ExpressionError as exc:
            self.problem(key, exc.template, **exc.args_)
            return None
        if want is not None and expression.type.kind not in (want.kind, "any"):
            self.problem(key, _("must give {want}, but gives {found}"),
                         want=want.kind, found=expression.type.kind)
            return None
        return expression


# facts of a case


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


# evaluation


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
