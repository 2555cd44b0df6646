"""The household file turned into the engine's case (DOMAIN.md §13), and the result kept.

Verified facts win over declared ones of the same kind and member; where only a
declaration exists it is used and its path is listed in `declared_paths`, so the page
can mark which figures rest on the household's word alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import translation

from jiuzhu.casework.models import Application
from jiuzhu.registry.checks import identity_check, known_region
from jiuzhu.registry.models import Household, Membership, Source
from jiuzhu.rules.evaluate import evaluate_case

#: An officer's override (with its written reason) wins over everything, then department records.
_SOURCE_RANK: dict[str, int] = {Source.OVERRIDE: -1, Source.VERIFIED: 0, Source.VISIT: 1, Source.DECLARED: 2}


def member_key(membership: Membership) -> str:
    return f"p{membership.person_id}"


def _best_facts(facts: list[Any]) -> list[Any]:
    """Per kind and member, the facts of the most trusted source present."""
    groups: dict[tuple[str, int | None], list[Any]] = defaultdict(list)
    for fact in facts:
        if not fact.superseded:
            groups[(fact.kind, fact.person_id)].append(fact)
    # An officer's override for the household as a whole (no member) sets the kind's figure
    # for everyone: the members' own figures of that kind step aside.
    whole = {kind for (kind, person), group in groups.items()
             if person is None and any(f.source == Source.OVERRIDE for f in group)}
    chosen: list[Any] = []
    for (kind, person), group in groups.items():
        if kind in whole and person is not None:
            continue
        best = min(_SOURCE_RANK[f.source] for f in group)
        chosen.extend(f for f in group if _SOURCE_RANK[f.source] == best)
    return sorted(chosen, key=lambda f: f.pk)


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def build_case(household: Household, on: dt.date, facts: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                                              list[str]]:
    """The case for `rules evaluate`, and the paths of figures that are only declared."""
    members = [m for m in household.memberships.select_related("person").order_by("start", "id") if m.end is None]
    member_facts = (facts or {}).get("members", {})
    declared: list[str] = []
    case_members = []
    for m in members:
        p = m.person
        row: dict[str, Any] = {"id": member_key(m), "relation": m.relation, "sex": p.sex,
                               "birth_date": p.birth_date.isoformat(), "id_number": p.id_number,
                               "counted": m.counted}
        if not m.counted:
            row["not_counted_reason"] = m.not_counted_reason
        if p.disability_grade:
            row["disability_grade"] = p.disability_grade
        if p.health_coefficient is not None:
            row["health_coefficient"] = float(p.health_coefficient)
        if p.categories:
            row["categories"] = list(p.categories)
        if str(p.pk) in member_facts:
            row["facts"] = member_facts[str(p.pk)]
        case_members.append(row)
    keys = {m.person_id: member_key(m) for m in members}
    income: list[dict[str, Any]] = []
    for fact in _best_facts(list(household.incomerecord_set.all())):
        item: dict[str, Any] = {"kind": fact.kind}
        if fact.kind == "imputed_wage":
            item.update(monthly_reference=_number(fact.monthly_reference), months=_number(fact.months))
        else:
            item["amount"] = _number(fact.amount)
        if fact.person_id in keys:
            item["member"] = keys[fact.person_id]
        if fact.source == Source.DECLARED:
            declared.append(f"household.income[{len(income)}]")
        income.append(item)
    assets: list[dict[str, Any]] = []
    for fact in _best_facts(list(household.assetrecord_set.all())):
        if fact.source == Source.DECLARED:
            declared.append(f"household.assets[{len(assets)}]")
        assets.append({"kind": fact.kind, "value": _number(fact.value)})
    expenses: list[dict[str, Any]] = []
    for fact in _best_facts(list(household.expenserecord_set.all())):
        if fact.source == Source.DECLARED:
            declared.append(f"household.expenses[{len(expenses)}]")
        expenses.append({"kind": fact.kind, "amount": _number(fact.amount)})
    case: dict[str, Any] = {
        "region": household.area_id, "date": on.isoformat(), "area_type": household.area_type,
        "household": {"id": household.number, "members": case_members, "income": income, "assets": assets,
                      "expenses": expenses},
    }
    if (facts or {}).get("household"):
        case["household"]["facts"] = facts["household"]  # type: ignore[index]
    return case, declared


def evaluate(case: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The engine's result with its trace, and the explanation in both languages."""
    result = evaluate_case(case, lang="zh-hans", known_region=known_region, check_identity=identity_check)
    zh = result.pop("explanation", [])
    with translation.override("en"):
        en = evaluate_case(case, lang="en", with_trace=False, known_region=known_region,
                           check_identity=identity_check).get("explanation", [])
    return result, zh, en


def programme_amount(result: dict[str, Any], programme: str) -> tuple[bool, Decimal]:
    """Eligibility and the yearly amount the engine gave for one programme."""
    for entry in result.get("programmes", []):
        if entry.get("programme") == programme:
            amount = Decimal(str(entry.get("amount") or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            return bool(entry.get("eligible")), amount
    return False, Decimal("0.00")


def monthly(annual: Decimal) -> Decimal:
    return (annual / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)


def application_case(application: Application, on: dt.date) -> tuple[dict[str, Any], list[str]]:
    return build_case(application.household, on, application.intake.facts)
