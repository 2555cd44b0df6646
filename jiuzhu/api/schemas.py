"""What goes in and comes out of the API, as pydantic schemas (and so as OpenAPI).

Inputs are bounded the way the database is (lengths of the columns, 64-bit ids, years
a person can be born or a visit made in) so a wild value is refused as a 422 with its
path instead of reaching PostgreSQL and failing there as a 500. Outputs mask what the
pages mask: ID numbers, phone numbers and bank accounts leave only through the logged
"show" routes.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# -- bounded building blocks ------------------------------------------------------------

MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


def _plain_text(value: str) -> str:
    """No control characters (NUL breaks PostgreSQL) and no lone surrogates (break UTF-8)."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in "\t\n\r"):
            raise PydanticCustomError("control_character", _("must not contain control characters"))
    return value


def _in_range(day: dt.date) -> dt.date:
    if not EARLIEST <= day <= LATEST:
        raise PydanticCustomError("date_range", _("must be between 1900-01-01 and 2199-12-31"))
    return day


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION, description="The version you read; a stale one answers 409.")]
Day = Annotated[dt.date, AfterValidator(_in_range)]
Name = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_plain_text)]
Line = Annotated[str, Field(max_length=200), AfterValidator(_plain_text)]
Reason = Annotated[str, Field(max_length=4000), AfterValidator(_plain_text)]
IdNumberText = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_plain_text)]
Phone = Annotated[str, Field(max_length=20, pattern=r"^[0-9+\- ]*$")]
BankAccount = Annotated[str, Field(max_length=40, pattern=r"^[0-9 ]*$")]
VillageCode = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="A 12-digit village or community code.")]
AreaCode = Annotated[str, Field(pattern=r"^[0-9]{2,12}$")]
ProgrammeCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

# The registry's vocabulary (jiuzhu.rules.vocabulary, registry.models), spelt out so the
# OpenAPI document lists the choices; tests/api pin them to the source.
Sex = Literal["male", "female"]
AreaType = Literal["urban", "rural"]
Relation = Literal["head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other"]
NotCountedReason = Literal["", "clergy_away", "prison", "drug_rehabilitation", "missing"]
DisabilityType = Literal["", "visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"]
Category = Literal["severe_disability", "minor", "elderly", "serious_illness", "single_parent",
                   "catastrophic_illness", "student"]
Channel = Literal["village", "township", "online"]
StateName = Literal["received", "accepted", "investigating", "assessed", "first_review", "notice", "objection",
                    "recheck", "approved", "refused", "enrolled", "withdrawn"]
HealthCoefficient = Annotated[Decimal, Field(ge=0, le=1, max_digits=3, decimal_places=2)]
DisabilityGrade = Annotated[int, Field(ge=1, le=10)]


def _fact_value(value: Any) -> Any:
    """A programme fact is one scalar: yes/no, a number, a short text (or a date as text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > 10**12:
            raise PydanticCustomError("fact_value", _("is too large"))
        return value
    if isinstance(value, float):
        if value != value or abs(value) > 1e12:
            raise PydanticCustomError("fact_value", _("is too large"))
        return value
    if isinstance(value, str):
        if len(value) > 200:
            raise PydanticCustomError("fact_value", _("must be at most %(n)s characters long") % {"n": 200})
        return _plain_text(value)
    raise PydanticCustomError("fact_value", _("must be true, false, a number or a short text"))


FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FactValue = Annotated[Any, AfterValidator(_fact_value)]
MemberKey = Annotated[str, Field(pattern=r"^[0-9]{1,18}$", description="A person id.")]


class In(Schema):
    """Inputs refuse unknown fields, so a misspelt field is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


# -- common outputs ----------------------------------------------------------------------

class Detail(Schema):
    detail: str


class Conflict(Schema):
    detail: str
    current_version: int | None


class Problem(Schema):
    path: str = Field(description="Dotted path of the field, e.g. members[1].id_number; empty for the whole.")
    message: str


class Problems(Schema):
    errors: list[Problem]


ERRORS: dict[int, Any] = {401: Detail, 403: Detail, 404: Detail, 422: Problems}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Conflict}


