"""The demo registry: households with realistic members and declared facts, bulk-inserted.

Two thousand households are about 5,500 persons, as many memberships and some 6,000
facts; written one by one through the services with an audit entry each they would take
minutes, so they are inserted in batches and summarised by one audit entry. The
households that apply for assistance are then handled through the real services.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from jiuzhu.areas.models import Area
from jiuzhu.demo import people
from jiuzhu.registry.models import AssetRecord, ExpenseRecord, Household, IncomeRecord, Membership, Person, Source
from jiuzhu.rules.parameters import ParameterContext, default_tree

#: Per-capita income against the local dibao standard: the majority well above it, some
#: just above (dibao-edge), a few hundred below.
LOW, EDGE, COMFORTABLE = "low", "edge", "comfortable"

BATCH = 500
#: Nobody younger: the oldest stories go back a year, and the means test refuses a member
#: born after the day it is run for.
MIN_AGE = 2

_DISABILITY_TYPES = (("physical", 45), ("visual", 12), ("hearing", 12), ("intellectual", 10), ("mental", 10),
                     ("speech", 4), ("multiple", 7))
_NOT_COUNTED = ("prison", "missing", "clergy_away")
_SIZES = ((1, 18), (2, 32), (3, 25), (4, 15), (5, 7), (6, 3))


@dataclass
class MemberPlan:
    relation: str
    sex: str
    age: int
    family: str | None = None  # shares the head's surname when set
    counted: bool = True
    not_counted_reason: str = ""


@dataclass
class HouseholdPlan:
    """What one household should be like; `composition` "single_elderly" for tekun cases."""

    profile: str
    composition: str = ""
    verified: bool = False  # a bank check has confirmed the deposits


@dataclass
class DemoHousehold:
    household: Household
    members: list[tuple[Person, Membership]] = field(default_factory=list)
    plan: HouseholdPlan = field(default_factory=lambda: HouseholdPlan(COMFORTABLE))

    @property
    def head(self) -> Person:
        return next(p for p, m in self.members if m.relation == "head")

    def adults(self, on: dt.date) -> list[Person]:
        return [p for p, m in self.members if m.counted and p.age_on(on) >= 18]


def _compose(rng: random.Random, plan: HouseholdPlan) -> list[MemberPlan]:
    """Members by relation, sex and age, in the shapes of a north-eastern rural county:
    many elderly couples and people living alone, couples with children, three generations."""
    if plan.composition == "single_elderly":
        return [MemberPlan("head", rng.choice(("male", "female")), rng.randint(62, 88))]
    size = rng.choices([s for s, _w in _SIZES], weights=[w for _s, w in _SIZES])[0]
    head_sex = "male" if rng.random() < 0.8 else "female"
    other = "female" if head_sex == "male" else "male"
    if size == 1:
        age = rng.randint(60, 90) if rng.random() < 0.6 else rng.randint(25, 59)
        return [MemberPlan("head", rng.choice(("male", "female")), age)]
    if size == 2 and rng.random() < 0.3:  # a parent alone with a child
        age = rng.randint(35, 70)
        return [MemberPlan("head", rng.choice(("male", "female")), age),
                MemberPlan("child", rng.choice(("male", "female")), max(3, age - rng.randint(22, 36)), family="head")]
    if size == 2:
        age = rng.randint(28, 85)
        return [MemberPlan("head", head_sex, age), MemberPlan("spouse", other, max(20, age + rng.randint(-5, 3)))]
    age = rng.randint(30, 56)
    if size >= 4 and rng.random() < 0.35:  # grandparents at the head with a grown child and grandchildren
        age = rng.randint(56, 72)
    members = [MemberPlan("head", head_sex, age), MemberPlan("spouse", other, max(20, age + rng.randint(-5, 3)))]
    child_age = age - rng.randint(22, 34)
    grand = age >= 56
    for i in range(size - 2):
        if grand and i == 0:
            members.append(MemberPlan("child", rng.choice(("male", "female")), max(20, child_age), family="head"))
        elif grand:
            members.append(MemberPlan("grandchild", rng.choice(("male", "female")), rng.randint(MIN_AGE, 14),
                                      family="head"))
        elif i < 2 or size == 3:
            members.append(MemberPlan("child", rng.choice(("male", "female")), max(MIN_AGE, child_age - 3 * i),
                                      family="head"))
        else:  # the head's parents live with the family
            members.append(MemberPlan("parent", "male" if i == 2 else "female", min(92, age + rng.randint(24, 32)),
                                      family="head" if i == 2 and head_sex == "male" else None))
    for member in members[1:]:
        if member.age >= 18 and rng.random() < 0.01:
            member.counted, member.not_counted_reason = False, rng.choice(_NOT_COUNTED)
    return members


def _yuan(value: float) -> Decimal:
    return Decimal(str(round(value / 10) * 10)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _facts(rng: random.Random, demo: DemoHousehold, standard: float, today: dt.date
           ) -> tuple[list[IncomeRecord], list[AssetRecord], list[ExpenseRecord]]:
    """Declared income, assets and expenses that put the household where its profile says."""
    h = demo.household
    counted = [(p, m) for p, m in demo.members if m.counted]
    size = max(1, len(counted))
    ratio = {LOW: rng.uniform(0.1, 0.75), EDGE: rng.uniform(1.1, 1.4), COMFORTABLE: rng.uniform(1.7, 6.0)}
    total = standard * size * ratio[demo.plan.profile]
    incomes: list[IncomeRecord] = []
    elderly = [p for p, _m in counted if p.age_on(today) >= 60]
    working = [p for p, _m in counted if 18 <= p.age_on(today) < 60 and not p.disability_grade]
    rural = h.area_type == "rural"
    if elderly:
        pension_kind = "central_basic_pension" if rural else "pension"
        each = min(total * 0.7 / len(elderly), 1800.0 if rural else 24000.0)
        for person in elderly:
            incomes.append(IncomeRecord(household=h, person=person, kind=pension_kind, amount=_yuan(each)))
        total -= each * len(elderly)
    if total > 0:
        if rural and rng.random() < 0.7:
            land = total if demo.plan.profile != COMFORTABLE else total * rng.uniform(0.15, 0.4)
            incomes.append(IncomeRecord(household=h, kind="land_transfer", amount=_yuan(land)))
            total -= land
        if total > 0 and working:
            share = total / len(working)
            for person in working:
                kind = "business" if demo.plan.profile == COMFORTABLE and rng.random() < 0.15 else "wage"
                incomes.append(IncomeRecord(household=h, person=person, kind=kind, amount=_yuan(share)))
        elif total > 0:
            incomes.append(IncomeRecord(household=h, kind="other" if rural else "maintenance_received",
                                        amount=_yuan(total)))
    deposit_years = {LOW: rng.uniform(0.0, 0.5), EDGE: rng.uniform(0.2, 0.8), COMFORTABLE: rng.uniform(0.5, 6.0)}
    deposit = _yuan(standard * size * deposit_years[demo.plan.profile])
    assets = [AssetRecord(household=h, kind="deposit", value=deposit)]
    if demo.plan.verified:
        assets.append(AssetRecord(household=h, kind="deposit", value=deposit, source=Source.VERIFIED,
                                  source_detail="银行存款核对"))
    if rural and rng.random() < 0.3:
        assets.append(AssetRecord(household=h, kind="livestock", value=_yuan(rng.uniform(1000, 12000))))
    if demo.plan.profile == COMFORTABLE and rng.random() < 0.25:
        assets.append(AssetRecord(household=h, kind="vehicle", value=_yuan(rng.uniform(20000, 120000))))
    expenses: list[ExpenseRecord] = []
    needs_care = any(p.disability_grade for p, _m in counted) or bool(elderly)
    if demo.plan.profile != COMFORTABLE and needs_care and rng.random() < 0.5:
        expenses.append(ExpenseRecord(household=h, kind="medical_out_of_pocket",
                                      amount=_yuan(rng.uniform(800, 9000))))
    return incomes, assets, expenses


def _address(rng: random.Random, village: Area) -> str:
    if village.is_urban:
        street = rng.choice(("幸福街", "胜利路", "人民路", "建设街", "长虹路", "和平街"))
        return f"{village.name_zh}{street}{rng.randint(1, 180)}号{rng.randint(1, 6)}单元"
    return f"{village.name_zh}{rng.randint(1, 9)}组{rng.randint(1, 120)}号"


def build_registry(rng: random.Random, villages: list[Area], plans: list[HouseholdPlan], today: dt.date,
                   ids: people.IdNumbers, since: dt.date) -> list[DemoHousehold]:
    """Insert the households of `plans` spread over `villages` (communities a little
    larger), with members and facts; returns them with their rows."""
    weights = [1.4 if v.is_urban else 1.0 for v in villages]
    chosen = rng.choices(villages, weights=weights, k=len(plans))
    sequence: dict[str, int] = {}
    demos: list[DemoHousehold] = []
    member_plans: list[list[MemberPlan]] = []
    for village, plan in zip(chosen, plans, strict=True):
        sequence[village.code] = sequence.get(village.code, 0) + 1
        area_type = "urban" if village.is_urban else "rural"
        household = Household(number=f"{village.full_code()}{sequence[village.code]:04d}", area=village,
                              area_type=area_type, address=_address(rng, village),
                              bank_account=people.bank_account(rng) if rng.random() < 0.6 else "")
        demos.append(DemoHousehold(household, plan=plan))
        member_plans.append(_compose(rng, plan))
    Household.objects.bulk_create([d.household for d in demos], batch_size=BATCH)

    persons: list[list[Person]] = []
    for demo, plans_of_members in zip(demos, member_plans, strict=True):
        family = people.surname(rng)
        row: list[Person] = []
        for member in plans_of_members:
            birth = people.birth_date(rng, today, member.age)
            disabled = rng.random() < (0.12 if member.age >= 60 else 0.04)
            grade = rng.choices(range(1, 11), weights=(2, 3, 4, 5, 6, 6, 6, 5, 4, 3))[0] if disabled else None
            kind = rng.choices([k for k, _w in _DISABILITY_TYPES], weights=[w for _k, w in _DISABILITY_TYPES])[0]
            row.append(Person(
                id_number=ids.new(birth, member.sex),
                name=people.full_name(rng, member.sex, family if member.family or member.relation == "head" else None),
                sex=member.sex, birth_date=birth, hukou_type=demo.household.area_type,
                hukou_area=demo.household.area_id, disability_grade=grade, disability_type=kind if disabled else "",
                phone=people.phone(rng) if member.relation == "head" else ""))
        persons.append(row)
    Person.objects.bulk_create([p for row in persons for p in row], batch_size=BATCH)

    memberships: list[Membership] = []
    for demo, row, plans_of_members in zip(demos, persons, member_plans, strict=True):
        for person, member in zip(row, plans_of_members, strict=True):
            membership = Membership(household=demo.household, person=person, relation=member.relation,
                                    counted=member.counted, not_counted_reason=member.not_counted_reason,
                                    start=max(since, person.birth_date))
            demo.members.append((person, membership))
            memberships.append(membership)
    Membership.objects.bulk_create(memberships, batch_size=BATCH)

    standards: dict[tuple[str, str], float] = {}
    incomes: list[IncomeRecord] = []
    assets: list[AssetRecord] = []
    expenses: list[ExpenseRecord] = []
    for demo in demos:
        h = demo.household
        key = (h.area_id, h.area_type)
        if key not in standards:
            standards[key] = ParameterContext(default_tree(), h.area_id, today, h.area_type).number("dibao.standard")
        i, a, e = _facts(rng, demo, standards[key], today)
        incomes += i
        assets += a
        expenses += e
    IncomeRecord.objects.bulk_create(incomes, batch_size=BATCH)
    AssetRecord.objects.bulk_create(assets, batch_size=BATCH)
    ExpenseRecord.objects.bulk_create(expenses, batch_size=BATCH)
    return demos


def counts(demos: list[DemoHousehold]) -> dict[str, int]:
    return {"households": len(demos), "persons": sum(len(d.members) for d in demos),
            "below_standard": sum(d.plan.profile == LOW for d in demos),
            "disabled": sum(bool(p.disability_grade) for d in demos for p, _m in d.members)}
