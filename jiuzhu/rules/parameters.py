"""Dated, regional parameters in OpenFisca-compatible YAML.

Every rule value lives in `jiuzhu/parameters/`: `national/` holds the national values
(and declares every parameter, even one that only regions set), and region folders
`22/2208/220882/...` (province → prefecture → county → township → village) override
them. A value is looked up for one *context* — region, date and area type — from the
most specific level upward, taking at each level the value in force on the date. A
parameter with no value in force at any level is an error, never a silent default.

A leaf file (or a child of a node file) looks like::

    description: {zh-hans: 农村最低生活保障标准, en: Rural dibao standard}
    unit: CNY/person/year
    type: number            # number (default) | text | list | boolean
    choices: [a, b]         # text only: the allowed values
    values:
      2018-01-01: {value: 3600, reference: "大安市民政局 2018 notice, art. 2"}
      2020-01-01: {value: null}   # ends the value at this level; lookup goes upward

A node whose children are `urban` and `rural` is an area-type variant: asking for
`dibao.standard` in a rural case returns `dibao.standard.rural`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from jiuzhu.rules.errors import Problem, TemplateError
from jiuzhu.rules.errors import gettext_noop as _

PARAMETER_ROOT = Path(__file__).resolve().parent.parent / "parameters"
NATIONAL = "national"
AREA_TYPES = ("urban", "rural")
#: Folders in the tree that hold other data (the programme catalogue), not parameters.
NON_PARAMETER_FOLDERS = frozenset({"catalogue"})

ParameterType = Literal["number", "text", "list", "boolean"]
Scalar = float | int | str | bool | tuple[str, ...] | tuple[float, ...]

_LEAF_KEYS = frozenset({"description", "unit", "type", "choices", "values", "reference", "documentation"})
_NODE_META_KEYS = frozenset({"description", "documentation", "metadata", "reference"})
_VALUE_KEYS = frozenset({"value", "reference", "note"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGION = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")


class _TextDateLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is reported at its key."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ParameterError(Exception):
    """The parameter tree is invalid: every problem at once, with file, key and reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(f"{p.path}: {p.message()}" for p in problems))


class NotInForce(Exception):
    """No value for this parameter in this context (or no such parameter)."""

    def __init__(self, name: str, template: str):
        self.name = name
        self.template = template
        super().__init__(name)

    def problem(self, path: str, region: str, date: dt.date) -> Problem:
        return Problem(path, self.template, {"name": self.name, "region": region, "date": date.isoformat()})


@dataclass(frozen=True)
class DatedValue:
    start: dt.date
    value: Scalar | None
    reference: str


@dataclass(frozen=True)
class Declaration:
    """What the national tree says a parameter is: the contract every region follows."""

    name: str
    description: Mapping[str, str]
    unit: str
    type: ParameterType
    choices: tuple[str, ...] | None
    file: str


@dataclass(frozen=True)
class ParameterValue:
    """One value as used in a computation, with where it came from (for the trace)."""

    name: str
    value: Scalar
    since: dt.date | None
    region: str
    source: str

    def as_trace(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
            "since": self.since.isoformat() if self.since else None,
            "region": self.region,
            "source": self.source,
        }


