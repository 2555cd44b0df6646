"""Benefits: the gap top-up (or bands), classified assistance, gradual exit, sanctions.

Rounded half-up to the fen exactly where DOMAIN.md §14 says: `topup` after the minimum
amount, `classified`, then the totals from the rounded parts.
"""

from __future__ import annotations

import numpy as np

from jiuzhu.rules.arrays import BoolArray, FloatArray, Households, IntArray, ParamArrays, Persons, round_fen
from jiuzhu.rules.means_test import household_sum
from jiuzhu.rules.vocabulary import CATEGORY_BIT


def _banded_per_person(per_capita_income: FloatArray, p: ParamArrays, bands: BoolArray) -> FloatArray:
    """分档: the amount per person of the band the per-capita income falls in."""
    out = np.zeros(len(per_capita_income))
    if not bands.any():
        return out
    contexts = p.context_is("dibao.benefit_method", "bands")
    thresholds = p.context_values("dibao.bands.income_thresholds", where=contexts)
    amounts = p.context_values("dibao.bands.amounts", where=contexts)
    for i, (t, a) in enumerate(zip(thresholds, amounts, strict=True)):
        if t is None or a is None:
            continue
        mask = p.household_context == i
        band = np.searchsorted(np.asarray(t, dtype=np.float64), per_capita_income[mask], side="right") - 1
        table = np.asarray(a, dtype=np.float64)
        out[mask] = np.where(band >= 0, table[np.clip(band, 0, len(table) - 1)], 0.0)
    return out


def gradual_exit(h: Households, p: ParamArrays, eligible: BoolArray, assets_ok: BoolArray) -> BoolArray:
    """渐退: a recipient lifted over the standard by work keeps the benefit for a while."""
    started = ~np.isnan(h.months_since_employment)
    if not started.any():
        return np.zeros(h.n, dtype=np.bool_)
    needed = np.zeros(len(p.contexts), dtype=np.bool_)
    needed[h.context[started]] = True
    months = p.number("dibao.gradual_exit_months", where=needed)
    within = np.where(started, h.months_since_employment, np.inf) < months
    result: BoolArray = ~eligible & assets_ok & (h.previous_topup > 0) & within
    return result


def refused_share(persons: Persons, p: ParamArrays, n: int, n_counted: IntArray) -> FloatArray:
    """Share of the household's amount withheld because members refused suitable work."""
    if not persons.refused_work.any():  # the usual case: no pass over the households
        return np.zeros(n)
    refused = household_sum(persons, (persons.refused_work & persons.counted).astype(np.float64), n)
    if not refused.any():
        return np.zeros(n)
    reduction = p.number("dibao.refused_work_share_reduction")
    share = np.divide(refused, n_counted, out=np.zeros(n), where=n_counted > 0)
    return np.where(refused > 0, share * reduction, 0.0)


def topup(h: Households, p: ParamArrays, standard: FloatArray, per_capita_income: FloatArray,
          n_counted: IntArray, eligible: BoolArray, withheld: FloatArray, exiting: BoolArray) -> FloatArray:
    """差额补助 (P − net/N) × N, or bands; raised to the minimum; sanction; gradual exit."""
    bands = p.is_("dibao.benefit_method", "bands")
    gap = np.maximum(standard - per_capita_income, 0.0) * n_counted
    amount = np.where(bands, _banded_per_person(per_capita_income, p, bands) * n_counted, gap)
    amount = np.where(eligible, amount, 0.0)
    minimum = p.number("dibao.minimum_amount")
    amount = np.where((amount > 0) & (amount < minimum), minimum, amount)
    amount = amount * (1.0 - withheld)
    return round_fen(np.where(exiting, h.previous_topup, amount))


def classified(persons: Persons, p: ParamArrays, standard: FloatArray, wci: FloatArray,
               n_counted: IntArray, eligible: BoolArray, tags: np.ndarray, withheld: FloatArray) -> FloatArray:
    """分类施保 by working capacity P × (1 − L) × M × N, or by category increments."""
    n = len(standard)
    out = np.zeros(n)
    by_capacity_ctx = p.context_is("classified.method", "working_capacity")
    by_category_ctx = p.context_is("classified.method", "category_increments")
    by_capacity = by_capacity_ctx[p.household_context]
    if by_capacity.any():
        m = p.number("classified.adjustment_index", where=by_capacity_ctx)
        amount = standard * (1.0 - wci) * m * n_counted * (1.0 - withheld)
        out = np.where(by_capacity, amount, out)
    by_category = by_category_ctx[p.household_context]
    if by_category.any():
        pc = p.household_context[persons.household]
        stacking_sum = p.context_is("classified.category_stacking", "sum")[pc]
        best = np.zeros(persons.m)
        total = np.zeros(persons.m)
        for name in p.contexts[0].children("classified.category_rates"):
            category = name.rsplit(".", 1)[1]
            rate = p.context_numbers(name, where=by_category_ctx)[pc]
            has = (tags & CATEGORY_BIT[category]) != 0
            rate = np.where(has & ~np.isnan(rate), rate, 0.0)
            best = np.maximum(best, rate)
            total += rate
        member_rate = np.where(stacking_sum, total, best)
        reduction = np.nan_to_num(p.number("dibao.refused_work_share_reduction", where=by_category_ctx))
        factor = np.where(persons.refused_work, 1.0 - reduction[persons.household], 1.0)
        increments = household_sum(
            persons, np.where(persons.counted, member_rate * factor * standard[persons.household], 0.0), n
        )
        out = np.where(by_category, increments, out)
    return round_fen(np.where(eligible, out, 0.0))


def totals(topup_amount: FloatArray, classified_amount: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The annual total is the sum of rounded parts; the monthly total is rounded again."""
    annual = round_fen(topup_amount + classified_amount)
    return annual, round_fen(annual / 12.0)
