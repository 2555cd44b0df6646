"""Means test (家庭经济状况核查): working capacity, income, expenditure, assets, eligibility.

One function per output variable, vectorised over households (DOMAIN.md §4). Every
rule value comes from `p`; no literal here is policy.
"""

from __future__ import annotations

import numpy as np

from jiuzhu.rules.arrays import BoolArray, FloatArray, Households, IntArray, ParamArrays, Persons
from jiuzhu.rules.vocabulary import CATEGORY_BIT, INCOME_DEDUCTION_KINDS

#: Monthly parameters are turned into the yearly amounts the test works in.
MONTHS_PER_YEAR = 12


def household_sum(persons: Persons, values: FloatArray, n: int) -> FloatArray:
    return np.bincount(persons.household, weights=values, minlength=n).astype(np.float64, copy=False)


def size(h: Households, persons: Persons) -> IntArray:
    """共同生活的家庭成员: members counted in the household (§3)."""
    if h.counted_members is not None:
        return h.counted_members
    counted = persons.household if persons.counted.all() else persons.household[persons.counted]
    counts: IntArray = np.bincount(counted, minlength=h.n).astype(np.int64)
    return counts


def health_coefficient(persons: Persons, p: ParamArrays) -> FloatArray:
    """健康系数: an assessor's figure wins; else by disability grade; else no disability."""
    grades = p.context_values("wci.health.disability_grade_coefficients", fill=())
    no_disability = p.context_numbers("wci.health.no_disability")
    width = max((len(g) for g in grades), default=1) or 1
    # One row per context: [no disability, grade 1, …, grade 10]; a grade indexes its row.
    table = np.array([[n, *g] if len(g) == width else [np.nan] * (width + 1)
                      for n, g in zip(no_disability, grades, strict=True)], dtype=np.float64)
    grade = np.clip(persons.disability_grade, 0, width)
    coefficient: FloatArray
    if len({row.tobytes() for row in table}) == 1:  # the usual case: one table for everyone
        coefficient = table[0][grade]
    else:
        coefficient = table[p.household_context[persons.household], grade]
    assessed = ~np.isnan(persons.health_coefficient)
    if assessed.any():
        coefficient = np.where(assessed, persons.health_coefficient, coefficient)
    return coefficient


def age_coefficient(persons: Persons, p: ParamArrays) -> FloatArray:
    """年龄系数 by age bracket (a < 18 → 0, 18–59 → 1, 60–64 → 0.6, 65–69 → 0.2, 70+ → 0)."""
    thresholds = p.context_values("wci.age.thresholds", fill=(0.0,))
    coefficients = p.context_values("wci.age.coefficients", fill=(np.nan,))
    out = np.zeros(persons.m, dtype=np.float64)
    # Contexts share a handful of distinct tables: one searchsorted per table.
    tables: dict[tuple[tuple[float, ...], tuple[float, ...]], list[int]] = {}
    for i, (t, c) in enumerate(zip(thresholds, coefficients, strict=True)):
        tables.setdefault((tuple(t), tuple(c)), []).append(i)
    oldest = int(persons.age.max()) if persons.m else 0
    ages = np.arange(max(oldest, 0) + 1)
    for (t, c), contexts in tables.items():
        # The coefficient of every age from 0 to the oldest, then one look-up per person.
        bracket = np.searchsorted(np.asarray(t), ages, side="right") - 1
        by_age = np.asarray(c)[np.clip(bracket, 0, len(c) - 1)]
        if len(tables) == 1:
            out = by_age[np.clip(persons.age, 0, oldest)]
        else:
            mask = np.isin(p.household_context[persons.household], contexts)
            out[mask] = by_age[np.clip(persons.age[mask], 0, oldest)]
    return out


def sex_coefficient(persons: Persons, p: ParamArrays) -> FloatArray:
    """性别系数: male 1, female 0.8."""
    female, male = p.context_numbers("wci.sex.female"), p.context_numbers("wci.sex.male")
    if len(set(female.tolist())) == 1 and len(set(male.tolist())) == 1:  # the same everywhere: no gathers
        same: FloatArray = np.where(persons.female, female[0], male[0])
        return same
    pc = p.household_context[persons.household]
    return np.where(persons.female, female[pc], male[pc])


def working_capacity_index(h: Households, persons: Persons, member_index: FloatArray,
                           n_counted: IntArray) -> FloatArray:
    """家庭劳动能力系数 L = Σ counted members' indices / number of counted members."""
    counted = member_index if persons.counted.all() else np.where(persons.counted, member_index, 0.0)
    total = household_sum(persons, counted, h.n)
    return np.divide(total, n_counted, out=np.zeros(h.n), where=n_counted > 0)


