"""Variables of the dibao means test (DOMAIN.md §4.3, §4.4, §6, §14).

Written as an OpenFisca user would for a bulk run:
- enum-dependent coefficients with ``numpy.where`` on scalar parameters (the sex
  coefficient) rather than fancy indexing by the enum, which loops in Python;
- the age coefficient as a ``single_amount`` scale (``scale.calc``: one ``numpy.digitize``);
- per-county values by OpenFisca parameter fancy indexing
  (``parameters(period).dibao.standard[county]``), its documented way.

OpenFisca stores ``float`` variables as float32 and ``int`` as int32; the formulas
below therefore compute in float32 (see README.md, "float32").
"""

from __future__ import annotations

import datetime

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from .entities import Household, Person

YEAR = DateUnit.YEAR
ETERNITY = DateUnit.ETERNITY


def round_half_up_fen(amount):
    """Round half-up to the fen (0.01 yuan), DOMAIN.md §14."""
    return np.floor(amount * 100 + 0.5) / 100


# --------------------------------------------------------------------------- persons


class Sex(Enum):
    male = "Male"
    female = "Female"


class sex(Variable):
    value_type = Enum
    possible_values = Sex
    default_value = Sex.male
    entity = Person
    definition_period = ETERNITY
    label = "Sex"


class birth_date(Variable):
    value_type = datetime.date
    entity = Person
    definition_period = ETERNITY
    label = "Date of birth"


def year_month_day(dates):
    """Calendar year, month (1..12) and day (1..31) of a datetime64[D] array, as int64 arrays."""
    month = dates.astype("datetime64[M]")
    months = month.astype(np.int64)  # months since 1970-01
    day = (dates - month.astype("datetime64[D]")).astype(np.int64) + 1
    return months // 12 + 1970, months % 12 + 1, day


class age(Variable):
    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Age in completed years on the household's case date"
    reference = "DOMAIN.md §4.3 (completed years)"

    def formula(person, period, parameters):
        birth_year, birth_month, birth_day = year_month_day(person("birth_date", period))
        birth_month_day = birth_month * 32 + birth_day
        case_year = person.household("case_year", period)
        case_month_day = person.household("case_month_day", period)
        # (month, day) compared, not the day of the year, which shifts in leap years.
        return case_year - birth_year - (case_month_day < birth_month_day)


class disability_grade(Variable):
    value_type = int
    default_value = 0
    entity = Person
    definition_period = YEAR
    label = "Disability grade: 0 = none, 1 (most severe) … 10 (least)"


class health_coefficient(Variable):
    value_type = float
    default_value = -1
    entity = Person
    definition_period = YEAR
    label = "Health coefficient recorded by an assessor (0..1); -1 = not given"


