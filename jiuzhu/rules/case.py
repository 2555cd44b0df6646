"""Reading cases in the JSON contract (DOMAIN.md §13) into columnar arrays.

Validation collects every problem before anything is computed: unknown fields, wrong
types, negative amounts, impossible dates, members referenced but missing, a birth
date after the case date, unknown regions and parameters not in force.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jiuzhu.rules.arrays import Households, ParamArrays, Persons
from jiuzhu.rules.dates import completed_years
from jiuzhu.rules.errors import InvalidCase, Problem, TemplateError
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.parameters import (
    NotInForce,
    ParameterContext,
    ParameterTree,
    Scalar,
    default_tree,
    region_chain,
)
from jiuzhu.rules.programmes import default_catalogue, validate_facts
from jiuzhu.rules.vocabulary import (
    AREA_TYPES,
    ASSET_KINDS,
    CATEGORIES,
    CATEGORY_BIT,
    EXEMPT_ASSET_KINDS,
    EXPENSE_KINDS,
    FINANCIAL_ASSET_KINDS,
    IMPUTED_WAGE,
    INCOME_KINDS,
    NOT_COUNTED_REASONS,
    OCCUPATIONS,
    RELATIONS,
    SEXES,
)

RegionCheck = Callable[[str], bool]
#: Checks a resident ID number; returns (errors, birth_date, sex) — injected from the registry.
IdentityCheck = Callable[[str], tuple[list[str], dt.date | None, str | None]]

_REGION = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
_CASE_KEYS = {"region", "date", "area_type", "parameters", "household"}
_HOUSEHOLD_KEYS = {"id", "members", "income", "assets", "expenses", "facts", "previous_topup",
                   "employment_started", "local_hukou", "single_applicant"}
_MEMBER_KEYS = {"id", "relation", "sex", "birth_date", "disability_grade", "health_coefficient",
                "categories", "counted", "not_counted_reason", "refused_work", "id_number", "name", "facts"}
_INCOME_KEYS = {"kind", "amount", "member", "monthly_reference", "occupation", "months", "note"}
_ASSET_KEYS = {"kind", "value", "count", "exempt", "member", "note"}
_EXPENSE_KEYS = {"kind", "amount", "member", "note"}


@dataclass
class ImputedItem:
    member: str
    monthly: float
    months: float
    occupation: str | None


@dataclass
class Case:
    """One validated case: the household and its context, ready for the arrays."""

    region: str
    date: dt.date
    area_type: str
    overrides: dict[str, Scalar]
    household_id: str
    members: list[dict[str, Any]]
    income: dict[str, float] = field(default_factory=dict)
    imputed: list[ImputedItem] = field(default_factory=list)
    expenses: dict[str, float] = field(default_factory=dict)
    assets_financial: float = 0.0
    homes: float = 0.0
    vehicle_value: float = 0.0
    previous_topup: float = 0.0
    employment_started: dt.date | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    local_hukou: bool = True
    #: 单人户: the member who applies alone (dibao-edge family, severe disability or illness)
    single_applicant: str | None = None
    #: income and expenses given for one member, kept apart for a single-person application
    member_income: dict[str, dict[str, float]] = field(default_factory=dict)
    member_expenses: dict[str, dict[str, float]] = field(default_factory=dict)
    #: who earns the wages: member ids, "" for wages that name nobody (counted as one earner)
    wage_earners: set[str] = field(default_factory=set)

    def alone(self) -> Case:
        """The single applicant as a household of one: own income and expenses only."""
        assert self.single_applicant is not None
        who = self.single_applicant
        return Case(region=self.region, date=self.date, area_type=self.area_type, overrides=self.overrides,
                    household_id=f"{self.household_id}:{who}",
                    members=[m for m in self.members if m["id"] == who],
                    income=dict(self.member_income.get(who, {})),
                    imputed=[i for i in self.imputed if i.member == who],
                    expenses=dict(self.member_expenses.get(who, {})),
                    wage_earners=self.wage_earners & {who},
                    # The asset test is the family's: a dibao-edge family is within the limits.
                    local_hukou=self.local_hukou)


def _plain_number(x: float) -> str:
    """1.0 → 1, 0.5 → 0.5: bounds as a person writes them in a message."""
    return f"{x:g}"


class _Reader:
    def __init__(self, tree: ParameterTree, prefix: str, known_region: RegionCheck | None,
                 check_identity: IdentityCheck | None):
        self.tree = tree
        self.prefix = prefix
        self.known_region = known_region
        self.check_identity = check_identity
        self.problems: list[Problem] = []

    def add(self, path: str, template: str, **args: Any) -> None:
        self.problems.append(Problem(self.prefix + path, template, args))

    # -- typed field readers; each returns None after recording a problem ------------
    def unknown(self, obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(obj) - allowed):
            self.add(f"{path}.{key}" if path else key, _("is not a known field"))

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, _("must be an object"))
            return None
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, _("must be a list"))
            return []
        return value

    def text(self, value: Any, path: str, *, choices: Sequence[str] | None = None,
             required: bool = True) -> str | None:
        if value is None:
            if required:
                self.add(path, _("is required"))
            return None
        if not isinstance(value, str):
            self.add(path, _("must be text"))
            return None
        if choices is not None and value not in choices:
            self.add(path, _("“{value}” is not one of: {choices}"), value=value, choices=", ".join(choices))
            return None
        return value

    def number(self, value: Any, path: str, *, required: bool = True, low: float | None = 0.0,
               high: float | None = None) -> float | None:
        if value is None:
            if required:
                self.add(path, _("is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, _("must be a number"))
            return None
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            self.add(path, _("must be a finite number"))
            return None
        if low is not None and value < low:
            if low == 0:
                self.add(path, _("must not be negative"))
            else:
                self.add(path, _("must be at least {low}"), low=_plain_number(low))
            return None
        if high is not None and value > high:
            self.add(path, _("must be at most {high}"), high=_plain_number(high))
            return None
        return float(value)

    def date(self, value: Any, path: str, *, required: bool = True) -> dt.date | None:
        if value is None:
            if required:
                self.add(path, _("is required"))
            return None
        if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            self.add(path, _("must be a date written YYYY-MM-DD"))
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.add(path, _("“{value}” is not a real date"), value=value)
            return None

    def boolean(self, value: Any, path: str) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(path, _("must be true or false"))
            return None
        return value

    # -- the case ---------------------------------------------------------------------
    def case(self, raw: Any) -> Case | None:
        data = self.obj(raw, "case")
        if data is None:
            return None
        self.unknown(data, _CASE_KEYS, "")
        region = self.text(data.get("region"), "region")
        if region is not None and not _REGION.match(region):
            self.add("region", _("must be a division code of 6, 9 or 12 digits, written as text"))
            region = None
        elif region is not None and self.known_region is not None and not self.known_region(region):
            self.add("region", _("“{region}” is not a known division code"), region=region)
            region = None
        date = self.date(data.get("date"), "date")
        area_type = self.text(data.get("area_type"), "area_type", choices=AREA_TYPES)
        overrides = self.overrides(data.get("parameters"), area_type or "rural")
        household = self.obj(data.get("household"), "household")
        if household is None:
            return None
        case = self.household(household, date)
        if region is not None:
            self.programme_facts(region, household)
        if case is None or region is None or date is None or area_type is None:
            return None
        case.region, case.date, case.area_type, case.overrides = region, date, area_type, overrides
        return case

    def programme_facts(self, region: str, household: Mapping[str, Any]) -> None:
        """Facts for the region's programmes (DOMAIN.md §6): known names, types and choices."""
        facts = household.get("facts")
        members = household.get("members")
        member_facts = [m.get("facts") or {} if isinstance(m, Mapping) else {} for m in members] \
            if isinstance(members, list) else []
        if not isinstance(facts, Mapping | type(None)) or not all(isinstance(f, Mapping) for f in member_facts):
            return  # reported as "must be an object" already
        programmes = default_catalogue().for_region(region_chain(region))
        for problem in validate_facts(programmes, facts or {}, member_facts):
            self.problems.append(Problem(self.prefix + problem.path, problem.template, problem.args))

    def overrides(self, raw: Any, area_type: str) -> dict[str, Scalar]:
        if raw is None:
            return {}
        data = self.obj(raw, "parameters")
        if data is None:
            return {}
        out: dict[str, Scalar] = {}
        for name, value in data.items():
            try:
                out[name] = self.tree.convert_override(name, area_type, value)
            except TemplateError as exc:
                self.problems.append(exc.problem(f"{self.prefix}parameters.{name}"))
        return out

    def household(self, data: Mapping[str, Any], date: dt.date | None) -> Case | None:
        self.unknown(data, _HOUSEHOLD_KEYS, "household")
        household_id = data.get("id", "")
        if not isinstance(household_id, str | int) or isinstance(household_id, bool):
            self.add("household.id", _("must be text"))
        members = self.items(data.get("members"), "household.members")
        if not members and isinstance(data.get("members"), list | type(None)):
            self.add("household.members", _("needs at least one member"))
        member_rows: list[dict[str, Any]] = []
        ids: set[str] = set()
        for i, raw in enumerate(members):
            row = self.member(raw, f"household.members[{i}]", date)
            raw_id = raw.get("id") if isinstance(raw, Mapping) else None
            if isinstance(raw_id, str):
                if raw_id in ids:
                    self.add(f"household.members[{i}].id", _("“{id}” is used twice"), id=raw_id)
                ids.add(raw_id)  # a member with other problems can still be referred to
            if row is not None:
                member_rows.append(row)
        if member_rows and len(member_rows) == len(members) and not any(r["counted"] for r in member_rows):
            self.add("household.members", _("needs at least one counted member"))
        counted_ids = {r["id"] for r in member_rows if r["counted"]}
        case = Case(region="", date=dt.date.min, area_type="", overrides={},
                    household_id=str(household_id), members=member_rows)
        facts = data.get("facts")
        if facts is not None and self.obj(facts, "household.facts") is not None:
            case.facts = dict(facts)
        self.income(data.get("income"), case, ids, counted_ids)
        self.expenses(data.get("expenses"), case, ids, counted_ids)
        self.assets(data.get("assets"), case, ids)
        single = data.get("single_applicant")
        if single is not None:
            single = self.member_ref(single, "household.single_applicant", ids)
            if single is not None and single not in counted_ids:
                self.add("household.single_applicant", _("must be a counted member"))
                single = None
            case.single_applicant = single
        hukou = self.boolean(data.get("local_hukou"), "household.local_hukou")
        case.local_hukou = True if hukou is None else hukou
        previous = self.number(data.get("previous_topup"), "household.previous_topup", required=False)
        case.previous_topup = previous or 0.0
        started = self.date(data.get("employment_started"), "household.employment_started", required=False)
        if started is not None and date is not None and started > date:
            self.add("household.employment_started", _("is after the case date"))
        case.employment_started = started
        return case

    def member(self, raw: Any, path: str, date: dt.date | None) -> dict[str, Any] | None:
        data = self.obj(raw, path)
        if data is None:
            return None
        before = len(self.problems)
        self.unknown(data, _MEMBER_KEYS, path)
        member_id = self.text(data.get("id"), f"{path}.id")
        self.text(data.get("relation"), f"{path}.relation", choices=RELATIONS, required=False)
        sex = self.text(data.get("sex"), f"{path}.sex", choices=SEXES)
        birth = self.date(data.get("birth_date"), f"{path}.birth_date")
        if birth is not None and date is not None and birth > date:
            self.add(f"{path}.birth_date", _("is after the case date"))
        grade = data.get("disability_grade")
        if grade is not None and (isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 10):
            self.add(f"{path}.disability_grade", _("must be a whole number from 1 (most severe) to 10"))
        coefficient = self.number(data.get("health_coefficient"), f"{path}.health_coefficient",
                                  required=False, low=0.0, high=1.0)
        categories = self.items(data.get("categories"), f"{path}.categories")
        bits = 0
        for j, category in enumerate(categories):
            if self.text(category, f"{path}.categories[{j}]", choices=CATEGORIES) is not None:
                bits |= CATEGORY_BIT[category]
        counted = self.boolean(data.get("counted"), f"{path}.counted")
        reason = self.text(data.get("not_counted_reason"), f"{path}.not_counted_reason",
                           choices=NOT_COUNTED_REASONS, required=False)
        refused = self.boolean(data.get("refused_work"), f"{path}.refused_work")
        facts = data.get("facts")
        if facts is not None:
            self.obj(facts, f"{path}.facts")
        number = data.get("id_number")
        if number is not None and self.text(number, f"{path}.id_number") is not None and self.check_identity:
            errors, id_birth, id_sex = self.check_identity(number)
            for error in errors:
                self.add(f"{path}.id_number", error)
            if not errors and birth is not None and id_birth is not None and id_birth != birth:
                self.add(f"{path}.birth_date", _("does not match the ID number ({id_birth})"),
                         id_birth=id_birth.isoformat())
            if not errors and sex is not None and id_sex is not None and id_sex != sex:
                self.add(f"{path}.sex", _("does not match the ID number"))
        if len(self.problems) > before or member_id is None or sex is None or birth is None:
            return None
        return {
            "id": member_id, "sex": sex, "birth_date": birth,
            "disability_grade": int(grade) if grade is not None else 0,
            "health_coefficient": coefficient, "categories": bits,
            "counted": (counted if counted is not None else True) and reason is None,
            "refused_work": bool(refused), "relation": data.get("relation"),
            "name": data.get("name") if isinstance(data.get("name"), str) else None,
            "facts": dict(facts) if isinstance(facts, Mapping) else {},
        }

    def member_ref(self, value: Any, path: str, ids: set[str], *, required: bool = False) -> str | None:
        member = self.text(value, path, required=required)
        if member is not None and member not in ids:
            self.add(path, _("refers to member “{member}”, who is not in the household"), member=member)
            return None
        return member

    def income(self, raw: Any, case: Case, ids: set[str], counted_ids: set[str]) -> None:
        for i, item in enumerate(self.items(raw, "household.income")):
            path = f"household.income[{i}]"
            data = self.obj(item, path)
            if data is None:
                continue
            self.unknown(data, _INCOME_KEYS, path)
            kind = self.text(data.get("kind"), f"{path}.kind", choices=(*INCOME_KINDS, IMPUTED_WAGE))
            if kind == IMPUTED_WAGE:
                member = self.member_ref(data.get("member"), f"{path}.member", ids, required=True)
                occupation = self.text(data.get("occupation"), f"{path}.occupation", choices=OCCUPATIONS,
                                       required=False)
                monthly = self.number(data.get("monthly_reference"), f"{path}.monthly_reference",
                                      required=occupation is None)
                months = self.number(data.get("months"), f"{path}.months", high=12)
                usable = months is not None and (monthly is not None or occupation is not None)
                if member is not None and member in counted_ids and months is not None and usable:
                    case.imputed.append(ImputedItem(member, monthly if monthly is not None else math.nan,
                                                    months, occupation if monthly is None else None))
                continue
            amount = self.number(data.get("amount"), f"{path}.amount")
            member = self.member_ref(data.get("member"), f"{path}.member", ids)
            if kind is not None and amount is not None and (member is None or member in counted_ids):
                case.income[kind] = case.income.get(kind, 0.0) + amount
                if kind == "wage" and amount > 0:
                    case.wage_earners.add(member or "")
                if member is not None:
                    own = case.member_income.setdefault(member, {})
                    own[kind] = own.get(kind, 0.0) + amount

    def expenses(self, raw: Any, case: Case, ids: set[str], counted_ids: set[str]) -> None:
        for i, item in enumerate(self.items(raw, "household.expenses")):
            path = f"household.expenses[{i}]"
            data = self.obj(item, path)
            if data is None:
                continue
            self.unknown(data, _EXPENSE_KEYS, path)
            kind = self.text(data.get("kind"), f"{path}.kind", choices=EXPENSE_KINDS)
            amount = self.number(data.get("amount"), f"{path}.amount")
            member = self.member_ref(data.get("member"), f"{path}.member", ids)
            if kind is not None and amount is not None and (member is None or member in counted_ids):
                case.expenses[kind] = case.expenses.get(kind, 0.0) + amount
                if member is not None:
                    own = case.member_expenses.setdefault(member, {})
                    own[kind] = own.get(kind, 0.0) + amount

    def assets(self, raw: Any, case: Case, ids: set[str]) -> None:
        for i, item in enumerate(self.items(raw, "household.assets")):
            path = f"household.assets[{i}]"
            data = self.obj(item, path)
            if data is None:
                continue
            self.unknown(data, _ASSET_KEYS, path)
            kind = self.text(data.get("kind"), f"{path}.kind", choices=ASSET_KINDS)
            value = self.number(data.get("value"), f"{path}.value", required=kind != "home")
            count = data.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                self.add(f"{path}.count", _("must be a whole number of at least 1"))
                count = 1
            exempt = self.boolean(data.get("exempt"), f"{path}.exempt")
            self.member_ref(data.get("member"), f"{path}.member", ids)
            if kind is None or exempt or kind in EXEMPT_ASSET_KINDS:
                continue
            if kind in FINANCIAL_ASSET_KINDS and value is not None:
                case.assets_financial += value
            elif kind == "home":
                case.homes += count
            elif kind == "vehicle" and value is not None:
                case.vehicle_value += value