class Page(In):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)


# -- persons -----------------------------------------------------------------------------

class PersonFields(In):
    name: Name
    sex: Sex
    birth_date: Day
    hukou_type: AreaType
    hukou_area: Annotated[str, Field(max_length=12, pattern=r"^[0-9]*$")] = ""
    disability_grade: DisabilityGrade | None = None
    disability_type: DisabilityType = ""
    health_coefficient: HealthCoefficient | None = None
    categories: list[Category] = Field(default_factory=list, max_length=7)
    phone: Phone = ""


class PersonIn(PersonFields):
    id_number: IdNumberText
    area: AreaCode = Field(description="The area the person is registered in; must be inside yours.")


class PersonPatch(In):
    """Only the fields sent change; `version` is the one you read."""

    version: Version
    reason: Reason = ""
    id_number: IdNumberText | None = None
    name: Name | None = None
    sex: Sex | None = None
    birth_date: Day | None = None
    hukou_type: AreaType | None = None
    hukou_area: Annotated[str, Field(max_length=12, pattern=r"^[0-9]*$")] | None = None
    disability_grade: DisabilityGrade | None = None
    disability_type: DisabilityType | None = None
    health_coefficient: HealthCoefficient | None = None
    categories: list[Category] | None = Field(None, max_length=7)
    phone: Phone | None = None


class PersonOut(Schema):
    id: int
    id_number: str = Field(description="Masked; POST /persons/{id}/show-id-number shows it (logged).")
    name: str
    sex: str
    birth_date: dt.date
    hukou_type: str
    hukou_area: str
    disability_grade: int | None
    disability_type: str
    health_coefficient: Decimal | None
    categories: list[str]
    phone: str = Field(description="Masked; POST /persons/{id}/show-phone shows it (logged).")
    death_date: dt.date | None
    version: int


class PersonDetail(PersonOut):
    household: int | None = Field(description="The current household, when it is in your area.")


class Shown(Schema):
    field: str
    value: str


# -- households --------------------------------------------------------------------------

class MemberIn(In):
    """A member by ID number: an existing person is reused (the other person fields may
    be left out), a new one is created from the fields given."""

    id_number: IdNumberText
    name: Name | None = None
    sex: Sex | None = None
    birth_date: Day | None = None
    hukou_type: AreaType | None = None
    hukou_area: Annotated[str, Field(max_length=12, pattern=r"^[0-9]*$")] = ""
    disability_grade: DisabilityGrade | None = None
    disability_type: DisabilityType = ""
    health_coefficient: HealthCoefficient | None = None
    categories: list[Category] = Field(default_factory=list, max_length=7)
    phone: Phone = ""
    relation: Relation
    counted: bool = True
    not_counted_reason: NotCountedReason = ""


class HouseholdIn(In):
    area: VillageCode
    area_type: AreaType
    address: Line = ""
    bank_account: BankAccount = ""
    members: list[MemberIn] = Field(min_length=1, max_length=30)


class HouseholdPatch(In):
    version: Version
    reason: Reason = ""
    address: Line | None = None
    area_type: AreaType | None = None
    bank_account: BankAccount | None = None


class HouseholdFilter(Page):
    area: AreaCode | None = Field(None, description="Only households in this area (a code prefix).")
    q: Annotated[str, Field(max_length=50), AfterValidator(_plain_text)] = Field(
        "", description="A name, the start of an ID number, or a file number.")


class HouseholdItem(Schema):
    id: int
    number: str
    area: str
    area_name: str
    area_type: str
    address: str
    version: int


class HouseholdPage(Schema):
    count: int
    items: list[HouseholdItem]


class MemberOut(Schema):
    id: int
    relation: str
    counted: bool
    not_counted_reason: str
    start: dt.date
    end: dt.date | None
    person: PersonOut


class HouseholdOut(HouseholdItem):
    bank_account: str = Field(description="Masked; POST /households/{id}/show-bank-account shows it (logged).")
    members: list[MemberOut] = Field(description="Current members first, then former ones (with `end`).")


# -- applications ----------------------------------------------------------------------

class ConsentIn(In):
    person: Id
    signature: Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(_plain_text)]