class health(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Health coefficient of the working capacity index"
    reference = "DOMAIN.md §4.3"

    def formula(person, period, parameters):
        p = parameters(period).working_capacity.health
        given = person("health_coefficient", period)
        grade = person("disability_grade", period)
        from_grade = np.where(grade == 0, p.no_disability, (grade - p.grade_offset) * p.grade_step)
        return np.where(given >= 0, given, from_grade)


class age_coefficient(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Age coefficient of the working capacity index"

    def formula(person, period, parameters):
        return parameters(period).working_capacity.age.calc(person("age", period))


class sex_coefficient(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Gender coefficient of the working capacity index"

    def formula(person, period, parameters):
        p = parameters(period).working_capacity.sex
        return np.where(person("sex", period) == Sex.male, p.male, p.female)


class person_working_capacity_index(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Working capacity index of a person: health × age × gender"

    def formula(person, period, parameters):
        return person("health", period) * person("age_coefficient", period) * person("sex_coefficient", period)


class counted(Variable):
    value_type = bool
    default_value = True
    entity = Person
    definition_period = YEAR
    label = "Counted in the household for the means test"


class refused_work(Variable):
    value_type = bool
    default_value = False
    entity = Person
    definition_period = YEAR
    label = "Refused suitable work three times: their share of the household's amount is withheld"


class imputed_monthly_reference(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Reference earnings per month for imputed income (yuan)"


class imputed_months(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Months worked, for imputed income"


class imputed_base(Variable):
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "Imputed earnings before the working capacity scaling (yuan per year)"

    def formula(person, period, parameters):
        return person("imputed_monthly_reference", period) * person("imputed_months", period)


# --------------------------------------------------------------------------- households


class AreaType(Enum):
    urban = "Urban"
    rural = "Rural"


class case_date(Variable):
    value_type = datetime.date
    entity = Household
    definition_period = YEAR
    label = "The day the rules apply to the household (ages are taken on it)"


class case_year(Variable):
    value_type = int
    entity = Household
    definition_period = YEAR
    label = "Calendar year of the case date"

    def formula(household, period, parameters):
        return year_month_day(household("case_date", period))[0]


class case_month_day(Variable):
    value_type = int
    entity = Household
    definition_period = YEAR
    label = "Month × 32 + day of the case date (to compare birthdays)"

    def formula(household, period, parameters):
        _, month, day = year_month_day(household("case_date", period))
        return month * 32 + day


class county(Variable):
    value_type = str
    entity = Household
    definition_period = YEAR
    label = "County: 6-digit administrative division code (a key of the county parameters)"


class area_type(Variable):
    value_type = Enum
    possible_values = AreaType
    default_value = AreaType.rural
    entity = Household
    definition_period = YEAR
    label = "Urban or rural standard"


class other_income(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Counted income other than imputed earnings, net of taxes, contributions, maintenance paid"


class necessary_expenditure(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Necessary expenditure (medical out of pocket + special needs)"


class assets_financial(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Financial assets (yuan)"


class homes(Variable):
    value_type = int
    entity = Household
    definition_period = YEAR
    label = "Residential homes owned"


class vehicle_value(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Value of non-exempt vehicles (yuan)"


class household_size(Variable):
    value_type = int
    entity = Household
    definition_period = YEAR
    label = "Number of counted members (N)"

    def formula(household, period, parameters):
        return household.sum(household.members("counted", period))


class working_capacity_index(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Household working capacity index L = Σ counted members' indices / N"

    def formula(household, period, parameters):
        members = household.members
        total = household.sum(members("person_working_capacity_index", period) * members("counted", period))
        size = household("household_size", period)
        return np.where(size > 0, total / np.maximum(size, 1), 0)


class imputed_income(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Imputed earnings of the counted members, scaled by the household index L (household basis)"

    def formula(household, period, parameters):
        members = household.members
        base = household.sum(members("imputed_base", period) * members("counted", period))
        return base * household("working_capacity_index", period)


class net_income(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Net income = max(0, counted income − necessary expenditure)"

    def formula(household, period, parameters):
        counted_income = household("other_income", period) + household("imputed_income", period)
        return np.maximum(0, counted_income - household("necessary_expenditure", period))


class per_capita_net_income(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Net income per counted member (unrounded)"

    def formula(household, period, parameters):
        size = household("household_size", period)
        return household("net_income", period) / np.maximum(size, 1)


class dibao_standard(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Dibao standard P for the household's county and area type (yuan/person/year)"

    def formula(household, period, parameters):
        standard = parameters(period).dibao.standard
        county = household("county", period)
        return np.where(
            household("area_type", period) == AreaType.urban,
            standard.urban[county],
            standard.rural[county],
        )


class assets_within_limit(Variable):
    value_type = bool
    entity = Household
    definition_period = YEAR
    label = "Assets test: financial per capita, homes, vehicles"

    def formula(household, period, parameters):
        p = parameters(period).assets
        county = household("county", period)
        size = np.maximum(household("household_size", period), 1)
        financial_ok = household("assets_financial", period) / size <= (
            p.financial_limit_years[county] * household("dibao_standard", period)
        )
        homes_ok = household("homes", period) <= p.max_homes[county]
        vehicle_ok = household("vehicle_value", period) <= p.vehicle_cap[county]
        return financial_ok & homes_ok & vehicle_ok


class dibao_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = YEAR
    label = "Eligible for dibao: assets within limits and per-capita net income below the standard"

    def formula(household, period, parameters):
        return (
            household("assets_within_limit", period)
            & (household("household_size", period) > 0)
            & (household("per_capita_net_income", period) < household("dibao_standard", period))
        )


class withheld_share(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Share of the amounts withheld: counted members who refused work / N × reduction"
    reference = "社会救助暂行办法 art. 45; DOMAIN.md §6 (a refused-work sanction reduces that member's share)"

    def formula(household, period, parameters):
        members = household.members
        refused = household.sum(members("refused_work", period) * members("counted", period))
        size = household("household_size", period)
        reduction = parameters(period).dibao.refused_work_share_reduction
        return np.where(refused > 0, refused / np.maximum(size, 1) * reduction, 0)


class previous_topup(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Annual top-up paid before an employment start (gradual exit)"


class employment_started(Variable):
    value_type = datetime.date
    entity = Household
    definition_period = YEAR
    label = "When new employment lifted the household's income (gradual exit)"


class employment_started_known(Variable):
    value_type = bool
    default_value = False
    entity = Household
    definition_period = YEAR
    label = "Whether employment_started is given (a date variable has no null)"


class gradual_exit(Variable):
    value_type = bool
    entity = Household
    definition_period = YEAR
    label = "Gradual exit: no longer eligible, within the exit months of an employment start"
    reference = "关于改革完善社会救助制度的意见 (2020) item 11 (渐退期)"

    def formula(household, period, parameters):
        known = household("employment_started_known", period)
        months = parameters(period).dibao.gradual_exit_months
        if months <= 0 or not known.any():
            return np.zeros_like(known)
        start_year, start_month, start_day = year_month_day(household("employment_started", period))
        case_year = household("case_year", period)
        case_month_day = household("case_month_day", period)
        case_month, case_day = case_month_day // 32, case_month_day % 32
        since = (case_year - start_year) * 12 + (case_month - start_month) - (case_day < start_day)
        return (
            known
            & (since < months)
            & ~household("dibao_eligible", period)
            & household("assets_within_limit", period)
            & (household("previous_topup", period) > 0)
        )


class topup(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Gap top-up (P − net income / N) × N, raised to the minimum amount, rounded to the fen"

    def formula(household, period, parameters):
        minimum = parameters(period).dibao.minimum_amount[household("county", period)]
        size = household("household_size", period)
        gap = np.maximum(0, (household("dibao_standard", period) - household("per_capita_net_income", period)) * size)
        amount = np.where(household("dibao_eligible", period), gap, 0)
        amount = np.where((amount > 0) & (amount < minimum), minimum, amount)
        amount = amount * (1 - household("withheld_share", period))
        return round_half_up_fen(
            np.where(household("gradual_exit", period), household("previous_topup", period), amount)
        )


class classified(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Classified assistance P × (1 − L) × M × N (working-capacity method), rounded to the fen"

    def formula(household, period, parameters):
        m = parameters(period).classified.adjustment_index[household("county", period)]
        amount = (
            household("dibao_standard", period)
            * (1 - household("working_capacity_index", period))
            * m
            * household("household_size", period)
            * (1 - household("withheld_share", period))
        )
        return round_half_up_fen(np.where(household("dibao_eligible", period), amount, 0))


class total(Variable):
    value_type = float
    entity = Household
    definition_period = YEAR
    label = "Dibao total per year = topup + classified"

    def formula(household, period, parameters):
        return household("topup", period) + household("classified", period)


ALL = [
    sex,
    birth_date,
    age,
    disability_grade,
    health_coefficient,
    health,
    age_coefficient,
    sex_coefficient,
    person_working_capacity_index,
    counted,
    imputed_monthly_reference,
    imputed_months,
    imputed_base,
    refused_work,
    case_date,
    case_year,
    case_month_day,
    county,
    area_type,
    other_income,
    necessary_expenditure,
    assets_financial,
    homes,
    vehicle_value,
    household_size,
    working_capacity_index,
    imputed_income,
    net_income,
    per_capita_net_income,
    dibao_standard,
    assets_within_limit,
    dibao_eligible,
    withheld_share,
    previous_topup,
    employment_started,
    employment_started_known,
    gradual_exit,
    topup,
    classified,
    total,
]
