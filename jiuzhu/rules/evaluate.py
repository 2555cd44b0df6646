"""`rules evaluate`: one case or a list, validated, computed and explained (DOMAIN.md §13–14)."""

from __future__ import annotations

from typing import Any

import numpy as np

from jiuzhu.rules import engine
from jiuzhu.rules.arrays import round_fen
from jiuzhu.rules.case import Case, CaseArrays, IdentityCheck, RegionCheck, case_arrays, read_cases
from jiuzhu.rules.errors import InvalidCase, Problem
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.explain import explanation, number, trace
from jiuzhu.rules.i18n import translate
from jiuzhu.rules.parameters import ParameterTree, default_tree, region_chain
from jiuzhu.rules.programmes import GRADIENTS, default_catalogue, evaluate_programmes
from jiuzhu.rules.vocabulary import CATEGORIES, CATEGORY_BIT

MONEY_FIELDS = frozenset({
    "standard", "counted_income", "necessary_expenditure", "net_income", "per_capita_net_income",
    "topup", "classified", "total_annual", "total_monthly",
})
#: Amounts the kernels round at their own rounding points (and the standard, used as written).
ROUNDED_FIELDS = frozenset({"standard", "topup", "classified", "total_annual", "total_monthly"})
#: Coefficients are shown to 6 places; the computation keeps them unrounded.
INDEX_PLACES = 6


def output_columns(results: engine.Results) -> dict[str, np.ndarray]:
    """The output fields as shown: money half-up to the fen, indices to 6 places.

    Both `evaluate` and `batch` show values through this one function, so they agree."""
    out: dict[str, np.ndarray] = {}
    for name in engine.OUTPUT_FIELDS:
        values = results.household[name]
        if values.dtype == np.bool_:
            out[name] = values
        elif name == "size":
            out[name] = values.astype(np.int64)
        elif name in ROUNDED_FIELDS:
            out[name] = values  # rounded where DOMAIN.md §14 says, by the kernels themselves
        elif name in MONEY_FIELDS:
            out[name] = round_fen(values)
        else:
            out[name] = np.round(values, INDEX_PLACES)
    return out


