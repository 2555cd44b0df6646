"""The trace and the explanation of one case.

Each computed field gets a trace entry (formula, inputs, parameters with their value,
date in force, level and source). The sentences a caseworker reads aloud are made from
the trace, one translatable template per variable — never written per case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jiuzhu.rules.arrays import ParamArrays
from jiuzhu.rules.case import Case
from jiuzhu.rules.engine import Results
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.i18n import translate
from jiuzhu.rules.parameters import ParameterValue

FORMULAS: dict[str, str] = {
    "standard": "P = dibao.standard[area_type]",
    "size": "N = count(counted members)",
    "working_capacity_index": "L = Σ(health × age × gender) / N",
    "imputed_income": "Σ reference earnings × months × scale (L, member index or 1)",
    "counted_income": "Σ counted income + imputed − employment costs − taxes, contributions, maintenance paid",
    "necessary_expenditure": "Σ deductible necessary expenditure",
    "net_income": "max(0, counted_income − necessary_expenditure)",
    "per_capita_net_income": "net_income / N",
    "assets_within_limit": "financial / N ≤ k × P ∧ homes ≤ max ∧ vehicles ≤ cap",
    "dibao_eligible": "net_income / N < P ∧ assets_within_limit",
    "dibao_edge": "¬dibao_eligible ∧ net_income / N < edge multiple × P ∧ assets_within_limit",
    "gradual_exit": "¬dibao_eligible ∧ months since employment < gradual exit months ∧ previous top-up > 0",
    "topup": "round_fen(max(min amount, (P − net_income / N) × N) × (1 − withheld share))",
    "classified.working_capacity": "round_fen(P × (1 − L) × M × N)",
    "classified.category_increments": "round_fen(Σ members P × rate(category))",
    "classified.none": "0",
    "total_annual": "topup + classified",
    "total_monthly": "round_fen(total_annual / 12)",
}


def number(x: float, places: int = 2) -> str:
    """5200.0 → 5200, 1866.666 → 1866.67, 0.4000000001 → 0.4: as a person writes it."""
    text = f"{round(float(x), places):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _value(v: Any) -> Any:
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return float(v)
    return v


def trace(case: Case, index: int, results: Results, params: ParamArrays, members: range) -> list[dict[str, Any]]:
    """Trace entries of the household at `index`; `members` are its person positions."""
    hv = {k: _value(v[index]) for k, v in results.household.items()}
    ctx = int(params.household_context[index])
    member_ids = _member_ids(case)
    mv = results.member

    def params_of(variable: str) -> list[dict[str, Any]]:
        used = [params.contexts[ctx].used.get(name) for name in params.used_by.get(variable, [])]
        return [u.as_trace() for u in used if isinstance(u, ParameterValue)]

    method = params.contexts[ctx].used.get("classified.method")
    classified_formula = FORMULAS[f"classified.{method.value if method else 'none'}"]
    entries: list[dict[str, Any]] = []

    def add(name: str, formula: str, inputs: dict[str, Any], variable: str | None = None) -> None:
        entries.append({"name": name, "value": hv[name], "formula": formula, "inputs": inputs,
                        "parameters": params_of(variable or name)})

    add("standard", FORMULAS["standard"], {"area_type": case.area_type})
    add("size", FORMULAS["size"], {"members": [m["id"] for m in case.members if m["counted"]]})
    add("working_capacity_index", FORMULAS["working_capacity_index"], {
        "members": {mid: {"health": float(mv["health_coefficient"][k]), "age": float(mv["age_coefficient"][k]),
                          "gender": float(mv["sex_coefficient"][k]),
                          "index": float(mv["working_capacity_index"][k])}
                    for mid, k in zip(member_ids, members, strict=True)},
    })
    add("imputed_income", FORMULAS["imputed_income"], {
        "items": [{"member": i.member, "monthly_reference": i.monthly, "occupation": i.occupation,
                   "months": i.months} for i in case.imputed]})
    add("counted_income", FORMULAS["counted_income"], {
        "income": dict(case.income), "imputed_income": hv["imputed_income"],
        "employment_costs": hv["employment_costs"], "income_deductions": hv["income_deductions"]})
    add("necessary_expenditure", FORMULAS["necessary_expenditure"], {"expenses": dict(case.expenses)})
    add("net_income", FORMULAS["net_income"], {"counted_income": hv["counted_income"],
                                               "necessary_expenditure": hv["necessary_expenditure"]})
    add("per_capita_net_income", FORMULAS["per_capita_net_income"], {"net_income": hv["net_income"],
                                                                     "size": hv["size"]})
    add("assets_within_limit", FORMULAS["assets_within_limit"], {
        "financial": case.assets_financial, "homes": case.homes, "vehicle_value": case.vehicle_value,
        "financial_within_limit": hv["financial_assets_within_limit"],
        "property_within_limit": hv["property_within_limit"]})
    add("dibao_eligible", FORMULAS["dibao_eligible"], {
        "per_capita_net_income": hv["per_capita_net_income"], "standard": hv["standard"],
        "assets_within_limit": hv["assets_within_limit"]})
    add("dibao_edge", FORMULAS["dibao_edge"], {"per_capita_net_income": hv["per_capita_net_income"],
                                               "standard": hv["standard"]})
    add("gradual_exit", FORMULAS["gradual_exit"], {"previous_topup": case.previous_topup,
                                                   "employment_started": _iso(case.employment_started)})
    add("topup", FORMULAS["topup"], {"standard": hv["standard"], "net_income": hv["net_income"],
                                     "size": hv["size"], "withheld_share": hv["withheld_share"]})
    add("classified", classified_formula, {"standard": hv["standard"], "working_capacity_index":
                                           hv["working_capacity_index"], "size": hv["size"]})
    add("total_annual", FORMULAS["total_annual"], {"topup": hv["topup"], "classified": hv["classified"]})
    add("total_monthly", FORMULAS["total_monthly"], {"total_annual": hv["total_annual"]})
    return entries


def _iso(d: Any) -> str | None:
    return d.isoformat() if d is not None else None


def _member_ids(case: Case) -> list[str]:
    return [m["id"] for m in case.members]


def _source(p: dict[str, Any]) -> str:
    return f"{p['source']}" if p.get("source") else ""


def _employment_costs(say: Callable[..., str], param: Callable[[str, str], dict[str, Any] | None], costs: float,
                      case: Case) -> str:
    """The employment costs sentence: a share of the wages, or of the minimum wage per earner."""
    rate = float((param("counted_income", "income.employment_cost_rate") or {}).get("value", 0))
    basis = (param("counted_income", "income.employment_cost_basis") or {}).get("value")
    minimum = param("counted_income", "income.minimum_wage_monthly")
    if basis == "minimum_wage" and minimum is not None:
        return say(_("Employment costs: {rate} of the minimum wage of {minimum} yuan a month × 12 months × "
                     "{earners} earning member(s), no more than the wages: {costs} yuan."),
                   rate=f"{number(rate * 100)}%", minimum=number(float(minimum["value"])),
                   earners=len(case.wage_earners), costs=number(costs))
    return say(_("Employment costs: {rate} of the wages of {wages} yuan = {costs} yuan."),
               rate=f"{number(rate * 100)}%", wages=number(case.income.get("wage", 0.0)), costs=number(costs))


def explanation(entries: list[dict[str, Any]], case: Case, lang: str | None) -> list[str]:
    """Sentences from the trace, in order, in the caseworker's language."""
    t = {e["name"]: e for e in entries}

    def say(template: str, **args: Any) -> str:
        return translate(template, lang).format(**args)

    def param(name: str, pname: str) -> dict[str, Any] | None:
        return next((p for p in t[name]["parameters"] if p["name"] == pname), None)

    out: list[str] = []
    counted = [m for m in case.members if m["counted"]]
    names = {m["id"]: m.get("name") for m in case.members}  # a caseworker reads names, not ids
    wci = t["working_capacity_index"]
    indices = [wci["inputs"]["members"][m["id"]]["index"] for m in counted]
    out.append(say(_("Household working capacity index L = ({indices}) / {size} = {wci}."),
                   indices=" + ".join(number(x, 4) for x in indices), size=t["size"]["value"],
                   wci=number(wci["value"], 4)))
    basis = param("imputed_income", "income.imputation.working_capacity_basis")
    for item in case.imputed:
        scale = {"household": number(wci["value"], 4),
                 "individual": number(wci["inputs"]["members"][item.member]["index"], 4)}.get(
            basis["value"] if basis else "none", "1")
        monthly = item.monthly
        if item.occupation is not None:
            ref = param("imputed_income", f"income.imputation.reference_earnings.{item.occupation}")
            monthly = float(ref["value"]) if ref else monthly
        out.append(say(_("{member}: earnings imputed at {monthly} yuan/month × {scale} × {months} months = "
                         "{amount} yuan."), member=names.get(item.member) or item.member,
                       monthly=number(monthly), scale=scale,
                       months=number(item.months), amount=number(monthly * float(scale) * item.months)))
    counted_income = t["counted_income"]
    parts = [number(v) for k, v in case.income.items() if v] + (
        [number(counted_income["inputs"]["imputed_income"])] if case.imputed else [])
    costs, deductions = counted_income["inputs"]["employment_costs"], counted_income["inputs"]["income_deductions"]
    if costs:
        out.append(_employment_costs(say, param, costs, case))
    if deductions:
        out.append(say(_("Taxes, social contributions and maintenance paid ({deductions} yuan) are deducted."),
                       deductions=number(deductions)))
    # What is read aloud must add up: the deductions are in the sum, not only in its result.
    minus = "".join(f" − {number(x)}" for x in (costs, deductions) if x)
    out.append(say(_("Household counted income {parts} = {total} yuan."),
                   parts=(" + ".join(parts) if parts else "0") + minus, total=number(counted_income["value"])))
    if t["necessary_expenditure"]["value"]:
        out.append(say(_("Necessary expenditure of {expenditure} yuan is deducted: net income {net} yuan."),
                       expenditure=number(t["necessary_expenditure"]["value"]), net=number(t["net_income"]["value"])))
    std = param("standard", "dibao.standard") or {}
    eligible = t["dibao_eligible"]["value"]
    below = t["per_capita_net_income"]["value"] < t["standard"]["value"]
    comparison = say(_("below") if below else _("not below"))
    if std.get("region") == "case":
        out.append(say(_("Per person {per_capita} yuan, {comparison} the standard of {standard} yuan "
                         "(set for this case)."), per_capita=number(t["per_capita_net_income"]["value"]),
                       comparison=comparison, standard=number(t["standard"]["value"])))
    else:
        out.append(say(_("Per person {per_capita} yuan, {comparison} the standard of {standard} yuan "
                         "(in force since {since}, level {region}, source: {source})."),
                       per_capita=number(t["per_capita_net_income"]["value"]), comparison=comparison,
                       standard=number(t["standard"]["value"]), since=std.get("since", ""),
                       region=say(_("national")) if std.get("region") == "national" else std.get("region", ""),
                       source=_source(std)))
    if not t["assets_within_limit"]["value"]:
        out.append(say(_("The household's assets exceed the local limits.")))
    if eligible:
        out.append(say(_("The household is eligible for dibao.")))
    elif t["gradual_exit"]["value"]:
        out.append(say(_("Not eligible any more, but within the gradual exit period: the previous amount "
                         "continues.")))
    elif t["dibao_edge"]["value"]:
        out.append(say(_("Not eligible for dibao; the household is a dibao-edge family.")))
    else:
        out.append(say(_("The household is not eligible for dibao.")))
    if eligible:
        out.append(say(_("Top-up ({standard} − {net} / {size}) × {size} = {topup} yuan."),
                       standard=number(t["standard"]["value"]), net=number(t["net_income"]["value"]),
                       size=t["size"]["value"], topup=number(t["topup"]["value"])))
        m = param("classified", "classified.adjustment_index")
        if t["classified"]["formula"] == FORMULAS["classified.working_capacity"] and m is not None:
            out.append(say(_("Classified assistance {standard} × (1 − {wci}) × {m} × {size} = {amount} yuan."),
                           standard=number(t["standard"]["value"]), wci=number(wci["value"], 4),
                           m=number(m["value"], 4), size=t["size"]["value"],
                           amount=number(t["classified"]["value"])))
        elif t["classified"]["value"]:
            out.append(say(_("Classified assistance by category: {amount} yuan."),
                           amount=number(t["classified"]["value"])))
    out.append(say(_("Total {annual} yuan a year, {monthly} yuan a month."),
                   annual=number(t["total_annual"]["value"]), monthly=number(t["total_monthly"]["value"])))
    return out