def imputed_income(h: Households, persons: Persons, p: ParamArrays, member_index: FloatArray,
                   wci: FloatArray) -> FloatArray:
    """推算收入: reference earnings × months, scaled by the household or the member index."""
    by_household = p.context_is("income.imputation.working_capacity_basis", "household")
    by_member = p.context_is("income.imputation.working_capacity_basis", "individual")
    if by_household.all():  # one factor per household: scale the household's sum, not every member
        base = persons.imputed_base if persons.counted.all() else np.where(persons.counted, persons.imputed_base, 0.0)
        scaled: FloatArray = household_sum(persons, base, h.n) * wci
        return scaled
    if not (by_household.any() or by_member.any()):
        scale = np.ones(persons.m)
    else:
        pc = p.household_context[persons.household]
        scale = np.where(by_household[pc], wci[persons.household], np.where(by_member[pc], member_index, 1.0))
    imputed = persons.imputed_base * scale
    if not persons.counted.all():
        imputed = np.where(persons.counted, imputed, 0.0)
    return household_sum(persons, imputed, h.n)


def gross_income(h: Households, p: ParamArrays, imputed: FloatArray) -> FloatArray:
    """Counted income kinds plus imputed earnings; excluded kinds are a dated parameter."""
    excluded = p.context_values("income.excluded_kinds", fill=())
    total = imputed.copy()
    for kind, amount in h.income.items():
        _add_where(total, amount, np.array([kind not in e for e in excluded], dtype=np.bool_), h.context)
    return total


def _add_where(total: FloatArray, amount: FloatArray, by_context: BoolArray, context: IntArray) -> None:
    """total += amount where the household's context says so (no mask when all agree)."""
    if by_context.all():
        total += amount
    elif by_context.any():
        total += np.where(by_context[context], amount, 0.0)


def employment_costs(h: Households, p: ParamArrays) -> FloatArray:
    """必要就业成本, deducted before the test (审核确认办法 art. 13): a share of the wages, or
    the same share of the local minimum wage for each earner, never more than the wages."""
    wage = h.income.get("wage")
    if wage is None:
        return np.zeros(h.n)
    rate = p.number("income.employment_cost_rate")
    costs: FloatArray = wage * rate
    on_minimum_wage = p.context_is("income.employment_cost_basis", "minimum_wage")
    if on_minimum_wage.any():
        monthly = p.number("income.minimum_wage_monthly", where=on_minimum_wage)
        earners = h.wage_earners if h.wage_earners is not None else (wage > 0).astype(np.float64)
        by_minimum = np.minimum(wage, rate * monthly * MONTHS_PER_YEAR * earners)
        costs = np.where(on_minimum_wage[h.context], by_minimum, costs)
    return costs


def income_deductions(h: Households) -> FloatArray:
    """Taxes, social contributions and maintenance paid come off income."""
    total = np.zeros(h.n)
    for kind in INCOME_DEDUCTION_KINDS:
        if kind in h.expense:
            total += h.expense[kind]
    return total


def necessary_expenditure(h: Households, p: ParamArrays) -> FloatArray:
    """家庭必要支出 deducted where the region deducts that kind (Da'an income − expenditure)."""
    deductible = p.context_values("expenditure.deductible_kinds", fill=())
    total = np.zeros(h.n)
    for kind, amount in h.expense.items():
        if kind in INCOME_DEDUCTION_KINDS:
            continue
        _add_where(total, amount, np.array([kind in d for d in deductible], dtype=np.bool_), h.context)
    return total


def per_capita(amount: FloatArray, n_counted: IntArray) -> FloatArray:
    return np.divide(amount, n_counted, out=np.zeros(len(amount)), where=n_counted > 0)


def financial_assets_within_limit(h: Households, p: ParamArrays, standard: FloatArray,
                                  n_counted: IntArray) -> BoolArray:
    """人均金融资产 ≤ k × the annual standard (Da'an: one year)."""
    limit = p.number("assets.financial_per_capita_limit_years") * standard
    result: BoolArray = per_capita(h.assets_financial, n_counted) <= limit
    return result


def property_within_limit(h: Households, p: ParamArrays) -> BoolArray:
    """Homes and non-exempt vehicles within the local limits."""
    result: BoolArray = (h.homes <= p.number("assets.max_homes")) & (
        h.vehicle_value <= p.number("assets.vehicle_value_cap")
    )
    return result


def member_categories(persons: Persons, p: ParamArrays) -> IntArray:
    """Tags given plus those derived from age and disability grade (§13)."""
    pc = p.household_context[persons.household]
    minor = persons.age < p.context_numbers("categories.minor_age_below")[pc]
    elderly = persons.age >= p.context_numbers("categories.elderly_age")[pc]
    severe = (persons.disability_grade > 0) & (
        persons.disability_grade <= p.context_numbers("categories.severe_disability_max_grade")[pc]
    )
    tags = persons.categories.copy()
    tags |= np.where(minor, CATEGORY_BIT["minor"], 0)
    tags |= np.where(elderly, CATEGORY_BIT["elderly"], 0)
    tags |= np.where(severe, CATEGORY_BIT["severe_disability"], 0)
    return tags