@dataclass
class ParameterTree:
    """All parameters: declarations and, per region level, the dated values."""

    declarations: dict[str, Declaration] = field(default_factory=dict)
    #: name → level key ("national" or a region code) → dated values, oldest first
    values: dict[str, dict[str, list[DatedValue]]] = field(default_factory=dict)
    #: names of nodes that have urban/rural variants
    variants: frozenset[str] = frozenset()

    def leaf_name(self, name: str, area_type: str) -> str:
        if name in self.variants:
            return f"{name}.{area_type}"
        return name

    def levels(self) -> frozenset[str]:
        """Region levels that set at least one value (cached: the tree does not change once read)."""
        cached: frozenset[str] | None = self.__dict__.get("_levels")
        if cached is None:
            cached = frozenset(level for per_level in self.values.values() for level in per_level)
            self.__dict__["_levels"] = cached
        return cached

    def lookup(self, name: str, chain: list[str], date: dt.date, area_type: str) -> ParameterValue:
        """The value in force for this context, or NotInForce."""
        leaf = self.leaf_name(name, area_type)
        if leaf not in self.declarations:
            raise NotInForce(name, _("unknown parameter “{name}”"))
        per_level = self.values.get(leaf, {})
        for level in [*chain, NATIONAL]:
            found = _in_force(per_level.get(level, []), date)
            if found is not None and found.value is not None:
                return ParameterValue(name, found.value, found.start, level, found.reference)
        raise NotInForce(name, _("parameter “{name}” has no value in force on {date} for region {region}"))

    def convert_override(self, name: str, area_type: str, raw: object) -> Scalar:
        """A per-case override, checked against the declaration like a file value."""
        leaf = self.leaf_name(name, area_type)
        declaration = self.declarations.get(leaf)
        if declaration is None:
            raise TemplateError(_("unknown parameter"))
        return _convert(declaration, raw)


def _in_force(dated: list[DatedValue], date: dt.date) -> DatedValue | None:
    current = None
    for entry in dated:
        if entry.start <= date:
            current = entry
        else:
            break
    return current


def _convert(declaration: Declaration, raw: object) -> Scalar:
    """A value of the declared type; ValueError with a translatable reason otherwise."""
    kind = declaration.type
    if kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TemplateError(_("must be a number"))
        return raw
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise TemplateError(_("must be true or false"))
        return raw
    if kind == "text":
        if not isinstance(raw, str):
            raise TemplateError(_("must be text"))
        if declaration.choices is not None and raw not in declaration.choices:
            raise TemplateError(_("must be one of: {choices}"), choices=", ".join(declaration.choices))
        return raw
    if not isinstance(raw, list):
        raise TemplateError(_("must be a list"))
    if all(isinstance(x, str) for x in raw):
        return tuple(str(x) for x in raw)
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in raw):
        return tuple(float(x) for x in raw)
    raise TemplateError(_("must be a list of texts or a list of numbers"))


def _reference_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        return ", ".join(str(v) for v in raw.values() if v)
    if isinstance(raw, list):
        return "; ".join(_reference_text(x) for x in raw)
    return str(raw)


