"""Fake departments for tests and the demo (`jiuzhu verification fake-departments`).

Other departments' systems are not ours to run, so the demo and the tests get their
answers from here: real files in the real exchange formats (docs/verification_exchange.md),
answering every request that was sent and adding the lists departments send on their
own (deaths, disability certificates, medical claims, other counties' rolls). Most
answers agree with what the households declared; a known set is planted wrong —
hidden deposits, vehicles and second homes, undeclared pensions and wages, deaths not
reported, people enrolled in another county, large medical bills, disabled people not
assisted, and typos in names and ID numbers. The planted list is written apart
(`planted.json`) so a test can say how many of them the platform found (recall) and how
many of its findings were planted (precision).

Deterministic for a seed and a database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from jiuzhu.registry.models import AssetRecord, ExpenseRecord, IncomeRecord, Membership, Person
from jiuzhu.rules.parameters import ParameterContext, default_tree
from jiuzhu.verification.answers import ANSWER_COLUMNS, LIST_COLUMNS
from jiuzhu.verification.models import Department, Status, VerificationRequest

#: Homophones a clerk types for one another (same pinyin, other character).
HOMOPHONES = {
    "丽": "莉", "明": "铭", "华": "化", "伟": "玮", "芳": "方", "军": "君", "红": "虹", "玲": "铃", "静": "婧",
    "秀": "绣", "兰": "岚", "英": "瑛", "国": "帼", "建": "健", "文": "雯", "平": "萍", "志": "智", "春": "椿",
    "林": "琳", "霞": "侠", "杰": "洁", "娟": "鹃", "强": "蔷", "磊": "垒", "敏": "闽", "燕": "艳", "刚": "钢",
    "辉": "晖", "梅": "玫", "凤": "峰", "云": "芸", "宇": "雨", "涛": "韬", "斌": "彬", "婷": "庭", "晶": "菁",
}
#: Shares of the answered requests that are planted wrong, per kind of plant.
RATES = {"deposit": 0.12, "vehicle": 0.06, "home": 0.05, "pension": 0.2, "wage": 0.1, "company": 0.03,
         "typo": 0.04}
OTHER_COUNTY = "220881000000"  # 洮南市: a neighbouring county's roll


@dataclass
class FakeResult:
    files: list[Path] = field(default_factory=list)
    planted: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


def _money(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def _corrupt_id(rng: random.Random, number: str) -> str:
    """One digit of the first 17 changed: the checksum no longer holds (a clerk's slip)."""
    position = rng.randrange(6, 17)
    digit = str((int(number[position]) + rng.randrange(1, 10)) % 10)
    return number[:position] + digit + number[position + 1:]


def _typo_name(name: str) -> str | None:
    for i in range(len(name) - 1, 0, -1):
        if name[i] in HOMOPHONES:
            return name[:i] + HOMOPHONES[name[i]] + name[i + 1:]
    return None


class _Writer:
    """Rows for one department file, typos planted as the rows are added."""

    def __init__(self, rng: random.Random, department: Department, kind: str, as_of: dt.date):
        self.rng, self.department, self.kind, self.as_of = rng, department, kind, as_of
        self.columns = [*(ANSWER_COLUMNS if kind == "answer" else LIST_COLUMNS), *department.item_names]
        self.rows: list[dict[str, str | None]] = []

    def add(self, person: Person, key: str, result: FakeResult, *, area_code: str = "",
            typo: bool | None = None, **items: str | None) -> int:
        found = any(v is not None for v in items.values())
        row: dict[str, str | None] = {
            self.columns[0]: key, "id_number": person.id_number, "name": person.name,
            "birth_date": person.birth_date.isoformat(), "sex": person.sex, "found": "yes" if found else "no",
            "as_of": self.as_of.isoformat(), **{name: items.get(name) for name in self.department.item_names}}
        if self.kind == "list":
            row["area_code"] = area_code
        if typo if typo is not None else (found and self.rng.random() < RATES["typo"]):
            misspelt = _typo_name(person.name)
            if misspelt is not None and self.rng.random() < 0.5:
                row["name"], what = misspelt, "name"
            else:
                row["id_number"], what = _corrupt_id(self.rng, person.id_number), "id_number"
            result.planted["typos"].append({"department": self.department.code, "key": key, "what": what,
                                            "id_number": person.id_number, "written": row[what]})
        self.rows.append(row)
        return len(self.rows)

    def write(self, out: Path, name: str, result: FakeResult) -> None:
        if not self.rows:
            return
        fmt = self.department.exchange_format
        path = out / f"{name}.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(self.rows, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            frame = pl.DataFrame(self.rows, schema=dict.fromkeys(self.columns, pl.String))
            if fmt == "csv":
                frame.write_csv(path)
            else:
                frame.write_excel(path, worksheet="answers")
        result.files.append(path)


@dataclass
class Declared:
    """What the households asked about declared: the answers are written from it."""

    assets: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # (household, kind)
    expenses: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    income: dict[tuple[int | None, int, str], Decimal] = field(  # (person, household, kind)
        default_factory=lambda: defaultdict(Decimal))


def _declared(households: Iterable[int]) -> Declared:
    ids = list(households)
    declared = Declared()
    live = {"household_id__in": ids, "source": "declared", "superseded": False}
    for fact in AssetRecord.objects.filter(**live):
        declared.assets[(fact.household_id, fact.kind)] += fact.value
    for expense in ExpenseRecord.objects.filter(**live):
        declared.expenses[(expense.household_id, expense.kind)] += expense.amount
    for record in IncomeRecord.objects.filter(**live):
        declared.income[(record.person_id, record.household_id, record.kind)] += record.amount or Decimal("0")
    return declared


def _answers(rng: random.Random, out: Path, today: dt.date, result: FakeResult) -> None:
    """An answer file per department for every request sent and not yet answered."""
    requests = list(VerificationRequest.objects.filter(status=Status.SENT)
                    .select_related("department", "person", "household").order_by("department__code", "request_id"))
    declared_by = _declared({r.household_id for r in requests})
    income = declared_by.income
    heads = dict(Membership.objects.filter(household_id__in={r.household_id for r in requests}, relation="head",
                                           end__isnull=True).values_list("household_id", "person_id"))
    by_department: dict[str, list[VerificationRequest]] = defaultdict(list)
    for request in requests:
        by_department[request.department.code].append(request)
    as_of = today - dt.timedelta(days=3)
    for code, asked in by_department.items():
        writer = _Writer(rng, asked[0].department, "answer", as_of)
        for r in asked:
            p, h = r.person, r.household
            is_head = heads.get(h.pk) == p.pk

            def plant(category: str, **extra: Any) -> None:
                result.planted[category].append({"household": h.number, "id_number": p.id_number,  # noqa: B023
                                              "request_id": r.request_id, **extra})  # noqa: B023

            if code == "banks":
                declared = declared_by.assets.get((h.pk, "deposit"), Decimal("0")) if is_head else Decimal("0")
                if is_head and rng.random() < RATES["deposit"]:
                    hidden = Decimal(rng.randrange(30, 90) * 1000)
                    plant("discrepancies", record="asset", kind="deposit", hidden=str(hidden))
                    writer.add(p, r.request_id, result, bank="农村信用社", account=f"62{rng.randrange(10**14):014d}",
                               balance=_money(hidden))
                    if declared:
                        writer.add(p, r.request_id, result, bank="中国农业银行",
                                   account=f"62{rng.randrange(10**14):014d}", balance=_money(declared))
                elif declared:
                    writer.add(p, r.request_id, result, bank="中国农业银行", account=f"62{rng.randrange(10**14):014d}",
                               balance=_money(declared))
                else:
                    writer.add(p, r.request_id, result)
            elif code == "vehicles":
                if rng.random() < RATES["vehicle"]:
                    value = Decimal(rng.randrange(50, 150) * 1000)
                    plant("over_limits", check="vehicle_over_cap", value=str(value))
                    plant("discrepancies", record="asset", kind="vehicle", value=str(value))
                    writer.add(p, r.request_id, result, plate=f"吉G{rng.randrange(10000, 99999)}",
                               vehicle_type="小型轿车", value=_money(value), owner_id_number=p.id_number)
                else:
                    writer.add(p, r.request_id, result)
            elif code == "housing":
                if is_head:
                    writer.add(p, r.request_id, result, address=f"{h.address or '本村'}", area_m2="72",
                               owner_id_number=p.id_number)
                    if rng.random() < RATES["home"]:
                        plant("over_limits", check="homes_over_limit")
                        writer.add(p, r.request_id, result, address="大安市城区商品房", area_m2="96",
                                   owner_id_number=p.id_number)
                else:
                    writer.add(p, r.request_id, result)
            elif code == "social_insurance":
                pension = income.get((p.pk, h.pk, "pension"), Decimal("0"))
                if p.age_on(today) >= 60 and rng.random() < RATES["pension"]:
                    extra = Decimal(rng.randrange(8, 30) * 100)
                    plant("discrepancies", record="income", kind="pension", monthly=str(extra))
                    writer.add(p, r.request_id, result, pension_monthly=_money(pension / 12 + extra))
                elif pension:
                    writer.add(p, r.request_id, result, pension_monthly=_money(pension / 12))
                else:
                    writer.add(p, r.request_id, result)
            elif code == "tax":
                wage = income.get((p.pk, h.pk, "wage"), Decimal("0"))
                if 18 <= p.age_on(today) < 60 and rng.random() < RATES["wage"]:
                    extra = Decimal(rng.randrange(20, 60) * 1000)
                    plant("discrepancies", record="income", kind="wage", yearly=str(extra))
                    writer.add(p, r.request_id, result, taxable_income=_money(wage + extra))
                elif wage:
                    writer.add(p, r.request_id, result, taxable_income=_money(wage))
                else:
                    writer.add(p, r.request_id, result)
            elif code == "business_registration":
                if rng.random() < RATES["company"]:
                    plant("over_limits", check="company_registered")
                    writer.add(p, r.request_id, result, company_name="大安市某农业合作社", role="股东",
                               registered_capital=_money(rng.randrange(50, 500) * 1000))
                else:
                    writer.add(p, r.request_id, result)
            elif code == "public_security":
                writer.add(p, r.request_id, result, hukou_registered="yes", hukou_area=h.area_id, death_date=None,
                           typo=False)
            elif code == "medical_insurance":
                spent = declared_by.expenses.get((h.pk, "medical_out_of_pocket"), Decimal("0")) if is_head else 0
                if spent:
                    writer.add(p, r.request_id, result, claim_date=(today - dt.timedelta(days=60)).isoformat(),
                               out_of_pocket=_money(spent))
                else:
                    writer.add(p, r.request_id, result)
            elif code == "disability":
                if p.disability_grade:
                    writer.add(p, r.request_id, result, certificate_grade=str(min(4, p.disability_grade)),
                               disability_type=p.disability_type or "physical")
                else:
                    writer.add(p, r.request_id, result)
            else:
                writer.add(p, r.request_id, result)
        writer.write(out, f"{code}-answer-{today:%Y%m%d}", result)


def _lists(rng: random.Random, out: Path, today: dt.date, area: str, enrolled_households: set[int],
           result: FakeResult) -> None:
    """The lists departments send on their own: deaths, certificates, claims, other rolls."""
    members = list(Membership.objects.filter(end__isnull=True, counted=True, household__area__code__startswith=area,
                                             person__death_date__isnull=True)
                   .select_related("person", "household").order_by("pk"))
    enrolled = [m for m in members if m.household_id in enrolled_households]
    asked = set(VerificationRequest.objects.values_list("household_id", flat=True))
    others = [m for m in members if m.household_id not in enrolled_households and m.household_id not in asked]
    poor = _below_standard({m.household for m in others}, today)
    departments = {d.code: d for d in Department.objects.all()}
    as_of = today - dt.timedelta(days=1)

    deaths = _Writer(rng, departments["public_security"], "list", as_of)
    for i, m in enumerate(rng.sample(enrolled, min(len(enrolled), max(1, len(enrolled) // 60)))):
        died = today - dt.timedelta(days=rng.randrange(70, 120))
        deaths.add(m.person, f"D{i + 1:05d}", result, area_code=m.household.area_id, hukou_registered="no",
                   hukou_area=m.household.area_id, death_date=died.isoformat())
        result.planted["deaths"].append({"household": m.household.number, "id_number": m.person.id_number,
                                         "death_date": died.isoformat()})
    stranger = Person(id_number="220882193001010018", name="赵无名", sex="male", birth_date=dt.date(1930, 1, 1))
    deaths.add(stranger, "D99999", result, area_code=area, hukou_registered="no", hukou_area=area,
               death_date=(today - dt.timedelta(days=30)).isoformat(), typo=False)
    deaths.write(out, f"public_security-list-{today:%Y%m%d}", result)

    roll = _Writer(rng, departments["civil_affairs"], "list", as_of)
    for i, m in enumerate(rng.sample(enrolled, min(len(enrolled), max(1, len(enrolled) // 80)))):
        roll.add(m.person, f"R{i + 1:05d}", result, area_code=OTHER_COUNTY, programme="dibao",
                 enrolled_area_code=OTHER_COUNTY, marital_status="married")
        result.planted["duplicates"].append({"household": m.household.number, "id_number": m.person.id_number,
                                             "other_area": OTHER_COUNTY})
    roll.write(out, f"civil_affairs-list-{today:%Y%m%d}", result)

    disability = _Writer(rng, departments["disability"], "list", as_of)
    candidates = [m for m in others if m.household_id in poor]
    for i, m in enumerate(rng.sample(candidates, min(len(candidates), max(1, len(others) // 40)))):
        disability.add(m.person, f"C{i + 1:05d}", result, area_code=m.household.area_id,
                       certificate_grade=str(rng.choice([1, 2])), disability_type="physical")
        result.planted["discovery"].append({"household": m.household.number, "id_number": m.person.id_number,
                                            "list": "severe_disability"})
    disability.write(out, f"disability-list-{today:%Y%m%d}", result)

    claims = _Writer(rng, departments["medical_insurance"], "list", as_of)
    n = 0
    for m in rng.sample(members, min(len(members), max(2, len(members) // 50))):
        heavy = rng.random() < 0.5
        total = 0
        for _claim in range(3 if heavy else 2):
            n += 1
            amount = rng.randrange(9000, 16000) if heavy else rng.randrange(300, 3000)
            total += amount
            claims.add(m.person, f"M{n:05d}", result, area_code=m.household.area_id,
                       claim_date=(today - dt.timedelta(days=rng.randrange(5, 150))).isoformat(),
                       out_of_pocket=_money(amount), typo=False)
        if heavy:
            result.planted["illness"].append({"household": m.household.number, "id_number": m.person.id_number,
                                              "out_of_pocket": total})
    claims.write(out, f"medical_insurance-list-{today:%Y%m%d}", result)


def _below_standard(households: set[Any], today: dt.date) -> set[int]:
    """Households whose declared income per counted member is below their dibao standard:
    the people a disability or illness list should lead the village worker to."""
    ids = [h.pk for h in households]
    income: dict[int, Decimal] = defaultdict(Decimal)
    for household_id, amount in IncomeRecord.objects.filter(household_id__in=ids, superseded=False).values_list(
            "household_id", "amount"):
        income[household_id] += amount or Decimal("0")
    counted: dict[int, int] = defaultdict(int)
    for household_id in Membership.objects.filter(household_id__in=ids, end__isnull=True, counted=True).values_list(
            "household_id", flat=True):
        counted[household_id] += 1
    tree = default_tree()
    return {h.pk for h in households if counted[h.pk] and float(income[h.pk]) / counted[h.pk]
            < ParameterContext(tree, h.area_id, today, h.area_type).number("dibao.standard")}


def write_fake_departments(out: Path, *, seed: int, today: dt.date, area_code: str,
                           enrolled_households: set[int]) -> FakeResult:
    """Write the answer files and lists into `out`, and `planted.json` beside them."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    result = FakeResult()
    _answers(rng, out, today, result)
    _lists(rng, out, today, area_code, enrolled_households, result)
    planted = out / "planted.json"
    planted.write_text(json.dumps({k: v for k, v in sorted(result.planted.items())}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
    return result


@dataclass(frozen=True)
class Score:
    planted: int
    found: int
    hits: int

    @property
    def precision(self) -> float:
        return self.hits / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.planted if self.planted else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"planted": self.planted, "found": self.found, "hits": self.hits,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


def score(planted: dict[str, list[dict[str, Any]]], on: dt.date, area_code: str) -> dict[str, Score]:
    """How much of what was planted the platform found, and how much of what it found was
    planted, per kind of plant. Truth comes only from `planted.json`; what was found comes
    from the database (answers, discrepancies, findings) as the pages show it."""
    from jiuzhu.registry.models import Household
    from jiuzhu.verification import selectors
    from jiuzhu.verification.models import Answer, Finding, LinkStatus

    linked = (LinkStatus.LINKED, LinkStatus.CONFIRMED)
    out: dict[str, Score] = {}

    # Linkage: every answer row is about the person it was written from; a typo row says who.
    typo_truth = {(t["department"], t["key"], t["written"]): t["id_number"] for t in planted.get("typos", [])}
    rows = list(Answer.objects.filter(file__area_code__startswith=area_code).select_related("person", "department"))
    truth = [(a, typo_truth.get((a.department.code, a.record_key, a.name))
              or typo_truth.get((a.department.code, a.record_key, a.id_number))) for a in rows]

    def right(answer: Answer, true_id: str | None) -> bool:
        return (answer.link_status in linked and answer.person is not None
                and answer.person.id_number == (true_id or answer.id_number))

    typos = [(a, t) for a, t in truth if t]
    out["typos"] = Score(len(typo_truth), sum(1 for a, _t in typos if a.link_status in linked),
                         sum(1 for a, t in typos if right(a, t)))
    # Rows whose ID number was mistyped can only be linked probabilistically: recall over
    # them, precision over every probabilistic link made.
    mistyped = sum(1 for t in planted.get("typos", []) if t["what"] == "id_number")
    probabilistic = [(a, t) for a, t in truth if a.link_method == "probabilistic" and a.link_status in linked]
    correct = sum(1 for a, t in probabilistic if right(a, t))
    out["linkage"] = Score(mistyped, len(probabilistic), min(correct, mistyped))

    # Discrepancies: (household, record, kind) planted against those listed on household pages.
    want = {(d["household"], d["record"], d["kind"]) for d in planted.get("discrepancies", [])}
    checked = Household.objects.filter(verification_answers__isnull=False, area__code__startswith=area_code).distinct()
    got = {(h.number, d.record, d.kind) for h in checked for d in selectors.discrepancies(h, on)}
    out["discrepancies"] = Score(len(want), len(got), len(want & got))

    findings = list(Finding.objects.filter(area_code__startswith=area_code).select_related("household", "person"))

    def by_kind(kinds: set[str], key: str) -> set[tuple[str, ...]]:
        return {(f.household.number if key == "household" else f.person.id_number,)  # type: ignore[union-attr]
                for f in findings if f.kind in kinds and (f.household if key == "household" else f.person)}

    plans = {
        "deaths": ({"paid_after_death", "death_recorded"}, "person", "id_number"),
        "duplicates": ({"duplicate_area"}, "household", "household"),
        "illness": ({"illness_warning"}, "household", "household"),
        "discovery": ({"discovery"}, "person", "id_number"),
    }
    for name, (kinds, key, field_) in plans.items():
        wanted = {(p[field_],) for p in planted.get(name, [])}
        if name == "discovery":  # a large medical bill on a claims list is a lead too
            wanted |= {(p["id_number"],) for p in planted.get("illness", [])}
        found = by_kind(kinds, key)
        listed = len({p[field_] for p in planted.get(name, [])})
        out[name] = Score(listed, len(found), min(listed, len(wanted & found)))
    over = {(p["household"], p["check"]) for p in planted.get("over_limits", [])}
    flagged = {(f.household.number, f.kind) for f in findings if f.household is not None
               and f.kind in {"vehicle_over_cap", "homes_over_limit", "company_registered"}}
    out["over_limits"] = Score(len(over), len(flagged), len(over & flagged))
    return out