class FactsIn(In):
    household: dict[FactName, FactValue] = Field(default_factory=dict, max_length=50)
    members: dict[MemberKey, dict[FactName, FactValue]] = Field(default_factory=dict, max_length=30)


class IntakeIn(In):
    household: Id
    applicant: Id
    programmes: list[ProgrammeCode] = Field(min_length=1, max_length=20)
    channel: Channel
    consents: list[ConsentIn] = Field(default_factory=list, max_length=30)
    truth_promise: bool
    missing_items: list[Line] = Field(default_factory=list, max_length=30)
    facts: FactsIn = Field(default_factory=FactsIn)


class ApplicationFilter(Page):
    state: StateName | None = None
    programme: ProgrammeCode | None = None


class DeadlineOut(Schema):
    date: dt.date
    provisional: bool = Field(description="Computed Monday–Friday: the year's official holidays are not entered yet.")


class ApplicationItem(Schema):
    id: int
    household: int
    household_number: str
    programme: str
    state: str
    version: int
    area_code: str
    received_at: dt.datetime
    step_deadline: DeadlineOut | None
    clock_stopped: bool
    relative_flag: bool


class ApplicationPage(Schema):
    count: int
    items: list[ApplicationItem]


class TransitionOut(Schema):
    from_state: str
    to_state: str
    by: str
    at: dt.datetime
    reason: str


class MissingItemOut(Schema):
    description: str
    received_on: dt.date | None


class ApplicationOut(ApplicationItem):
    intake: int
    applicant: int
    channel: str
    entered_by: str
    accepted_by: str | None
    accepted_on: dt.date | None
    final_deadline: DeadlineOut | None
    urgency: str = Field(description="overdue, due_soon, on_time, stopped or none.")
    delegated: bool
    opinion: str
    opinion_reason: str
    allowed_next: list[str] = Field(description="The states you may move it to now.")
    transitions: list[TransitionOut]
    missing_items: list[MissingItemOut]
    visits: int
    decisions: list[int]


class IntakeOut(Schema):
    id: int
    household: int
    applications: list[ApplicationItem]


class VisitIn(In):
    visited_on: Day
    investigators: list[Id] = Field(min_length=1, max_length=10, description="User ids; at least two people.")
    findings: Reason
    living_conditions: Reason = ""
    signed_by_household: Annotated[str, Field(max_length=50), AfterValidator(_plain_text)]
    signed_on: Day
    county_visit: bool = False


class VisitOut(Schema):
    id: int
    visited_on: dt.date
    investigators: list[str]
    county_visit: bool
    findings: str
    signed_by_household: str
    signed_on: dt.date


class TransitionIn(In):
    """Move an application; the fields after `reason` belong to particular steps:
    assessed (`visit`, optional: a visit recorded first), first_review (`opinion`),
    objection (`content`, `raised_by`, `received_on`), recheck (`method`, `outcome`),
    approved/refused (`reasons`, or `reason`)."""

    to: StateName
    version: Version
    reason: Reason = ""
    visit: VisitIn | None = None
    opinion: Literal["approve", "refuse"] | None = None
    reasons: Reason = ""
    content: Reason = ""
    raised_by: Annotated[str, Field(max_length=100), AfterValidator(_plain_text)] = ""
    received_on: Day | None = None
    method: Literal["recheck", "appraisal"] | None = None
    outcome: Reason = ""


class ClockStopIn(In):
    version: Version
    reason: Reason


class ClockResumeIn(In):
    version: Version


# -- decisions ---------------------------------------------------------------------------

class DecisionOut(Schema):
    id: int
    application: int
    household: int
    kind: str
    reasons: str
    annual_amount: Decimal
    monthly_amount: Decimal
    effective_from: dt.date | None
    decided_by: str
    decided_at: dt.datetime
    assessment: int | None
    case: dict[str, Any] = Field(description="The engine's input as stored (ID numbers masked).")
    result: dict[str, Any] = Field(description="The engine's output and trace as stored.")
    parameters: list[Any] = Field(description="The parameter values used, with their dates and sources.")
    explanation_zh: list[Any]
    explanation_en: list[Any]
