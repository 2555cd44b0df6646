"""The departments a county asks (DOMAIN.md §8), kept as data: one YAML file per department.

A county admin adds a department by adding a file here (then `sync_departments`) or a
`Department` row in the admin; both go through the same parsing code, so a department
entered by hand is held to the same rules as one shipped in YAML. The loader reads every
file and reports every problem at once (file, key, reason) instead of stopping at the
first, so whoever edits the files fixes them in one round.

No Django import: the data migration and the batch jobs use it as plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.i18n import translate

DEPARTMENTS_DIR = Path(__file__).parent / "departments"

ITEM_TYPES = ("text", "number", "date", "money")
FORMATS = ("csv", "xlsx", "json")
#: Whom a department answers about: the adult members (assets, income, companies) or every
#: member, children included (household registration, deaths, disability, medical claims).
SUBJECTS = ("adults", "members")
LANGUAGES = ("zh-hans", "en")
_KEYS = {"id", "name", "legal_basis", "exchange_format", "answer_working_days", "asks_about", "items"}
_ITEM_KEYS = {"name", "type", "description", "fact", "dci"}
#: Where an answered item goes in the household file: `asset.deposit`, `income.pension.monthly`
#: (monthly amounts are stored per year, ×12), `expense.medical_out_of_pocket`, or a person's
#: `person.death_date` / `person.disability_grade`. Items without one are kept in the answer
#: only (plates, account numbers) or feed the cross-checks (homes, companies).
FACT_RECORDS = ("income", "asset", "expense", "person")
PERSON_FIELDS = ("death_date", "disability_grade")


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: the reason is an English message id and its values, so the
    department page says it in the admin's language and the CLI in English."""

    file: str
    key: str
    template: str
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.text()

    def text(self, lang: str | None = None) -> str:
        """The reason in `lang` (zh-hans, en; None = English)."""
        return translate(self.template, lang).format(**self.args)

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class CatalogueError(ValueError):
    """Every problem found in the department files, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("department catalogue is invalid:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Item:
    """One thing a department answers per person (a vehicle's plate, a deposit's balance)."""

    name: str
    type: str
    description_zh: str
    description_en: str
    fact: str = ""
    #: Where the item is in a DCI Group record's `additional_attributes`, for departments asked
    #: online through the social-registry API (e.g. `programmes`).
    dci: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type,
                               "description": {"zh-hans": self.description_zh, "en": self.description_en}}
        if self.fact:
            out["fact"] = self.fact
        if self.dci:
            out["dci"] = self.dci
        return out


@dataclass(frozen=True)
class FactTarget:
    """A parsed `fact`: which record and kind an item becomes, and whether it is monthly."""

    record: str
    kind: str
    monthly: bool = False


def fact_target(fact: str) -> FactTarget | None:
    if not fact:
        return None
    parts = fact.split(".")
    return FactTarget(parts[0], parts[1], len(parts) == 3 and parts[2] == "monthly")


def _fact_problem(raw: Any, item_type: Any) -> tuple[str, dict[str, Any]] | None:
    """Why a `fact` value is wrong (message and values), or None. Kinds come from the engine's vocabulary."""
    from jiuzhu.rules import vocabulary as v

    if not isinstance(raw, str):
        return _("must be text such as asset.deposit"), {}
    parts = raw.split(".")
    kinds = {"income": v.INCOME_KINDS, "asset": v.ASSET_KINDS, "expense": v.EXPENSE_KINDS, "person": PERSON_FIELDS}
    if len(parts) not in (2, 3) or parts[0] not in kinds:
        return (_("must be <record>.<kind>[.monthly] with record one of {records}, not {value!r}"),
                {"records": ", ".join(FACT_RECORDS), "value": raw})
    if parts[1] not in kinds[parts[0]]:
        return (_("“{kind}” is not a kind of {record} ({kinds})"),
                {"kind": parts[1], "record": parts[0], "kinds": ", ".join(kinds[parts[0]])})
    if len(parts) == 3 and (parts[2] != "monthly" or parts[0] != "income"):
        return _("only income items may end in .monthly"), {}
    if parts[0] in ("income", "asset", "expense") and item_type != "money":
        return _("only money items become income, assets or expenses"), {}
    return None


