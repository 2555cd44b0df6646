"""The engine's vocabulary with translated labels, for every form that offers it (calculator, intake).

The codes come from `jiuzhu.rules.vocabulary`, so a new kind shows up here at once
(labelled with its code until it gets a label below).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiuzhu.rules import vocabulary

Choices = list[tuple[str, str | Promise]]

LABELS: dict[str, str | Promise] = {
    # area types and sexes
    "rural": _("Rural"),
    "urban": _("Urban"),
    "male": _("Male"),
    "female": _("Female"),
    # relations
    "head": _("Head of household"),
    "spouse": _("Spouse"),
    "child": _("Child"),
    "parent": _("Parent"),
    "grandchild": _("Grandchild"),
    "grandparent": _("Grandparent"),
    "sibling": _("Sibling"),
    # categories
    "severe_disability": _("Severe disability"),
    "minor": _("Minor"),
    "elderly": _("Elderly"),
    "serious_illness": _("Serious illness"),
    "single_parent": _("Single-parent family"),
    "catastrophic_illness": _("Catastrophic illness"),
    "student": _("Full-time student"),
    # why a member is not counted
    "clergy_away": _("Clergy living away ≥ 3 years"),
    "prison": _("In prison"),
    "drug_rehabilitation": _("Compulsory drug rehabilitation"),
    "missing": _("Declared missing"),
    # income kinds
    "wage": _("Wages"),
    "imputed_wage": _("Imputed wage (reference earnings × months)"),
    "business": _("Business income (planting, breeding, trade)"),
    "property": _("Property income (interest, dividends)"),
    "rent": _("Rent"),
    "land_transfer": _("Land transfer"),
    "maintenance_received": _("Maintenance received"),
    "pension": _("Pension"),
    "unemployment_benefit": _("Unemployment benefit"),
    "survivor_benefit": _("Survivor benefit"),
    "compensation": _("Compensation"),
    "gift": _("Gift"),
    "preferential_pension": _("Preferential or martyr pension"),
    "family_planning_reward": _("Family-planning reward"),
    "scholarship": _("Scholarship"),
    "bravery_award": _("Bravery award"),
    "social_assistance": _("Social-assistance payment"),
    "central_basic_pension": _("Central basic residents' pension"),
    "old_age_allowance": _("Old-age allowance"),
    # occupations with reference earnings
    "domestic_service": _("Domestic service"),
    "farm_labour": _("Farm labour"),
    "odd_jobs": _("Odd jobs"),
    "migrant_work": _("Migrant work"),
    # expense kinds
    "tax": _("Tax"),
    "social_contribution": _("Social contributions"),
    "maintenance_paid": _("Maintenance paid"),
    "medical_out_of_pocket": _("Out-of-pocket medical costs"),
    "special_needs": _("Special needs (elderly, young, sick, disabled)"),
    "education": _("Education"),
    "housing": _("Housing"),
    # asset kinds
    "deposit": _("Deposit"),
    "securities": _("Securities"),
    "fund": _("Fund"),
    "commercial_insurance": _("Commercial insurance"),
    "online_financial": _("Online financial asset"),
    "claim": _("Claim"),
    "home": _("Home"),
    "vehicle": _("Vehicle"),
    "productive_equipment": _("Productive equipment"),
    "livestock": _("Livestock"),
    "farm_machinery": _("Farm machinery"),
    # shared
    "other": _("Other"),
}

#: Categories the engine derives from age; asking for them by hand would contradict the birth date.
AGE_CATEGORIES = frozenset({"minor", "elderly"})


def labelled(codes: Iterable[str]) -> Choices:
    return [(code, LABELS.get(code, code)) for code in codes]


def with_blank(choices: Choices) -> Choices:
    """A leading empty option, so an untouched row counts as empty and is skipped."""
    return [("", "---------"), *choices]


AREA_TYPES = labelled(("rural", "urban"))
SEXES = labelled(vocabulary.SEXES)
RELATIONS = labelled(vocabulary.RELATIONS)
CATEGORIES = labelled(c for c in vocabulary.CATEGORIES if c not in AGE_CATEGORIES)
NOT_COUNTED_REASONS = labelled(vocabulary.NOT_COUNTED_REASONS)
INCOME_KINDS = labelled(
    (vocabulary.INCOME_KINDS[0], vocabulary.IMPUTED_WAGE, *vocabulary.INCOME_KINDS[1:])
)
OCCUPATIONS = labelled(vocabulary.OCCUPATIONS)
ASSET_KINDS = labelled(vocabulary.ASSET_KINDS)
EXPENSE_KINDS = labelled(vocabulary.EXPENSE_KINDS)
