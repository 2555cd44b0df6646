"""Small builders of cases in the JSON contract, for the rules tests."""

from __future__ import annotations

import copy
from typing import Any

DAAN_EXAMPLE: dict[str, Any] = {
    "region": "220882",
    "date": "2019-06-30",
    "area_type": "rural",
    "parameters": {"dibao.standard": 3600, "classified.method": "working_capacity"},
    "household": {
        "id": "H1",
        "members": [
            {"id": "m1", "relation": "head", "sex": "male", "birth_date": "1984-03-01",
             "disability_grade": 5, "categories": ["severe_disability"]},
            {"id": "m2", "relation": "spouse", "sex": "female", "birth_date": "1986-01-01"},
            {"id": "m3", "relation": "child", "sex": "female", "birth_date": "2009-01-01"},
        ],
        "income": [{"kind": "land_transfer", "amount": 3200},
                   {"kind": "imputed_wage", "member": "m2", "monthly_reference": 2000, "months": 3}],
        "assets": [{"kind": "deposit", "value": 1500}],
        "expenses": [{"kind": "medical_out_of_pocket", "amount": 0}],
    },
}


def daan_example(**changes: Any) -> dict[str, Any]:
    """The DOMAIN.md §13 case, with top-level fields replaced."""
    case = copy.deepcopy(DAAN_EXAMPLE)
    case.update(changes)
    return case


def household(members: list[dict[str, Any]], *, region: str = "220882", date: str = "2019-06-30",
              area_type: str = "rural", income: list[dict[str, Any]] | None = None,
              assets: list[dict[str, Any]] | None = None, expenses: list[dict[str, Any]] | None = None,
              parameters: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "region": region, "date": date, "area_type": area_type,
        "household": {"id": "H", "members": members, "income": income or [], "assets": assets or [],
                      "expenses": expenses or [], **extra},
    }
    if parameters:
        case["parameters"] = parameters
    return case


def adult(member_id: str = "a", sex: str = "male", birth_date: str = "1980-05-05", **extra: Any) -> dict[str, Any]:
    return {"id": member_id, "sex": sex, "birth_date": birth_date, **extra}