@dataclass(frozen=True)
class DepartmentSpec:
    id: str
    name_zh: str
    name_en: str
    legal_basis: str
    exchange_format: str
    answer_working_days: int
    asks_about: str
    items: tuple[Item, ...]


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and value.isascii() and value.isidentifier() and value.islower()


def _text(raw: Any, file: str, key: str, problems: list[Problem]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(Problem(file, key, _("must be non-empty text")))
        return ""
    return raw.strip()


def _bilingual(raw: Any, file: str, key: str, problems: list[Problem]) -> tuple[str, str]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, key, _("must have a zh-hans and an en text")))
        return "", ""
    for extra in sorted(set(raw) - set(LANGUAGES), key=str):
        problems.append(Problem(file, f"{key}.{extra}", _("unknown language (zh-hans, en)")))
    return (_text(raw.get("zh-hans"), file, f"{key}.zh-hans", problems),
            _text(raw.get("en"), file, f"{key}.en", problems))


def parse_items(raw: Any, file: str, problems: list[Problem], key: str = "items") -> tuple[Item, ...]:
    """The items a department answers; used for YAML files and for `Department.items` alike."""
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(file, key, _("must be a non-empty list of items")))
        return ()
    items: list[Item] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(file, where, _("must be a mapping with name, type and description")))
            continue
        for extra in sorted(set(entry) - _ITEM_KEYS, key=str):
            problems.append(Problem(file, f"{where}.{extra}", _("unknown key (name, type, description, fact, dci)")))
        name = entry.get("name")
        if not _is_identifier(name):
            problems.append(Problem(file, f"{where}.name", _("must be a lower-case identifier such as plate")))
        elif name in seen:
            problems.append(Problem(file, f"{where}.name", _("“{name}” is listed twice"), {"name": name}))
        else:
            seen.add(str(name))
        kind = entry.get("type")
        if kind not in ITEM_TYPES:
            problems.append(Problem(file, f"{where}.type", _("must be one of {choices}, not {value!r}"),
                                    {"choices": ", ".join(ITEM_TYPES), "value": kind}))
        zh, en = _bilingual(entry.get("description"), file, f"{where}.description", problems)
        fact = entry.get("fact", "")
        if "fact" in entry and (reason := _fact_problem(fact, kind)) is not None:
            problems.append(Problem(file, f"{where}.fact", *reason))
        dci = entry.get("dci", "")
        if "dci" in entry and not _is_identifier(dci):
            problems.append(Problem(file, f"{where}.dci", _("must be the lower-case name of a DCI attribute")))
        items.append(Item(str(name), str(kind), zh, en, str(fact or ""), str(dci or "")))
    return tuple(items)


def parse_department(raw: Any, file: str, problems: list[Problem], expected_id: str | None = None
                     ) -> DepartmentSpec | None:
    """One department from its mapping; None (with problems added) when anything is wrong."""
    before = len(problems)
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, "(file)", _("must be a mapping of department keys")))
        return None
    for missing in sorted(_KEYS - set(raw)):
        problems.append(Problem(file, missing, _("is missing")))
    for extra in sorted(set(raw) - _KEYS, key=str):
        problems.append(Problem(file, str(extra), _("unknown key")))
    dept_id = raw.get("id")
    if "id" in raw and not _is_identifier(dept_id):
        problems.append(Problem(file, "id", _("must be a lower-case identifier such as vehicles")))
    elif expected_id is not None and dept_id is not None and dept_id != expected_id:
        problems.append(Problem(file, "id", _("must match the file name ({expected}), not {value!r}"),
                                {"expected": expected_id, "value": dept_id}))
    name_zh, name_en = _bilingual(raw.get("name"), file, "name", problems) if "name" in raw else ("", "")
    legal_basis = _text(raw.get("legal_basis"), file, "legal_basis", problems) if "legal_basis" in raw else ""
    fmt = raw.get("exchange_format")
    if "exchange_format" in raw and fmt not in FORMATS:
        problems.append(Problem(file, "exchange_format", _("must be one of {choices}, not {value!r}"),
                                {"choices": ", ".join(FORMATS), "value": fmt}))
    days = raw.get("answer_working_days")
    if "answer_working_days" in raw and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60):
        problems.append(Problem(file, "answer_working_days",
                                _("must be a whole number of working days 1–60, not {value!r}"), {"value": days}))
    subject = raw.get("asks_about")
    if "asks_about" in raw and subject not in SUBJECTS:
        problems.append(Problem(file, "asks_about", _("must be one of {choices}, not {value!r}"),
                                {"choices": ", ".join(SUBJECTS), "value": subject}))
    items = parse_items(raw.get("items"), file, problems) if "items" in raw else ()
    if len(problems) > before:
        return None
    return DepartmentSpec(id=str(dept_id), name_zh=name_zh, name_en=name_en, legal_basis=legal_basis,
                          exchange_format=str(fmt), answer_working_days=int(str(days)), asks_about=str(subject),
                          items=items)