def _python(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return float(value)


def evaluate(raw: Any, *, lang: str | None = None, with_trace: bool = True, tree: ParameterTree | None = None,
             known_region: RegionCheck | None = None, check_identity: IdentityCheck | None = None) -> Any:
    """Evaluate one case (a dict) or a list of cases; raises InvalidCase with every problem."""
    tree = tree or default_tree()
    cases, many = read_cases(raw, tree, known_region=known_region, check_identity=check_identity)
    arrays = case_arrays(cases, tree)
    results = engine.compute(arrays.households, arrays.persons, arrays.params)
    if arrays.params.failed:
        problems: list[Problem] = []
        for i, case in enumerate(cases):
            failure = arrays.params.failed.get(int(arrays.households.context[i]))
            if failure is not None:
                exc, _ctx = failure
                problems.append(exc.problem(f"[{i}].region" if many else "region", case.region, case.date))
        raise InvalidCase(problems)
    singles = single_person_results(cases, results, tree, many, lang)
    if isinstance(singles, list):
        raise InvalidCase(singles)
    starts = np.searchsorted(arrays.persons.household, np.arange(len(cases) + 1))
    outputs = []
    shown = output_columns(results)
    problems = []
    for i, case in enumerate(cases):
        out: dict[str, Any] = {"household": case.household_id}
        for name in engine.OUTPUT_FIELDS:
            out[name] = _python(shown[name][i])
        members = range(starts[i], starts[i + 1])
        try:
            others = other_programmes(case, out, arrays, results, members, int(arrays.households.context[i]), lang)
        except InvalidCase as exc:
            prefix = f"[{i}]." if many else ""
            problems.extend(Problem(prefix + p.path, p.template, p.args) for p in exc.problems)
            continue
        if i in singles:
            out["single_person"] = singles[i]
        out["programmes"] = [dibao_programme(out, lang), *others]
        if with_trace or lang:
            entries = trace(case, i, results, arrays.params, range(starts[i], starts[i + 1]))
            for entry in entries:  # the trace shows each value as the output does (0.4, not 0.4000000000000001)
                if entry["name"] in out:
                    entry["value"] = out[entry["name"]]
            if with_trace:
                out["trace"] = entries
            if lang:
                out["explanation"] = explanation(entries, case, lang) + single_sentences(
                    out.get("single_person"), lang) + programme_sentences(out["programmes"][1:], lang)
        outputs.append(out)
    if problems:
        raise InvalidCase(problems)
    return outputs if many else outputs[0]


def other_programmes(case: Case, out: dict[str, Any], arrays: CaseArrays, results: engine.Results,
                     members: range, context: int, lang: str | None) -> list[dict[str, Any]]:
    """The catalogue's programmes the case carries facts for (fire, diseases, tekun …)."""
    programmes = default_catalogue().for_region(region_chain(case.region))
    tags = results.member["categories"]
    member_rows = [
        {"id": m["id"], "age": int(arrays.persons.age[k]), "sex": m["sex"],
         "disability_grade": m["disability_grade"],
         "categories": [c for c in CATEGORIES if int(tags[k]) & CATEGORY_BIT[c]], **m["facts"]}
        for m, k in zip(case.members, members, strict=True)
    ]
    household = {**{k: v for k, v in out.items() if k != "household"}, "local_hukou": case.local_hukou,
                 **case.facts}
    # Programme parameters follow the case's region exactly (a township may set its own).
    params = arrays.params.contexts[context]
    entries = evaluate_programmes(programmes, {"household": household, "members": member_rows}, params, lang)
    # Gradient order: basic livelihood, then temporary, then special assistance — each on its own
    # conditions, so a family outside dibao still gets special aid on individual need.
    return sorted(entries, key=lambda r: GRADIENTS.index(r["gradient"]))


SINGLE_FIELDS = ("standard", "counted_income", "net_income", "per_capita_net_income", "dibao_eligible", "topup",
                 "classified", "total_annual", "total_monthly")


def single_person_results(cases: list[Case], family: engine.Results, tree: ParameterTree,
                          many: bool, lang: str | None) -> dict[int, dict[str, Any]] | list[Problem]:
    """单人户: a member of a dibao-edge family who may apply alone, tested as a household of one.

    The same pipeline runs on the applicant's own income; the application is allowed only
    when the family is a dibao-edge family and the member is in a qualifying category."""
    wanted = [i for i, c in enumerate(cases) if c.single_applicant is not None]
    if not wanted:
        return {}
    alone = [cases[i].alone() for i in wanted]
    arrays = case_arrays(alone, tree)
    results = engine.compute(arrays.households, arrays.persons, arrays.params)
    problems: list[Problem] = []
    qualifying = arrays.params.context_values("dibao.single_person.qualifying_categories", fill=())
    for k, i in enumerate(wanted):
        failure = arrays.params.failed.get(int(arrays.households.context[k]))
        if failure is not None:
            path = f"[{i}].household.single_applicant" if many else "household.single_applicant"
            problems.append(failure[0].problem(path, cases[i].region, cases[i].date))
    if problems:
        return problems
    shown = output_columns(results)
    out: dict[int, dict[str, Any]] = {}
    for k, i in enumerate(wanted):
        tags = int(results.member["categories"][k])
        allowed_categories = qualifying[int(arrays.households.context[k])]
        qualifies = any(tags & CATEGORY_BIT[c] for c in allowed_categories if c in CATEGORY_BIT)
        edge = bool(family.household["dibao_edge"][i])
        allowed = edge and qualifies
        entry: dict[str, Any] = {
            "member": cases[i].single_applicant, "allowed": allowed,
            "reasons": [
                {"condition": "family_is_dibao_edge", "held": edge,
                 "description": translate(_("the family is a dibao-edge family"), lang)},
                {"condition": "qualifying_member", "held": qualifies,
                 "description": translate(_("the member is severely disabled or catastrophically ill"), lang)},
            ],
        }
        for name in SINGLE_FIELDS:
            value = _python(shown[name][k])
            entry[name] = value if allowed or name in ("standard", "counted_income", "net_income",
                                                       "per_capita_net_income") else type(value)(0)
        out[i] = entry
    return out


def dibao_programme(out: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """Dibao as a programme entry: which conditions held and which did not."""
    reasons = [
        {"condition": "income_below_standard", "held": out["per_capita_net_income"] < out["standard"]
         or (out["dibao_eligible"]), "description": translate(_("per-capita net income below the standard"), lang)},
        {"condition": "assets_within_limit", "held": out["assets_within_limit"],
         "description": translate(_("assets within the local limits"), lang)},
    ]
    single = out.get("single_person")
    if single is not None and single["dibao_eligible"]:
        return {"programme": "dibao", "eligible": True, "amount": single["total_annual"], "period": "per_year",
                "gradient": "basic", "reasons": reasons + single["reasons"], "member": single["member"]}
    return {"programme": "dibao", "eligible": out["dibao_eligible"] or out["gradual_exit"],
            "amount": out["total_annual"], "period": "per_year", "gradient": "basic", "reasons": reasons}


def evaluate_case(data: Any, *, lang: str | None = None, **kwargs: Any) -> Any:
    """The entry point of the page, the API and the CLI (same validation, same messages)."""
    return evaluate(data, lang=lang, **kwargs)


__all__ = ["InvalidCase", "evaluate", "evaluate_case"]


PERIODS = {"once": _("once"), "per_year": _("a year"), "per_month": _("a month")}


def programme_sentences(programmes: list[dict[str, Any]], lang: str) -> list[str]:
    """One sentence per catalogue programme: paid how much, or which conditions failed."""
    out = []
    for p in programmes:
        if p["eligible"]:
            out.append(translate(_("{name}: eligible, {amount} yuan {period}."), lang).format(
                name=p["name"], amount=number(p["amount"]), period=translate(PERIODS.get(p["period"], ""), lang)))
        else:
            failed = [r["description"] for r in p["reasons"] if not r["held"]]
            out.append(translate(_("{name}: not eligible ({conditions})."), lang).format(
                name=p["name"], conditions=translate(_("not met: "), lang) + _join(failed, lang)))
    return out


def single_sentences(single: dict[str, Any] | None, lang: str) -> list[str]:
    if single is None:
        return []
    if not single["allowed"]:
        failed = _join([r["description"] for r in single["reasons"] if not r["held"]], lang)
        return [translate(_("{member} may not apply alone ({conditions})."), lang).format(
            member=single["member"], conditions=translate(_("not met: "), lang) + failed)]
    if not single["dibao_eligible"]:
        return [translate(_("{member} applies alone: own income {income} yuan is not below the standard "
                            "of {standard} yuan."), lang).format(
            member=single["member"], income=number(single["per_capita_net_income"]),
            standard=number(single["standard"]))]
    return [translate(_("{member} applies alone as a single-person household: top-up {standard} − {income} = "
                        "{topup} yuan, total {annual} yuan a year."), lang).format(
        member=single["member"], standard=number(single["standard"]), income=number(single["net_income"]),
        topup=number(single["topup"]), annual=number(single["total_annual"]))]


def _join(parts: list[str], lang: str) -> str:
    """A list in a sentence: 「；」 in Chinese, "; " in English."""
    return translate(_("; "), lang).join(parts)
