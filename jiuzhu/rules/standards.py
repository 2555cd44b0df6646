"""How the dibao standard P is set (DOMAIN.md §5): basket, share of consumption, share of income.

A standard is published in whole yuan, so the computed figure is rounded *down* to the
yuan; then it may not fall below the poverty-alleviation line nor grow less than the
region's growth floor over last year's standard.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from jiuzhu.rules.errors import InvalidCase, Problem
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.parameters import NotInForce, ParameterContext, ParameterTree, default_tree

#: The statistical yearbook's eight consumption categories, grouped as in the Da'an model.
GROUPS: dict[str, tuple[str, ...]] = {
    "two_no_worries": ("food", "clothing"),
    "three_guarantees": ("housing", "education_culture", "medical"),
    "others": ("household_goods", "transport_communication", "other"),
}
CATEGORIES = tuple(c for members in GROUPS.values() for c in members)
METHODS = ("basket", "consumption_share", "median_income_share")
_KEYS = {"method", "year", "region", "groups", "categories", "mean_consumption", "median_income",
         "previous_standard", "area_type"}


def _floor_yuan(x: float) -> int:
    """Down to the yuan, ignoring binary noise below a millionth of a yuan."""
    return math.floor(round(x, 6))


def _amount(data: dict[str, Any], key: str, path: str, problems: list[Problem]) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(Problem(path, _("must be a number")))
        return None
    if value < 0:
        problems.append(Problem(path, _("must not be negative")))
        return None
    return float(value)


def compute_standard(raw: Any, tree: ParameterTree | None = None) -> dict[str, Any]:
    """`rules standard`: the standard and its trace; InvalidCase with every problem."""
    tree = tree or default_tree()
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        raise InvalidCase([Problem("", _("must be an object"))])
    for key in sorted(set(raw) - _KEYS):
        problems.append(Problem(key, _("is not a known field")))
    method = raw.get("method")
    if method not in METHODS:
        problems.append(Problem("method", _("“{value}” is not one of: {choices}"),
                                {"value": method, "choices": ", ".join(METHODS)}))
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        problems.append(Problem("year", _("must be a year such as 2016")))
        year = None
    region = raw.get("region", "national")
    if not isinstance(region, str) or not (region == "national" or region.isdigit()):
        problems.append(Problem("region", _("must be a division code of 6, 9 or 12 digits, written as text")))
        region = "national"
    parts: dict[str, float] = {}
    if method == "basket":
        if "groups" in raw and isinstance(raw["groups"], dict):
            groups = raw["groups"]
            for key in sorted(set(groups) - set(GROUPS)):
                problems.append(Problem(f"groups.{key}", _("is not a known field")))
            for group in GROUPS:
                value = _amount(groups, group, f"groups.{group}", problems)
                if value is not None:
                    parts[group] = value
        elif "categories" in raw and isinstance(raw["categories"], dict):
            categories = raw["categories"]
            for key in sorted(set(categories) - set(CATEGORIES)):
                problems.append(Problem(f"categories.{key}", _("is not a known field")))
            for group, members in GROUPS.items():
                total = 0.0
                for c in members:
                    value = _amount(categories, c, f"categories.{c}", problems)
                    total += value or 0.0
                parts[group] = total
        else:
            problems.append(Problem("groups", _("give the three groups or the eight categories")))
    elif method == "consumption_share":
        _amount(raw, "mean_consumption", "mean_consumption", problems)
    elif method == "median_income_share":
        _amount(raw, "median_income", "median_income", problems)
    previous = None
    if raw.get("previous_standard") is not None:
        previous = _amount(raw, "previous_standard", "previous_standard", problems)
    if problems or year is None:
        raise InvalidCase(problems)
    ctx = ParameterContext(tree, region if region != "national" else "", dt.date(year, 1, 1),
                           str(raw.get("area_type", "rural")))
    trace: list[dict[str, Any]] = []
    try:
        if method == "basket":
            shares = {g: ctx.number(f"standards.basket.{g}_share") for g in GROUPS}
            weighted = {g: parts[g] * shares[g] for g in GROUPS}
            computed = sum(weighted.values())
            lag = int(ctx.number("standards.basket.yearbook_lag_years"))
            trace.append({"name": "basket", "value": round(computed, 2),
                          "formula": "Σ share(group) × yearbook(group)",
                          "inputs": {"yearbook_year": year - lag, **parts,
                                     **{f"{g}_weighted": round(v, 2) for g, v in weighted.items()}},
                          "parameters": [ctx.get(f"standards.basket.{g}_share").as_trace() for g in GROUPS]
                          + [ctx.get("standards.basket.yearbook_lag_years").as_trace()]})
        elif method == "consumption_share":
            computed = float(raw["mean_consumption"]) * ctx.number("standards.consumption_share")
            trace.append({"name": "consumption_share", "value": round(computed, 2),
                          "formula": "share × mean per-capita consumption",
                          "inputs": {"mean_consumption": raw["mean_consumption"]},
                          "parameters": [ctx.get("standards.consumption_share").as_trace()]})
        else:
            computed = float(raw["median_income"]) * ctx.number("standards.median_income_share")
            trace.append({"name": "median_income_share", "value": round(computed, 2),
                          "formula": "share × median per-capita disposable income",
                          "inputs": {"median_income": raw["median_income"]},
                          "parameters": [ctx.get("standards.median_income_share").as_trace()]})
        standard = _floor_yuan(computed)
        trace.append({"name": "rounded_down", "value": standard, "formula": "floor(value)",
                      "inputs": {"value": round(computed, 2)}, "parameters": []})
        line = ctx.number("standards.poverty_line")
        if standard < line:
            standard = math.ceil(line)
            trace.append({"name": "poverty_line_floor", "value": standard, "formula": "max(P, poverty line)",
                          "inputs": {}, "parameters": [ctx.get("standards.poverty_line").as_trace()]})
        if previous is not None:
            floor = previous * (1 + ctx.number("standards.growth_floor"))
            if standard < floor:
                standard = math.ceil(round(floor, 6))
            trace.append({"name": "growth_floor", "value": standard,
                          "formula": "max(P, previous × (1 + growth floor))", "inputs": {"previous_standard": previous},
                          "parameters": [ctx.get("standards.growth_floor").as_trace()]})
    except NotInForce as exc:
        raise InvalidCase([exc.problem("region", region, dt.date(year, 1, 1))]) from exc
    return {"method": method, "year": year, "standard": standard, "trace": trace}