def load_departments(root: Path | str | None = None) -> dict[str, DepartmentSpec]:
    """Every `*.yaml` under `root` (the shipped catalogue by default), keyed by id.

    Raises CatalogueError listing every problem of every file."""
    folder = Path(root) if root is not None else DEPARTMENTS_DIR
    problems: list[Problem] = []
    found: dict[str, DepartmentSpec] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        problems.append(Problem(str(folder), "(folder)", _("holds no department files (*.yaml)")))
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(Problem(path.name, "(file)", _("is not readable YAML: {error}"), {"error": exc}))
            continue
        spec = parse_department(raw, path.name, problems, expected_id=path.stem)
        if spec is not None:
            found[spec.id] = spec
    if problems:
        raise CatalogueError(problems)
    return found


CROSSCHECKS_FILE = Path(__file__).parent / "crosschecks.yaml"


@dataclass(frozen=True)
class DiscoveryRule:
    list: str
    department: str
    item: str
    at_most: float | None = None
    at_least: float | None = None

    def holds(self, value: float) -> bool:
        return ((self.at_most is None or value <= self.at_most)
                and (self.at_least is None or value >= self.at_least))


@dataclass(frozen=True)
class CrosscheckRules:
    exclusive_programmes: tuple[tuple[str, str], ...]
    discovery: tuple[DiscoveryRule, ...]


def load_crosscheck_rules(path: Path | str | None = None) -> CrosscheckRules:
    """The cross-check rules file, checked like the department files (every problem at once)."""
    file = Path(path) if path is not None else CROSSCHECKS_FILE
    problems: list[Problem] = []
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        unreadable = Problem(file.name, "(file)", _("is not readable YAML: {error}"), {"error": exc})
        raise CatalogueError([unreadable]) from exc
    if not isinstance(raw, Mapping):
        raise CatalogueError([Problem(file.name, "(file)", _("must be a mapping"))])
    for extra in sorted(set(raw) - {"exclusive_programmes", "discovery"}, key=str):
        problems.append(Problem(file.name, str(extra), _("unknown key")))
    pairs: list[tuple[str, str]] = []
    for i, pair in enumerate(raw.get("exclusive_programmes") or []):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_identifier(p) for p in pair)):
            problems.append(Problem(file.name, f"exclusive_programmes[{i}]", _("must be a pair of programme ids")))
        else:
            pairs.append((pair[0], pair[1]))
    rules: list[DiscoveryRule] = []
    for i, entry in enumerate(raw.get("discovery") or []):
        where = f"discovery[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(file.name, where, _("must be a mapping")))
            continue
        for extra in sorted(set(entry) - {"list", "department", "item", "at_most", "at_least"}, key=str):
            problems.append(Problem(file.name, f"{where}.{extra}", _("unknown key")))
        for key in ("list", "department", "item"):
            if not _is_identifier(entry.get(key)):
                problems.append(Problem(file.name, f"{where}.{key}", _("must be a lower-case identifier")))
        bounds: dict[str, float] = {}
        for bound in ("at_most", "at_least"):
            value = entry.get(bound)
            if isinstance(value, int | float) and not isinstance(value, bool):
                bounds[bound] = float(value)
            elif bound in entry:
                problems.append(Problem(file.name, f"{where}.{bound}", _("must be a number")))
        if not bounds:
            problems.append(Problem(file.name, where, _("needs a number at_most or at_least")))
            continue
        rules.append(DiscoveryRule(str(entry.get("list")), str(entry.get("department")), str(entry.get("item")),
                                   **bounds))
    if problems:
        raise CatalogueError(problems)
    return CrosscheckRules(tuple(pairs), tuple(rules))
