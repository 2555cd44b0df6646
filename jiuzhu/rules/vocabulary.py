"""The words a case is written in: income, expense and asset kinds, categories, relations.

Which kinds *count* is a dated regional parameter (`income.excluded_kinds`,
`expenditure.deductible_kinds`); this module only fixes the vocabulary, so that an
unknown kind in a case is an error rather than silently ignored.
"""

from __future__ import annotations

#: Household income kinds, yuan per year (审核确认办法 art. 13). Which are excluded is a parameter.
INCOME_KINDS: tuple[str, ...] = (
    "wage",                    # 工资性收入
    "business",                # 经营净收入: planting, breeding, trade
    "property",                # 财产净收入: interest, dividends
    "rent",
    "land_transfer",           # 土地流转
    "maintenance_received",    # 赡养费、抚养费、扶养费
    "pension",                 # 养老金
    "unemployment_benefit",
    "survivor_benefit",
    "compensation",
    "gift",
    "other",
    "preferential_pension",    # 优待抚恤金
    "family_planning_reward",  # 计划生育奖励与扶助金
    "scholarship",             # 奖学金
    "bravery_award",           # 见义勇为奖励
    "social_assistance",       # 社会救助金
    "central_basic_pension",   # 城乡居民基本养老保险中的中央基础养老金
    "old_age_allowance",       # 高龄津贴
)
#: Income imputed from reference earnings × months, scaled by working capacity (§4.1, §4.3).
IMPUTED_WAGE = "imputed_wage"

#: Deducted from income before anything else (taxes, contributions, maintenance paid).
INCOME_DEDUCTION_KINDS: tuple[str, ...] = ("tax", "social_contribution", "maintenance_paid")
#: Necessary expenditure (刚性支出); which are deducted is a parameter.
NECESSARY_EXPENDITURE_KINDS: tuple[str, ...] = ("medical_out_of_pocket", "special_needs", "education", "housing")
EXPENSE_KINDS: tuple[str, ...] = INCOME_DEDUCTION_KINDS + NECESSARY_EXPENDITURE_KINDS

#: Financial assets, tested per capita against years of the standard (§4.4).
FINANCIAL_ASSET_KINDS: tuple[str, ...] = (
    "deposit", "securities", "fund", "commercial_insurance", "online_financial", "claim",
)
#: Property needed for production or living, not tested (生产生活必需).
EXEMPT_ASSET_KINDS: tuple[str, ...] = ("productive_equipment", "livestock", "farm_machinery")
ASSET_KINDS: tuple[str, ...] = (*FINANCIAL_ASSET_KINDS, "home", "vehicle", *EXEMPT_ASSET_KINDS)

#: Member categories; `minor`, `elderly` and `severe_disability` are also derived.
CATEGORIES: tuple[str, ...] = (
    "severe_disability", "minor", "elderly", "serious_illness", "single_parent",
    "catastrophic_illness", "student",
)
CATEGORY_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(CATEGORIES)}

RELATIONS: tuple[str, ...] = (
    "head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other",
)
SEXES: tuple[str, ...] = ("male", "female")
AREA_TYPES: tuple[str, ...] = ("urban", "rural")

#: Why a member is not counted (§3): clergy away ≥ 3 years, prison, compulsory drug
#: rehabilitation, declared missing.
NOT_COUNTED_REASONS: tuple[str, ...] = ("clergy_away", "prison", "drug_rehabilitation", "missing")

#: Occupations with reference earnings (`income.imputation.reference_earnings.<occupation>`).
OCCUPATIONS: tuple[str, ...] = ("domestic_service", "farm_labour", "odd_jobs", "migrant_work")