def effective_region(tree: ParameterTree, region: str) -> str:
    """The most specific level of the region that has parameters: contexts collapse to it."""
    levels = tree.levels()
    for code in region_chain(region):
        if code in levels:
            return code
    return region_chain(region)[-1]


def read_cases(raw: Any, tree: ParameterTree | None = None, *, known_region: RegionCheck | None = None,
               check_identity: IdentityCheck | None = None) -> tuple[list[Case], bool]:
    """Validate one case or a list; InvalidCase with every problem of every case."""
    tree = tree or default_tree()
    many = isinstance(raw, list)
    items = raw if many else [raw]
    cases: list[Case] = []
    problems: list[Problem] = []
    if many and not items:
        raise InvalidCase([Problem("", _("the list of cases is empty"))])
    for i, item in enumerate(items):
        reader = _Reader(tree, f"[{i}]." if many else "", known_region, check_identity)
        case = reader.case(item)
        problems.extend(reader.problems)
        if case is not None:
            cases.append(case)
    if problems:
        raise InvalidCase(problems)
    return cases, many


@dataclass
class CaseArrays:
    households: Households
    persons: Persons
    params: ParamArrays


def case_arrays(cases: list[Case], tree: ParameterTree | None = None) -> CaseArrays:
    """Columnar arrays of validated cases, one parameter context per distinct setting."""
    tree = tree or default_tree()
    keys: dict[tuple[Any, ...], int] = {}
    contexts: list[ParameterContext] = []
    context_of = np.zeros(len(cases), dtype=np.int64)
    for i, case in enumerate(cases):
        key = (effective_region(tree, case.region), case.date, case.area_type, tuple(sorted(case.overrides.items())))
        if key not in keys:
            keys[key] = len(contexts)
            contexts.append(ParameterContext(tree, key[0], case.date, case.area_type, dict(case.overrides)))
        context_of[i] = keys[key]
    params = ParamArrays(contexts, context_of)
    kinds = sorted({k for c in cases for k in c.income})
    expense_kinds = sorted({k for c in cases for k in c.expenses})
    n = len(cases)
    dates = np.array([c.date for c in cases], dtype="datetime64[D]")
    months_since = np.full(n, np.nan)
    for i, c in enumerate(cases):
        if c.employment_started is not None:
            months_since[i] = (c.date.year - c.employment_started.year) * 12 + (
                c.date.month - c.employment_started.month) - (c.date.day < c.employment_started.day)
    households = Households(
        context=context_of,
        income={k: np.array([c.income.get(k, 0.0) for c in cases]) for k in kinds},
        expense={k: np.array([c.expenses.get(k, 0.0) for c in cases]) for k in expense_kinds},
        assets_financial=np.array([c.assets_financial for c in cases]),
        homes=np.array([c.homes for c in cases]),
        vehicle_value=np.array([c.vehicle_value for c in cases]),
        previous_topup=np.array([c.previous_topup for c in cases]),
        months_since_employment=months_since,
        wage_earners=np.array([len(c.wage_earners) for c in cases], dtype=np.float64),
    )
    rows = [(i, m) for i, c in enumerate(cases) for m in c.members]
    household_of = np.array([i for i, _m in rows], dtype=np.int64)
    births = np.array([m["birth_date"] for _i, m in rows], dtype="datetime64[D]")
    imputed_base = np.zeros(len(rows))
    position = {(i, m["id"]): k for k, (i, m) in enumerate(rows)}
    with params.variable("imputed_income"):
        for i, c in enumerate(cases):
            for item in c.imputed:
                monthly = item.monthly
                if item.occupation is not None:
                    name = f"income.imputation.reference_earnings.{item.occupation}"
                    params._note(name)
                    try:
                        monthly = contexts[context_of[i]].number(name)
                    except NotInForce as exc:
                        params.failed[int(context_of[i])] = (exc, contexts[context_of[i]])
                        monthly = math.nan
                imputed_base[position[(i, item.member)]] += monthly * item.months
    persons = Persons(
        household=household_of,
        female=np.array([m["sex"] == "female" for _i, m in rows], dtype=np.bool_),
        age=completed_years(births, dates[household_of]) if rows else np.zeros(0, dtype=np.int64),
        disability_grade=np.array([m["disability_grade"] for _i, m in rows], dtype=np.int64),
        health_coefficient=np.array(
            [math.nan if m["health_coefficient"] is None else m["health_coefficient"] for _i, m in rows],
            dtype=np.float64),
        categories=np.array([m["categories"] for _i, m in rows], dtype=np.int64),
        counted=np.array([m["counted"] for _i, m in rows], dtype=np.bool_),
        imputed_base=imputed_base,
        refused_work=np.array([m["refused_work"] for _i, m in rows], dtype=np.bool_),
    )
    return CaseArrays(households, persons, params)