class _Loader:
    """Reads the tree, collecting every problem instead of stopping at the first."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.tree = ParameterTree()
        self.variants: set[str] = set()
        #: (leaf name, level) → raw values mapping and file, waiting for declarations
        self.pending: list[tuple[str, str, Mapping[Any, Any], str, str]] = []

    def problem(self, file: str, key: str, template: str, **args: Any) -> None:
        self.problems.append(Problem(f"{file}:{key}" if key else file, template, args))

    def load(self) -> ParameterTree:
        national = self.root / NATIONAL
        if not national.is_dir():
            self.problem(str(national), "", _("the national parameter folder is missing"))
        for level, folder in self._levels():
            for path in sorted(folder.rglob("*.yaml")):
                relative = path.relative_to(folder)
                parts = relative.parts
                if any(_is_region(p) for p in parts[:-1]) or parts[0] in NON_PARAMETER_FOLDERS:
                    continue  # a sub-region's file or non-parameter data, handled elsewhere
                self._read_file(level, path, ".".join([*parts[:-1], path.stem]))
        self._resolve_pending()
        self.tree.variants = frozenset(self.variants)
        if self.problems:
            raise ParameterError(self.problems)
        return self.tree

    def _levels(self) -> Iterator[tuple[str, Path]]:
        yield NATIONAL, self.root / NATIONAL
        for folder in sorted(self.root.rglob("*")):
            if folder.is_dir() and _is_region(folder.name):
                codes = [p for p in folder.relative_to(self.root).parts]
                if not all(_is_region(c) for c in codes) or not _nested(codes):
                    self.problem(str(folder.relative_to(self.root)), "",
                                 _("region folders must nest province/prefecture/county/township/village"))
                    continue
                yield folder.name, folder

    def _read_file(self, level: str, path: Path, name: str) -> None:
        file = str(path.relative_to(self.root))
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDateLoader)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            self.problem(file, "", _("is not valid YAML: {error}"), error=str(exc).splitlines()[0])
            return
        if not isinstance(data, Mapping):
            self.problem(file, "", _("must be a mapping"))
            return
        self._read_node(level, file, name, data, "")

    def _read_node(self, level: str, file: str, name: str, data: Mapping[Any, Any], key: str) -> None:
        for part in name.split("."):
            if not _NAME.match(part):
                self.problem(file, key, _("“{part}” is not a valid parameter name"), part=part)
                return
        if "values" in data:
            self._read_leaf(level, file, name, data, key)
            return
        children = {k: v for k, v in data.items() if k not in _NODE_META_KEYS}
        if not children:
            self.problem(file, key, _("has neither values nor child parameters"))
            return
        if set(children) == set(AREA_TYPES) or set(children) <= set(AREA_TYPES):
            self.variants.add(name)
        for child, child_data in children.items():
            child_key = f"{key}.{child}" if key else str(child)
            if not isinstance(child_data, Mapping):
                self.problem(file, child_key, _("must be a mapping with values or child parameters"))
                continue
            self._read_node(level, file, f"{name}.{child}", child_data, child_key)

    def _read_leaf(self, level: str, file: str, name: str, data: Mapping[Any, Any], key: str) -> None:
        for unknown in sorted(set(map(str, data)) - _LEAF_KEYS):
            self.problem(file, f"{key}.{unknown}" if key else unknown, _("unknown key"))
        if level == NATIONAL:
            self._declare(file, name, data, key)
        values = data.get("values")
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            self.problem(file, f"{key}.values" if key else "values", _("must be a mapping of dates to values"))
            return
        self.pending.append((name, level, values, file, key))

    def _declare(self, file: str, name: str, data: Mapping[Any, Any], key: str) -> None:
        def at(k: str) -> str:
            return f"{key}.{k}" if key else k

        description = data.get("description")
        if not (isinstance(description, Mapping) and description.get("zh-hans") and description.get("en")):
            self.problem(file, at("description"), _("needs a description in zh-hans and en"))
            description = {}
        unit = data.get("unit")
        if not isinstance(unit, str) or not unit:
            self.problem(file, at("unit"), _("needs a unit (e.g. CNY/person/year, share, months, code)"))
            unit = ""
        kind = data.get("type", "number")
        if kind not in ("number", "text", "list", "boolean"):
            self.problem(file, at("type"), _("must be number, text, list or boolean"))
            kind = "number"
        choices = data.get("choices")
        if choices is not None and not (isinstance(choices, list) and all(isinstance(c, str) for c in choices)):
            self.problem(file, at("choices"), _("must be a list of texts"))
            choices = None
        if name in self.tree.declarations:
            self.problem(file, key, _("is declared twice"))
        self.tree.declarations[name] = Declaration(
            name=name, description={str(k): str(v) for k, v in description.items()}, unit=unit,
            type=kind, choices=tuple(choices) if choices else None, file=file,
        )

    def _resolve_pending(self) -> None:
        for name, level, values, file, key in self.pending:
            declaration = self.tree.declarations.get(name)
            where = f"{key}.values" if key else "values"
            if declaration is None:
                self.problem(file, key or name, _("parameter “{name}” is not declared in national/"), name=name)
                continue
            dated: list[DatedValue] = []
            for raw_date, entry in values.items():
                entry_key = f"{where}.{raw_date}"
                start = _as_date(raw_date)
                if start is None:
                    self.problem(file, entry_key, _("is not a date (YYYY-MM-DD)"))
                    continue
                if not isinstance(entry, Mapping) or "value" not in entry:
                    self.problem(file, entry_key, _("must be a mapping with a value"))
                    continue
                for unknown in sorted(set(map(str, entry)) - _VALUE_KEYS):
                    self.problem(file, f"{entry_key}.{unknown}", _("unknown key"))
                raw = entry["value"]
                value: Scalar | None = None
                if raw is not None:
                    try:
                        value = _convert(declaration, raw)
                    except TemplateError as exc:
                        self.problem(file, f"{entry_key}.value", exc.template, **exc.args_)
                        continue
                    reference = _reference_text(entry.get("reference"))
                    if not reference:
                        self.problem(file, f"{entry_key}.reference", _("every value needs a reference (its source)"))
                        continue
                dated.append(DatedValue(start, value, _reference_text(entry.get("reference"))))
            dated.sort(key=lambda d: d.start)
            self.tree.values.setdefault(name, {})[level] = dated


def _is_region(part: str) -> bool:
    return bool(_REGION.match(part)) and len(part) in (2, 4, 6, 9, 12)


def _nested(codes: list[str]) -> bool:
    lengths = [2, 4, 6, 9, 12]
    return all(len(c) == lengths[i] and c.startswith(codes[i - 1] if i else "") for i, c in enumerate(codes))


def _as_date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            return None
    return None


def load_tree(root: Path | str | None = None) -> ParameterTree:
    """Read and validate a parameter tree (raises ParameterError with every problem)."""
    return _Loader(Path(root) if root else PARAMETER_ROOT).load()


@cache
def default_tree() -> ParameterTree:
    """The shipped tree, read once per process."""
    return load_tree()


def region_chain(region: str) -> list[str]:
    """Level keys from the most specific to the province: 220882100201 → …, 220882, 2208, 22.

    A 6-digit code ending in 00 names a prefecture or province (220800 → 2208)."""
    code = region
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    elif len(code) == 6 and code.endswith("00"):
        code = code[:4]
    chain = []
    for length in (12, 9, 6, 4, 2):
        if len(code) >= length:
            chain.append(code[:length])
    return chain


@dataclass
class ParameterContext:
    """The parameters of one case or one group of households: region, date, area type.

    Keeps the values it handed out so the trace can say which were used."""

    tree: ParameterTree
    region: str
    date: dt.date
    area_type: str
    overrides: Mapping[str, Scalar] = field(default_factory=dict)
    used: dict[str, ParameterValue] = field(default_factory=dict)

    def get(self, name: str) -> ParameterValue:
        leaf = self.tree.leaf_name(name, self.area_type) if self.overrides else name
        if name in self.overrides or leaf in self.overrides:
            value = self.overrides[name] if name in self.overrides else self.overrides[leaf]
            found = ParameterValue(name, value, None, "case", _("override given with the case"))
        else:
            found = self.tree.lookup(name, region_chain(self.region), self.date, self.area_type)
        self.used[name] = found
        return found

    def value(self, name: str) -> Scalar:
        return self.get(name).value

    def number(self, name: str) -> float:
        value = self.get(name).value
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        return float(value)

    def text(self, name: str) -> str:
        value = self.get(name).value
        assert isinstance(value, str), name
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.get(name).value
        assert isinstance(value, tuple), name
        return tuple(str(v) for v in value)

    def numbers(self, name: str) -> tuple[float, ...]:
        value = self.get(name).value
        assert isinstance(value, tuple), name
        return tuple(float(v) for v in value)

    def children(self, prefix: str) -> list[str]:
        """Declared parameters directly under a node, e.g. the category rates."""
        dotted = prefix + "."
        return sorted(
            name for name in self.tree.declarations
            if name.startswith(dotted) and "." not in name[len(dotted):]
        )
