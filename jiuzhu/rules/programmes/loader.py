"""Reading and checking the catalogue files (every problem with file, key and reason)."""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jiuzhu.rules.errors import Problem, TemplateError
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.expressions import (
    BOOLEAN,
    NUMBER,
    Expression,
    ExpressionError,
    FactType,
    Schema,
    ScopeName,
    compile_expression,
    union_type,
)
from jiuzhu.rules.parameters import (
    NATIONAL,
    PARAMETER_ROOT,
    ParameterError,
    _is_region,
    _nested,
    default_tree,
    load_tree,
)
from jiuzhu.rules.programmes.model import (
    _FACT_KEYS,
    _NAME,
    _PROGRAMME_KEYS,
    _RESERVED,
    CATALOGUE_FOLDER,
    FACT_KINDS,
    GRADIENTS,
    HOUSEHOLD_BUILTINS,
    MEMBER_BUILTINS,
    PERIODS,
    UNITS,
    Catalogue,
    CatalogueError,
    Computation,
    Condition,
    FactSpec,
    Programme,
    Tier,
    Tiers,
    convert_fact,
    parameter_types,
)


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
