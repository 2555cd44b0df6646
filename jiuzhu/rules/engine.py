"""The means test and dibao benefits as one pipeline over columnar households.

Both `rules evaluate` (one case, explained) and `rules batch` (millions) call `compute`;
the variables it returns are the output fields of DOMAIN.md §13, plus the member-level
and intermediate values the explanation needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jiuzhu.rules import benefits, means_test
from jiuzhu.rules.arrays import BoolArray, FloatArray, Households, IntArray, ParamArrays, Persons

#: Household output fields, in the order of the JSON contract.
OUTPUT_FIELDS: tuple[str, ...] = (
    "standard", "size", "working_capacity_index", "counted_income", "necessary_expenditure",
    "net_income", "per_capita_net_income", "assets_within_limit", "dibao_eligible", "dibao_edge",
    "gradual_exit", "topup", "classified", "total_annual", "total_monthly",
)


@dataclass
class Results:
    """Every computed array; households first, then members."""

    household: dict[str, np.ndarray]
    member: dict[str, np.ndarray]
    valid: BoolArray          # False where a parameter was not in force for the household


def compute(h: Households, persons: Persons, p: ParamArrays, *, detail: bool = True) -> Results:
    """Every variable; `detail=False` (batch) skips member values only explanations read."""
    hv: dict[str, np.ndarray] = {}
    mv: dict[str, np.ndarray] = {}
    with p.variable("standard"):
        standard: FloatArray = p.number("dibao.standard")
    hv["standard"] = standard
    with p.variable("size"):
        n: IntArray = means_test.size(h, persons)
    hv["size"] = n
    with p.variable("working_capacity_index"):
        health = means_test.health_coefficient(persons, p)
        age = means_test.age_coefficient(persons, p)
        sex = means_test.sex_coefficient(persons, p)
        if detail:  # the trace shows each member's factors; a batch does not keep them
            mv["health_coefficient"], mv["age_coefficient"], mv["sex_coefficient"] = health, age, sex
        member_index = health * age
        member_index *= sex
        del health, age, sex
        mv["working_capacity_index"] = member_index
        wci = means_test.working_capacity_index(h, persons, member_index, n)
    hv["working_capacity_index"] = wci
    with p.variable("imputed_income"):
        imputed = means_test.imputed_income(h, persons, p, member_index, wci)
    hv["imputed_income"] = imputed
    with p.variable("counted_income"):
        gross = means_test.gross_income(h, p, imputed)
        costs = means_test.employment_costs(h, p)
        deductions = means_test.income_deductions(h)
    hv["gross_income"], hv["employment_costs"], hv["income_deductions"] = gross, costs, deductions
    hv["counted_income"] = counted = gross - costs - deductions
    with p.variable("necessary_expenditure"):
        expenditure = means_test.necessary_expenditure(h, p)
    hv["necessary_expenditure"] = expenditure
    with p.variable("net_income"):
        net = np.maximum(counted - expenditure, 0.0)
    hv["net_income"] = net
    with p.variable("per_capita_net_income"):
        per_capita = means_test.per_capita(net, n)
    hv["per_capita_net_income"] = per_capita
    with p.variable("assets_within_limit"):
        financial_ok = means_test.financial_assets_within_limit(h, p, standard, n)
        property_ok = means_test.property_within_limit(h, p)
    hv["financial_assets_within_limit"], hv["property_within_limit"] = financial_ok, property_ok
    hv["assets_within_limit"] = assets_ok = financial_ok & property_ok
    with p.variable("dibao_eligible"):
        eligible = (per_capita < standard) & assets_ok & (n > 0)
    hv["dibao_eligible"] = eligible
    with p.variable("dibao_edge"):
        edge = ~eligible & assets_ok & (per_capita < p.number("edge.income_multiple") * standard)
    hv["dibao_edge"] = edge
    with p.variable("gradual_exit"):
        exiting = benefits.gradual_exit(h, p, eligible, assets_ok)
    hv["gradual_exit"] = exiting
    with p.variable("topup"):
        withheld = benefits.refused_share(persons, p, h.n, n)
        hv["topup"] = topup = benefits.topup(h, p, standard, per_capita, n, eligible, withheld, exiting)
    hv["withheld_share"] = withheld
    with p.variable("classified"):
        # Derived categories cost a pass over every person: only when increments or an explanation need them.
        needed = detail or p.context_is("classified.method", "category_increments").any()
        tags = means_test.member_categories(persons, p) if needed else persons.categories
        classified = benefits.classified(persons, p, standard, wci, n, eligible, tags, withheld)
    mv["categories"] = tags
    hv["classified"] = classified
    with p.variable("total_annual"):
        hv["total_annual"], hv["total_monthly"] = benefits.totals(topup, classified)
    failed = np.array(sorted(p.failed), dtype=np.int64)
    valid = ~np.isin(h.context, failed) if len(failed) else np.ones(h.n, dtype=np.bool_)
    return Results(household=hv, member=mv, valid=valid)
