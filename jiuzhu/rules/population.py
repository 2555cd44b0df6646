"""Synthetic county (模拟县): households and members that look like a real rural county.

Benchmarks, policy simulations and demonstrations need populations with the shape of
the pilot counties — small households, an ageing population, disability and illness, a
low-income tail — without anyone's personal data. Everything is drawn from one
`Generator(PCG64(seed))` in a fixed order, so a seed names a population, and every draw
is vectorised over all households or all persons at once, so a million households take
seconds. The tables follow docs/batch_schema.md column for column.

The figures below are generator settings, not policy: the income levels were tuned so
that about 5–10 % of households fall under Da'an's 2018 dibao standards (urban 5,760,
rural 3,600 yuan per person per year) once imputed earnings, medical costs and the asset
test are taken into account; the rules themselves come from the parameter files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.rules.dates import completed_years as ages
from jiuzhu.rules.vocabulary import EXPENSE_KINDS, INCOME_KINDS, RELATIONS

GENERATOR_VERSION = "1"
DEFAULT_REGION = "220882"
DEFAULT_DATE = dt.date(2018, 7, 1)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: Share of households of size 1 … 6.
SIZE_PROBABILITIES = (0.10, 0.22, 0.35, 0.20, 0.10, 0.03)
URBAN_SHARE = 0.40

#: Median per-capita household income (yuan/year) before household adjustments, and the
#: spread of its logarithm; roughly a poor county in Jilin around 2018.
MEDIAN_INCOME = {"urban": 21_000.0, "rural": 10_500.0}
INCOME_SIGMA = 0.62
#: Households hit by a shock (illness, a failed harvest, a death): their income is cut.
SHOCK_SHARE = 0.025

#: Central basic residents' pension, 88 yuan a month from 2018, for the elderly who have
#: no employee pension.
CENTRAL_BASIC_PENSION = 88.0 * 12

#: Township layout of the county: (first code, how many, fewest villages, most villages).
#: Street offices are urban; a town's village 001 is its seat community (urban), the rest
#: of its villages and all of a township's are rural.
STREETS = (1, 4, 5, 10)
TOWNS = (101, 10, 10, 18)
TOWNSHIPS = (201, 8, 8, 14)

_HEAD, _SPOUSE, _CHILD, _PARENT, _GRANDCHILD, _OTHER = (
    RELATIONS.index(r) for r in ("head", "spouse", "child", "parent", "grandchild", "other")
)


@dataclass(frozen=True)
class _Template:
    """A household composition: who lives with the head, and how old the head is.

    The head's age is lo + (hi − lo) × Beta(a, b); the other members' ages follow from it
    (spouse ± a few years, children 22–36 years younger, parents 22–34 years older), so
    relations and ages always agree."""

    relations: tuple[int, ...]
    weight: float
    head_age: tuple[float, float, float, float]
    head_male: float


H, S, C, P, G, L = _HEAD, _SPOUSE, _CHILD, _PARENT, _GRANDCHILD, _OTHER  # L: a child's spouse (in-law)
_TEMPLATES: tuple[_Template, ...] = (
    _Template((H,), 1.00, (20, 92, 3.2, 1.5), 0.45),           # mostly widowed elderly
    _Template((H, S), 0.68, (22, 88, 3.0, 1.8), 0.90),         # many empty nests
    _Template((H, C), 0.20, (35, 85, 2.0, 1.8), 0.55),
    _Template((H, P), 0.12, (22, 62, 2.0, 2.0), 0.75),
    _Template((H, S, C), 0.68, (24, 70, 2.8, 1.8), 0.90),
    _Template((H, S, P), 0.10, (24, 62, 2.0, 2.0), 0.90),
    _Template((H, S, G), 0.14, (50, 80, 2.0, 2.5), 0.90),      # left-behind grandchild
    _Template((H, C, C), 0.08, (32, 70, 2.0, 2.0), 0.60),
    _Template((H, S, C, C), 0.50, (28, 64, 2.4, 1.8), 0.90),
    _Template((H, S, C, P), 0.20, (24, 60, 2.0, 2.0), 0.90),
    _Template((H, S, G, G), 0.10, (50, 78, 2.0, 2.5), 0.90),
    _Template((H, S, C, G), 0.20, (44, 76, 2.0, 2.0), 0.90),
    _Template((H, S, C, L, G), 0.40, (44, 76, 2.0, 2.0), 0.92),
    _Template((H, S, C, C, P), 0.25, (26, 60, 2.0, 2.0), 0.92),
    _Template((H, S, C, P, P), 0.20, (24, 58, 2.0, 2.0), 0.92),
    _Template((H, S, C, G, G), 0.15, (46, 76, 2.0, 2.0), 0.92),
    _Template((H, S, C, L, G, G), 0.40, (46, 78, 2.0, 2.0), 0.92),
    _Template((H, S, C, C, P, P), 0.40, (28, 56, 2.0, 2.0), 0.92),
    _Template((H, S, C, C, C, P), 0.20, (30, 60, 2.0, 2.0), 0.92),
)
del H, S, C, P, G, L


@dataclass(frozen=True)
class _Tables:
    """The templates as arrays indexed by template number (and member position)."""

    relation: npt.NDArray[np.int8]      # template × position → relation, -1 past the size
    rank: npt.NDArray[np.int8]          # how many of the same relation come before
    cumulative: Floats                  # size − 1 × template of that size → cumulative weight
    first: Ints                         # size − 1 → number of its first template
    age_lo: Floats
    age_hi: Floats
    age_a: Floats
    age_b: Floats
    head_male: Floats
    max_child: npt.NDArray[np.int8]     # highest child rank, -1 = no child
    max_grandchild: npt.NDArray[np.int8]
    max_parent: npt.NDArray[np.int8]


def _template_tables() -> _Tables:
    count = len(_TEMPLATES)
    relation = np.full((count, 6), -1, dtype=np.int8)
    rank = np.zeros((count, 6), dtype=np.int8)
    for t, template in enumerate(_TEMPLATES):
        seen: dict[int, int] = {}
        for position, r in enumerate(template.relations):
            relation[t, position] = r
            rank[t, position] = seen.get(r, 0)
            seen[r] = seen.get(r, 0) + 1
    sizes = np.array([len(t.relations) for t in _TEMPLATES])
    widest = int(np.bincount(sizes).max())
    cumulative = np.full((6, widest), 2.0)  # 2.0 is never below a uniform draw
    first = np.zeros(6, dtype=np.int64)
    for size in range(1, 7):
        members = np.flatnonzero(sizes == size)
        weights = np.array([_TEMPLATES[i].weight for i in members])
        cum = np.cumsum(weights) / weights.sum()
        cum[-1] = 1.0
        cumulative[size - 1, : len(members)] = cum
        first[size - 1] = members[0]
    ages = np.array([t.head_age for t in _TEMPLATES], dtype=np.float64)

    def most(r: int) -> npt.NDArray[np.int8]:
        return np.array([max((rank[t, p] for p in range(6) if relation[t, p] == r), default=-1)
                         for t in range(count)], dtype=np.int8)

    return _Tables(
        relation=relation, rank=rank, cumulative=cumulative, first=first,
        age_lo=ages[:, 0], age_hi=ages[:, 1], age_a=ages[:, 2], age_b=ages[:, 3],
        head_male=np.array([t.head_male for t in _TEMPLATES], dtype=np.float64),
        max_child=most(_CHILD), max_grandchild=most(_GRANDCHILD), max_parent=most(_PARENT),
    )


_T = _template_tables()


def validate_county(region: str) -> str:
    """The county code the population lives in: 6 digits, not a province or prefecture.

    Only the shape is checked here, because the engine sits below `jiuzhu.areas` and
    must not import it; `jiuzhu.areas.divisions.normalise_region` gives the full check
    and message (the CLI uses it first)."""
    if not re.fullmatch(r"[1-8][0-9]{5}", region) or "00" in (region[2:4], region[4:6]):
        raise ValueError(f"region must be a 6-digit county code such as 220882, not {region!r}")
    return region


def generate(
    n: int,
    seed: int,
    region: str = DEFAULT_REGION,
    date: dt.date = DEFAULT_DATE,
) -> tuple[pa.Table, pa.Table]:
    """n households of a synthetic county and their members, as (households, members).

    The same (n, seed, region, date) always gives the same tables."""
    if n < 1:
        raise ValueError("the population needs at least one household")
    region = validate_county(region)
    rng = np.random.Generator(np.random.PCG64(seed))
    people = _people(rng, n, date)
    places = _places(rng, n, region)
    money = _money(rng, n, people, places)
    households = _households_table(n, region, date, places, money)
    return households, _members_table(date, households["household_id"], people, money)


def manifest(
    households: pa.Table, members: pa.Table, *, seed: int, region: str, date: dt.date
) -> dict[str, object]:
    """What was generated and how to generate it again (no timestamp, so reruns are identical)."""
    return {
        "households": households.num_rows,
        "persons": members.num_rows,
        "seed": seed,
        "region": region,
        "date": date.isoformat(),
        "generator": __name__,
        "generator_version": GENERATOR_VERSION,
        "schema": "docs/batch_schema.md",
    }


# --------------------------------------------------------------------------- people


def completed_years(birth_date: npt.NDArray[np.datetime64], date: dt.date) -> Ints:
    """Age in completed years on the date (周岁), as the engine counts it."""
    days = birth_date.astype("datetime64[D]").astype(np.int64)
    on = np.full(len(days), (np.datetime64(date, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))
    return np.asarray(ages(days, on), dtype=np.int64)


@dataclass
class _People:
    """Members, ordered by household, with the household-level facts derived from them."""

    household: npt.NDArray[np.int32]    # person → household position
    position: npt.NDArray[np.int8]      # 0 = head
    relation: npt.NDArray[np.int8]
    male: Bools
    birth_date: npt.NDArray[np.datetime64]
    age: Ints                           # completed years on the date, from the birth date
    grade: npt.NDArray[np.int8]         # 0 = no disability
    health_coefficient: Floats          # NaN = not assessed
    categories: npt.NDArray[np.int8]    # bits over _CATEGORY_TAGS
    counted: Bools
    able: Bools                         # working age and fit to work
    refused_work: Bools

    def count(self, mask: Bools, n: int) -> Floats:
        """Members per household for which the mask holds."""
        return np.bincount(self.household[mask], minlength=n).astype(np.float64)

    def total(self, index: Ints, values: Floats, n: int) -> Floats:
        """Sum per household of values given for the members at `index`."""
        return np.asarray(np.bincount(self.household[index], weights=values, minlength=n), dtype=np.float64)


_CATEGORY_TAGS = ("severe_disability", "serious_illness", "student")
_SEVERE, _ILL, _STUDENT = 1, 2, 4
#: Age bands (from 0, 18, 45, 60, 75) and the chance of a disability or a serious illness.
_AGE_BANDS = np.array([18.0, 45.0, 60.0, 75.0])
_DISABILITY_BY_BAND = np.array([0.013, 0.033, 0.066, 0.11, 0.175])
_ILLNESS_BY_BAND = np.array([0.004, 0.01, 0.025, 0.045, 0.045])
#: Disability grades 1 (most severe) … 10, milder ones commoner.
_GRADE_WEIGHTS = np.array([3, 4, 6, 7, 9, 10, 12, 14, 16, 19], dtype=np.float64)


def _people(rng: np.random.Generator, n: int, date: dt.date) -> _People:
    sizes = rng.choice(6, size=n, p=SIZE_PROBABILITIES) + 1
    u = rng.random(n)
    template = _T.first[sizes - 1] + (u[:, None] >= _T.cumulative[sizes - 1]).sum(axis=1)

    lo, hi = _T.age_lo[template], _T.age_hi[template]
    head_age = lo + (hi - lo) * rng.beta(_T.age_a[template], _T.age_b[template])
    parent_gap = rng.uniform(22, 34, n)
    child_gap = rng.uniform(22, 36, n)
    grandchild_gap = rng.uniform(21, 32, n)
    spacing = rng.uniform(1.5, 5.0, n)
    max_child, max_grandchild = _T.max_child[template], _T.max_grandchild[template]
    max_parent = _T.max_parent[template]
    # The head must be old enough for the youngest generation and young enough for the
    # oldest, so the head's age is pushed into that window.
    needed = np.where(
        max_grandchild >= 0,
        child_gap + grandchild_gap + spacing * max_grandchild,
        np.where(max_child >= 0, child_gap + spacing * max_child, 18.0),
    )
    head_age = np.maximum(head_age, needed + rng.uniform(0.0, 2.0, n))
    head_age = np.where(max_parent >= 0, np.minimum(head_age, 94.0 - parent_gap - 6.0 * max_parent), head_age)
    head_male = rng.random(n) < _T.head_male[template]
    child0_male = rng.random(n) < 0.52
    parent0_male = rng.random(n) < 0.35

    starts = np.cumsum(sizes) - sizes
    household = np.repeat(np.arange(n, dtype=np.int32), sizes)
    m = len(household)
    position = (np.arange(m, dtype=np.int64) - starts[household]).astype(np.int8)
    t_person = template[household]
    relation = _T.relation[t_person, position]
    rank = _T.rank[t_person, position].astype(np.float64)
    del t_person, starts

    z = rng.standard_normal(m)
    jitter = rng.random(m)
    own = rng.random(m)
    age = head_age[household]
    male = head_male[household]
    for r in (_SPOUSE, _CHILD, _GRANDCHILD, _PARENT, _OTHER):
        sel = np.flatnonzero(relation == r)
        h = household[sel]
        if r == _SPOUSE:
            gap = 2.5 + 2.5 * z[sel]
            age[sel] = np.maximum(np.where(head_male[h], age[sel] - gap, age[sel] + gap), 20.0)
            male[sel] = ~head_male[h]
        elif r == _CHILD:
            age[sel] -= child_gap[h] + rank[sel] * spacing[h] + jitter[sel]
            male[sel] = np.where(rank[sel] == 0, child0_male[h], own[sel] < 0.52)
        elif r == _GRANDCHILD:
            age[sel] -= child_gap[h] + grandchild_gap[h] + rank[sel] * spacing[h] + jitter[sel]
            male[sel] = own[sel] < 0.52
        elif r == _PARENT:
            age[sel] += parent_gap[h] + rank[sel] * np.clip(3.0 * z[sel], -6.0, 6.0)
            male[sel] = np.where(rank[sel] == 0, parent0_male[h], ~parent0_male[h])
        else:  # a child's spouse
            age[sel] = np.maximum(age[sel] - child_gap[h] + 2.0 * z[sel], 20.0)
            male[sel] = ~child0_male[h]
    np.clip(age, 0.0, 100.0, out=age)
    del z, jitter, own, rank
    # Everything below uses completed years from the birth date, as the engine does, so
    # "working age" here and in the means test are the same people.
    birth_date = np.datetime64(date, "D") - (np.floor(age * 365.2425).astype(np.int64) + 1).astype(
        "timedelta64[D]"
    )
    del age
    age = completed_years(birth_date, date)

    band = np.searchsorted(_AGE_BANDS, age, side="right")
    disabled = rng.random(m) < _DISABILITY_BY_BAND[band]
    grade = np.zeros(m, dtype=np.int8)
    grade[disabled] = rng.choice(10, size=int(disabled.sum()), p=_GRADE_WEIGHTS / _GRADE_WEIGHTS.sum()) + 1
    ill = rng.random(m) < _ILLNESS_BY_BAND[band]
    working_age = (band == 1) | (band == 2)
    student = working_age & (age < 23) & (rng.random(m) < 0.35)
    del band
    categories = (
        ((grade > 0) & (grade <= 2)) * _SEVERE + ill * _ILL + student * _STUDENT
    ).astype(np.int8)

    # An assessor's health coefficient for some of the disabled and sick (it wins over
    # the grade in the engine, so it stays close to what the grade would give).
    assessed = np.flatnonzero(disabled | ill)
    assessed = assessed[rng.random(len(assessed)) < 0.15]
    assessed_grade = grade[assessed]
    value = np.where(
        assessed_grade > 0,
        np.clip((assessed_grade - 1) / 10.0 + rng.choice([-0.1, 0.0, 0.1], size=len(assessed)), 0.0, 1.0),
        rng.integers(2, 9, size=len(assessed)) / 10.0,
    )
    health_coefficient = np.full(m, np.nan)
    health_coefficient[assessed] = np.round(value, 1)

    away = np.flatnonzero(working_age & (relation != _HEAD))
    counted = np.ones(m, dtype=np.bool_)
    counted[away[rng.random(len(away)) < 0.004]] = False
    able = working_age & counted & ~((grade > 0) & (grade <= 4)) & ~ill & ~student
    refused_work = able & (rng.random(m) < 0.004)
    return _People(
        household=household, position=position, relation=relation, male=male, birth_date=birth_date, age=age,
        grade=grade, health_coefficient=health_coefficient, categories=categories, counted=counted,
        able=able, refused_work=refused_work,
    )


# --------------------------------------------------------------------------- places


@dataclass
class _Places:
    urban: Bools                    # per household
    village: Ints                   # index into codes
    codes: list[str]                # 12-digit village codes
    township_effect: Floats         # per household: richer and poorer townships


def _places(rng: np.random.Generator, n: int, region: str) -> _Places:
    codes: list[str] = []
    urban_village: list[bool] = []
    village_township: list[int] = []
    township = 0
    for first, count, low, high in (STREETS, TOWNS, TOWNSHIPS):
        for number in range(first, first + count):
            villages = int(rng.integers(low, high + 1))
            for v in range(1, villages + 1):
                codes.append(f"{region}{number:03d}{v:03d}")
                urban_village.append(first < 100 or (first < 200 and v == 1))
                village_township.append(township)
            township += 1
    is_urban = np.array(urban_village)
    weights = rng.lognormal(0.0, 0.5, len(codes))
    township_effect = rng.normal(0.0, 0.12, township)[np.array(village_township)]

    urban = rng.random(n) < URBAN_SHARE
    village = np.empty(n, dtype=np.int64)
    for flag in (True, False):
        pool = np.flatnonzero(is_urban == flag)
        chosen = urban == flag
        p = weights[pool] / weights[pool].sum()
        village[chosen] = pool[rng.choice(len(pool), size=int(chosen.sum()), p=p)]
    return _Places(urban=urban, village=village, codes=codes, township_effect=township_effect[village])


# --------------------------------------------------------------------------- money


@dataclass
class _Money:
    income: dict[str, Floats]
    expense: dict[str, Floats]
    assets_financial: Floats
    homes: npt.NDArray[np.int32]
    vehicle_value: Floats
    previous_topup: Floats
    employment_started: npt.NDArray[np.int64]   # days before the date; -1 = none
    imputed_reference: Floats                   # per person
    imputed_months: Floats                      # per person


def _yuan(amounts: npt.ArrayLike) -> Floats:
    """Whole yuan, as people declare and departments report amounts."""
    return np.asarray(np.rint(np.asarray(amounts, dtype=np.float64)), dtype=np.float64)


def _chosen(rng: np.random.Generator, mask: Bools, p: float | Floats) -> Ints:
    """Positions where the mask holds, each kept with probability p (drawn only for those)."""
    index = np.flatnonzero(mask)
    chance = p if isinstance(p, float) else p[index]
    return index[rng.random(len(index)) < chance]


def _money(rng: np.random.Generator, n: int, people: _People, places: _Places) -> _Money:
    urban = places.urban
    hh = people.household
    m = len(hh)
    urban_p = urban[hh]
    elderly = people.counted & (people.age >= 60)
    vulnerable = (people.categories & (_SEVERE | _ILL)) > 0

    size = people.count(people.counted, n)
    n_able = people.count(people.able, n)
    n_elderly = people.count(elderly, n)
    has_vulnerable = people.count(vulnerable, n) > 0

    # Total income per person: log-normal, lower without anyone able to work or with a
    # severely disabled or sick member, and cut for households hit by a shock.
    median = np.where(urban, MEDIAN_INCOME["urban"], MEDIAN_INCOME["rural"])
    mu = (np.log(median) - 0.55 * (n_able == 0) - 0.25 * has_vulnerable + 0.12 * (n_able >= 2)
          + places.township_effect)
    per_capita = np.exp(mu + INCOME_SIGMA * rng.standard_normal(n))
    shock = rng.random(n) < SHOCK_SHARE
    per_capita *= np.where(shock, rng.uniform(0.1, 0.6, n), 1.0)
    total = per_capita * size

    # Imputed earnings of rural members whose work cannot be observed (farm labour, odd
    # jobs, migrant work): a reference wage, and the months that make up a share of the
    # household's income.
    imputed = _chosen(rng, ~urban_p & people.able, 0.55)
    imputed_reference = rng.integers(15, 26, len(imputed)) * 100.0
    n_imputed = np.bincount(hh[imputed], minlength=n)
    target = rng.uniform(0.15, 0.5, n) * total / np.maximum(n_imputed, 1)
    imputed_months = np.clip(np.round(target[hh[imputed]] / imputed_reference), 0, 10)
    imputed_income = people.total(imputed, imputed_reference * imputed_months, n)
    reference = np.zeros(m)
    reference[imputed] = imputed_reference
    months = np.zeros(m)
    months[imputed] = imputed_months
    del target, imputed_reference, imputed_months

    employee_pension = _chosen(rng, elderly & urban_p, 0.70)
    n_employee_pension = np.bincount(hh[employee_pension], minlength=n)
    central_basic = (n_elderly - n_employee_pension) * CENTRAL_BASIC_PENSION
    not_imputed = people.able.copy()
    not_imputed[imputed] = False
    wage_earner = _chosen(rng, not_imputed, np.where(urban_p, 0.72, 0.45))
    n_wage = np.bincount(hh[wage_earner], minlength=n)
    formal = wage_earner[urban_p[wage_earner] & (rng.random(len(wage_earner)) < 0.65)]
    n_formal = np.bincount(hh[formal], minlength=n)
    del not_imputed, urban_p

    business = rng.random(n) < np.where(urban, 0.12, np.where(n_able > 0, 0.75, 0.35))
    land = ~urban & ~business & (rng.random(n) < 0.8)
    supported = (n_elderly > 0) & (n_able == 0) & (rng.random(n) < 0.6)
    earners = n_wage + business + land + n_employee_pension
    weights = {
        "wage": n_wage * 1.0,
        "business": business * np.where(urban, 1.5, 1.0),
        "land_transfer": land * 0.7,
        "pension": np.where(urban, n_employee_pension * 1.0, n_elderly * 0.1),
        "maintenance_received": supported * 0.5 + (earners == 0) * 0.3,
        "other": 0.05 * (rng.random(n) < 0.25),
    }
    weight_sum = sum(weights.values(), np.zeros(n))
    remainder = np.maximum(total - imputed_income - central_basic, 0.0)
    zeros = np.zeros(n)
    income: dict[str, Floats] = dict.fromkeys(INCOME_KINDS, zeros)
    for kind, weight in weights.items():
        income[kind] = _yuan(remainder * weight / weight_sum)
    income["central_basic_pension"] = central_basic

    # Income that does not count: scholarships, assistance already received, veterans'
    # and family-planning payments.
    scholar = _chosen(rng, (people.categories & _STUDENT) > 0, 0.3)
    income["scholarship"] = _yuan(people.total(scholar, rng.uniform(1000, 6000, len(scholar)), n))
    poor = per_capita < median * 0.3
    income["social_assistance"] = _yuan(
        np.where(poor & (rng.random(n) < 0.2), rng.uniform(500, 3000, n), 0.0)
    )
    income["preferential_pension"] = _yuan(
        np.where((n_elderly > 0) & (rng.random(n) < 0.004), rng.uniform(3000, 12000, n), 0.0)
    )
    income["family_planning_reward"] = np.where(~urban & (n_elderly > 0) & (rng.random(n) < 0.08), 960.0, 0.0)

    # Out-of-pocket medical costs: large for the seriously ill, smaller for some of the
    # disabled and the elderly.
    sick = np.flatnonzero((people.categories & _ILL) > 0)
    treated = _chosen(rng, people.grade > 0, 0.3)
    aged = _chosen(rng, elderly, 0.25)
    medical = (
        people.total(sick, rng.lognormal(np.log(8000), 0.7, len(sick)), n)
        + people.total(treated, rng.lognormal(np.log(1500), 0.6, len(treated)), n)
        + people.total(aged, rng.lognormal(np.log(800), 0.6, len(aged)), n)
    )
    expense: dict[str, Floats] = dict.fromkeys(EXPENSE_KINDS, zeros)
    expense["medical_out_of_pocket"] = _yuan(medical)
    expense["social_contribution"] = _yuan(0.105 * income["wage"] * n_formal / np.maximum(n_wage, 1))

    ratio = rng.lognormal(np.log(0.7), 0.9, n) * (rng.random(n) > 0.12)
    assets_financial = np.round(total * ratio, -1)
    richer = per_capita > median
    u = rng.random(n)
    two_homes = np.where(urban, np.where(richer, 0.18, 0.05), np.where(richer, 0.08, 0.02))
    no_home = np.where(urban, 0.12, 0.03)
    homes = (1 + (u < two_homes) - (u > 1.0 - no_home)).astype(np.int32)
    relative = np.log(per_capita / median)
    has_vehicle = rng.random(n) < 1.0 / (1.0 + np.exp(1.2 - 1.5 * relative))
    vehicle_value = np.where(
        has_vehicle, np.round(rng.lognormal(np.log(np.where(urban, 50_000, 30_000)), 0.6), -2), 0.0
    )

    # A few households left dibao when someone found work, and are in gradual exit.
    exiting = (n_wage > 0) & (rng.random(n) < 0.005)
    previous_topup = np.where(exiting, np.round(rng.uniform(1200, 9000, n)), 0.0)
    employment_started = np.where(exiting, rng.integers(1, 181, n), -1)

    return _Money(
        income=income, expense=expense, assets_financial=assets_financial, homes=homes,
        vehicle_value=vehicle_value, previous_topup=previous_topup,
        employment_started=employment_started, imputed_reference=reference, imputed_months=months,
    )


# --------------------------------------------------------------------------- tables


def _string_ids(prefix: str, numbers: Ints, width: int) -> pa.Array:
    """prefix + zero-padded numbers, built in Arrow rather than one Python str each."""
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _dates(date: dt.date, days_before: Ints) -> pa.Array:
    """date32 values `days_before` days before the date; negative = null."""
    day = np.datetime64(date, "D")
    values = day - np.maximum(days_before, 0).astype("timedelta64[D]")
    return pa.array(values, type=pa.date32(), mask=days_before < 0)


def _households_table(n: int, region: str, date: dt.date, places: _Places, money: _Money) -> pa.Table:
    width = max(7, len(str(n)))
    columns: dict[str, pa.Array] = {
        "household_id": _string_ids(f"{region}-", np.arange(1, n + 1, dtype=np.int64), width),
        "region": pc.take(pa.array(places.codes, type=pa.string()), pa.array(places.village)),
        "date": _dates(date, np.zeros(n, dtype=np.int64)),
        "area_type": pc.take(pa.array(["rural", "urban"]), pa.array(places.urban.astype(np.int8))),
    }
    for kind in INCOME_KINDS:
        columns[f"income_{kind}"] = pa.array(money.income[kind], type=pa.float64())
    for kind in EXPENSE_KINDS:
        columns[f"expense_{kind}"] = pa.array(money.expense[kind], type=pa.float64())
    columns["assets_financial"] = pa.array(money.assets_financial, type=pa.float64())
    columns["homes"] = pa.array(money.homes, type=pa.int32())
    columns["vehicle_value"] = pa.array(money.vehicle_value, type=pa.float64())
    columns["previous_topup"] = pa.array(money.previous_topup, type=pa.float64())
    columns["employment_started"] = _dates(date, money.employment_started)
    return pa.table(columns)


def _members_table(date: dt.date, household_ids: pa.ChunkedArray, people: _People, money: _Money) -> pa.Table:
    grade = people.grade
    return pa.table({
        "household_id": pc.take(household_ids, pa.array(people.household)),
        "member_id": pc.take(pa.array([f"m{i}" for i in range(1, 7)]), pa.array(people.position)),
        "relation": pc.take(pa.array(RELATIONS, type=pa.string()), pa.array(people.relation)),
        "sex": pc.take(pa.array(["female", "male"]), pa.array(people.male.astype(np.int8))),
        "birth_date": pa.array(people.birth_date, type=pa.date32()),
        "disability_grade": pa.array(grade, type=pa.int8(), mask=grade == 0),
        "health_coefficient": pa.array(
            people.health_coefficient, type=pa.float64(), mask=np.isnan(people.health_coefficient)
        ),
        "categories": pc.take(_category_strings(), pa.array(people.categories)),
        "counted": pa.array(people.counted, type=pa.bool_()),
        "imputed_monthly_reference": pa.array(money.imputed_reference, type=pa.float64()),
        "imputed_months": pa.array(money.imputed_months, type=pa.float64()),
        "refused_work": pa.array(people.refused_work, type=pa.bool_()),
    })


def _category_strings() -> pa.Array:
    """Every combination of the given tags as the comma-separated column value; none = null."""
    values: list[str | None] = []
    for bits in range(1 << len(_CATEGORY_TAGS)):
        tags = [tag for i, tag in enumerate(_CATEGORY_TAGS) if bits >> i & 1]
        values.append(",".join(tags) or None)
    return pa.array(values, type=pa.string())


def write_parquet(table: pa.Table, path: Path | str) -> None:
    """How the synthetic files are written: row groups of 128k rows, dictionaries for text only
    (numbers decode faster plain), LZ4 compression (the fastest to read back)."""
    text = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    pq.write_table(table, path, row_group_size=131_072, use_dictionary=text, compression="lz4")
