"""The demo's applications: one story per household that applies, told through the real
casework services with back-dated days, so deadlines, timelines and audit entries are
what the procedure would have produced.

Every story is a scenario (the state it ends in and how it got there). Each one is laid
out on the working-day calendar backwards from today; then the steps of all stories are
played in date order with the clock set to that day, so the audit log reads in order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.calendar import add_days, add_working_days, is_working_day
from jiuzhu.casework import services
from jiuzhu.casework.models import FINAL_STATES, Application, Channel, Objection
from jiuzhu.demo.households import COMFORTABLE, LOW, DemoHousehold

_STEPS_TO_ASSESS = ("accept", "investigate", "visit", "assess")
_STEPS_TO_NOTICE = (*_STEPS_TO_ASSESS, "first_review", "notice")


@dataclass(frozen=True)
class Scenario:
    """A kind of story: its share of the applications, the household it needs, when it was
    accepted (a range of working days before today; None: not yet) and the steps after
    the intake, in order."""

    key: str
    weight: float
    profile: str
    accepted_ago: tuple[int, int] | None
    steps: tuple[str, ...]
    composition: str = ""
    programmes: tuple[str, ...] = ("dibao",)
    relative: bool = False
    fixed: int = 0  # this many, whatever the county's size


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("received", 7, LOW, None, ()),
    Scenario("received_two_programmes", 2, LOW, None, (), programmes=("dibao", "temporary_expenditure")),
    Scenario("accepted", 3, LOW, (0, 1), ("accept",)),
    Scenario("accepted_overdue", 2, LOW, (6, 12), ("accept",)),
    Scenario("investigating", 6, LOW, (2, 8), ("accept", "investigate")),
    Scenario("investigating_visited", 2, LOW, (4, 10), ("accept", "investigate", "visit")),
    Scenario("investigating_overdue", 5, LOW, (18, 35), ("accept", "investigate")),
    Scenario("clock_stopped", 3, LOW, (6, 15), ("accept", "investigate", "clock_stop_recent")),
    Scenario("clock_resumed", 1, LOW, (9, 14), ("accept", "investigate", "clock_stop", "clock_resume", "visit")),
    Scenario("assessed", 5, LOW, (3, 7), _STEPS_TO_ASSESS),
    Scenario("first_review", 4, LOW, (4, 8), (*_STEPS_TO_ASSESS, "first_review")),
    Scenario("notice", 5, LOW, (5, 8), _STEPS_TO_NOTICE),
    Scenario("notice_ended", 2, LOW, (13, 16), _STEPS_TO_NOTICE),
    Scenario("objection", 2, LOW, (7, 9), (*_STEPS_TO_NOTICE, "objection")),
    Scenario("recheck", 2, LOW, (10, 14), (*_STEPS_TO_NOTICE, "objection", "recheck")),
    Scenario("approved", 4, LOW, (12, 15), (*_STEPS_TO_NOTICE, "decide")),
    Scenario("refused", 6, COMFORTABLE, (14, 60), (*_STEPS_TO_NOTICE, "decide")),
    Scenario("refused_after_objection", 1, LOW, (16, 60), (*_STEPS_TO_NOTICE, "objection", "recheck", "decide")),
    Scenario("enrolled", 21, LOW, (17, 250), (*_STEPS_TO_NOTICE, "decide", "enrol")),
    # Paid for a year or more: due for the periodic review whatever their review class (§9).
    Scenario("enrolled_review_due", 4, LOW, (268, 290), (*_STEPS_TO_NOTICE, "decide", "enrol")),
    # Tekun stays before the means test: Da'an has no care-support amounts in its parameters yet.
    Scenario("tekun_investigating", 2, LOW, (2, 8), ("accept", "investigate"), composition="single_elderly",
             programmes=("tekun",)),
    Scenario("withdrawn", 2, LOW, (2, 25), ("accept", "investigate", "withdraw")),
    Scenario("withdrawn_before_acceptance", 1, COMFORTABLE, None, ("withdraw",)),
    Scenario("relative_flagged", 0, LOW, (4, 8), ("accept", "investigate", "county_visit", "assess", "first_review"),
             relative=True, fixed=1),
    Scenario("relative_flagged_received", 0, LOW, None, (), relative=True, fixed=1),
)

#: Scenarios whose outcome is a refusal although the household may be eligible.
_REFUSED_ON_OBJECTION = {"refused_after_objection"}

#: The order of the steps within a day, so a same-day intake comes before its acceptance.
_STEP_ORDER = {name: i for i, name in enumerate(
    ("intake", "accept", "investigate", "clock_stop", "clock_stop_recent", "clock_resume", "visit", "county_visit",
     "assess", "first_review", "notice", "objection", "recheck", "decide", "enrol", "withdraw"))}

FINDINGS = (
    "家中主要劳动力患病，无稳定收入，住房为砖瓦房，家具陈旧。",
    "申请人年老体弱，子女在外地，生活来源主要为养老金和土地流转收入。",
    "家庭成员有残疾，需要长期服药，医疗支出较大。",
    "住房简陋，冬季取暖困难，家庭收入主要靠零散务工。",
    "户主丧失劳动能力，配偶照料家人，无其他收入来源。",
)
MISSING_ITEMS = ("户口簿复印件", "残疾证复印件", "医疗费用票据", "土地流转合同", "银行存折复印件")
OBJECTIONS = ("群众反映该户子女在外地务工，收入较高。", "有村民反映该户有一辆小型汽车。",
              "邻居反映该户家中经营小卖部。")


def scenario_counts(applications: int) -> list[tuple[Scenario, int]]:
    """How many stories of each scenario: by weight, at least one of each."""
    total = sum(s.weight for s in SCENARIOS)
    return [(s, s.fixed or max(1, round(applications * s.weight / total))) for s in SCENARIOS]


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The day n working days before `day` (n = 0: `day` itself, moved back to a working day)."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    for _ in range(n):
        day -= dt.timedelta(days=1)
        while not is_working_day(day):
            day -= dt.timedelta(days=1)
    return day


def _next_working_day(day: dt.date, n: int = 1) -> dt.date:
    return add_working_days(day, n).date


@dataclass
class Story:
    """One household's application, its staff and the dated steps it goes through."""

    scenario: Scenario
    demo: DemoHousehold
    staff: dict[str, User]
    rng_seed: int
    dates: dict[str, dt.date] = field(default_factory=dict)
    applications: list[Application] = field(default_factory=list)
    refuse: bool = False

    @property
    def application(self) -> Application:
        return self.applications[0]


def lay_out(scenario: Scenario, rng_seed: int, today: dt.date) -> dict[str, dt.date]:
    """Give every step of a story a working day, the last one on or before today."""
    rng = random.Random(rng_seed)
    gaps = [rng.choice((1, 1, 1, 2)) for _ in scenario.steps]
    lead = rng.randint(0, 2)
    if scenario.accepted_ago is None:
        intake = working_days_before(today, rng.randint(0, 3) + (3 if scenario.steps else 0))
        if scenario.steps:  # a withdrawal before acceptance
            return {"intake": intake, "withdraw": _next_working_day(intake, rng.randint(1, 3))}
        return {"intake": intake}
    ago = rng.randint(*scenario.accepted_ago)
    while True:
        accept = working_days_before(today, ago)
        dates = {"intake": working_days_before(accept, lead), "accept": accept}
        cursor = accept
        for step, gap in zip(scenario.steps[1:], gaps[1:], strict=True):
            if step == "decide" and "notice" in dates and "objection" not in dates:
                cursor = _next_working_day(add_days(dates["notice"], 7).date)  # after the notice ends
            elif step == "clock_stop_recent":
                cursor = max(_next_working_day(cursor), working_days_before(today, rng.randint(1, 4)))
            else:
                cursor = _next_working_day(cursor, gap)
            dates[step] = cursor
        if cursor <= today:
            return dates
        ago += max(1, (cursor - today).days)


@contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Run the services as if it were `moment`: their `today()`, `auto_now` fields and
    audit entries all read `timezone.now()`."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@dataclass(order=True)
class Event:
    day: dt.date
    order: int
    story_index: int
    step: str = field(compare=False)
    stories: list[Story] = field(compare=False, default_factory=list)


def events_of(stories: list[Story]) -> list[Event]:
    """Every step of every story in date order; one notice per village and day."""
    events: list[Event] = []
    notices: dict[tuple[dt.date, str], Event] = {}
    for index, story in enumerate(stories):
        for step, day in story.dates.items():
            if step == "notice":
                key = (day, story.demo.household.area_id)
                if key not in notices:
                    notices[key] = Event(day, _STEP_ORDER[step], index, step)
                    events.append(notices[key])
                notices[key].stories.append(story)
            else:
                events.append(Event(day, _STEP_ORDER[step], index, step, [story]))
    return sorted(events)


def _moment(day: dt.date, slot: int, now: dt.datetime) -> dt.datetime:
    """A time in office hours for the n-th event of a day, never later than `now`."""
    start = dt.datetime.combine(day, dt.time(8, 30), timezone.get_current_timezone())
    return min(start + dt.timedelta(seconds=97 * slot), now - dt.timedelta(seconds=1))


def _signature(person_name: str) -> str:
    return f"{person_name}（本人签字）"


def play(events: list[Event], today: dt.date, now: dt.datetime) -> None:
    """Play the events in order, each with the clock set to its day."""
    slots: dict[dt.date, int] = {}
    for event in events:
        slot = slots[event.day] = slots.get(event.day, -1) + 1
        with clock_at(_moment(event.day, slot, now)):
            _run(event, event.day)


def _intake(story: Story, rng: random.Random, on: dt.date) -> None:
    """一门受理 at the village window (or the township one), with every adult's consent."""
    demo, entered_by = story.demo, story.staff["entered_by"]
    facts: dict[str, Any] = {}
    if "tekun" in story.scenario.programmes:
        facts = {"members": {str(demo.head.pk): {"has_income_source": False, "has_able_supporter": False,
                                                  "self_care_items_failed": rng.randint(0, 5)}}}
    village = entered_by.role == Role.VILLAGE_WORKER
    intake = services.intake_submit(
        by=entered_by, household=demo.household, applicant=demo.head, programmes=list(story.scenario.programmes),
        channel=Channel.VILLAGE if village else rng.choice((Channel.TOWNSHIP, Channel.ONLINE)),
        consents=[services.ConsentData(p, signature=_signature(p.name)) for p in demo.adults(on)], truth_promise=True,
        missing_items=rng.sample(MISSING_ITEMS, rng.choice((0, 0, 1, 2))), facts=facts, on=on)
    story.applications = list(intake.applications.order_by("pk"))


def _run(event: Event, on: dt.date) -> None:
    step = event.step
    story = event.stories[0]
    rng = random.Random(story.rng_seed * 31 + _STEP_ORDER[step])
    if step == "intake":
        _intake(story, rng, on)
        return
    for each in event.stories:
        for held in each.applications:
            held.refresh_from_db()
    application = story.application
    staff, demo = story.staff, story.demo
    officer, worker = staff["officer"], staff["worker"]
    if step == "accept":
        services.accept(by=officer, application=application, on=on)
    elif step == "investigate":
        services.investigation_start(by=officer, application=application, on=on)
    elif step in ("clock_stop", "clock_stop_recent"):
        services.clock_stop(by=officer, application=application, on=on,
                            reason=f"请申请人补交：{rng.choice(MISSING_ITEMS)}")
    elif step == "clock_resume":
        services.clock_resume(by=officer, application=application, on=on)
    elif step in ("visit", "county_visit"):
        county = step == "county_visit"
        services.visit_record(by=officer, application=application, visited_on=on, signed_on=on,
                              investigators=[officer, staff["supervisor"] if county else worker],
                              findings=rng.choice(FINDINGS), living_conditions="",
                              signed_by_household=demo.head.name, county_visit=county)
    elif step == "assess":
        assessment = services.assess(by=officer, application=application, on=on)
        story.refuse = not assessment.eligible or story.scenario.key in _REFUSED_ON_OBJECTION
    elif step == "first_review":
        refuse = story.refuse and story.scenario.key not in _REFUSED_ON_OBJECTION
        reason = "家庭人均收入高于保障标准" if refuse else "经入户调查和核对，家庭人均收入低于保障标准"
        services.first_review(by=officer, application=application, opinion="refuse" if refuse else "approve",
                              reason=reason, on=on)
    elif step == "notice":
        services.notice_publish(by=officer, applications=[s.application for s in event.stories], on=on)
    elif step == "objection":
        services.objection_record(by=worker, application=application, content=rng.choice(OBJECTIONS),
                                  raised_by="村民（匿名）", received_on=on)
    elif step == "recheck":
        objection = Objection.objects.filter(application=application, resolved_on__isnull=True).latest("pk")
        found = story.scenario.key in _REFUSED_ON_OBJECTION
        services.objection_resolve(by=officer, objection=objection, method=rng.choice(("recheck", "appraisal")),
                                   outcome="经核实反映情况属实" if found else "经核实反映情况不属实，维持初审意见",
                                   on=on)
    elif step == "decide":
        refuse = story.refuse
        services.decide(by=staff["approver"], application=application, approve=not refuse, on=on,
                        reasons="家庭人均收入高于保障标准，不符合条件" if refuse else "公示无异议，符合条件，同意")
    elif step == "enrol" and not story.refuse:
        services.enrol(by=officer, application=application, on=on)
    elif step == "withdraw":
        services.withdraw(by=worker, application=application, reason="申请人书面申请撤回", on=on)


def relatives_declared(stories: list[Story], extra: list[DemoHousehold], now: dt.datetime, on: dt.date) -> int:
    """近亲属备案: the second officer of each township declares the head of each flagged
    story's household; two village workers declare relatives who have not applied."""
    count = 0
    with clock_at(_moment(on, 0, now)):
        for story in (s for s in stories if s.scenario.relative):
            declarant = story.staff["declarant"]
            services.relative_declare(by=declarant, area_code=declarant.area_id or "", declarant=declarant,
                                      declarant_name=declarant.first_name, declarant_post="乡镇民政干事",
                                      relative_name=story.demo.head.name,
                                      relative_id_number=story.demo.head.id_number, relation="兄弟姐妹")
            count += 1
        for demo in extra:
            worker = User.objects.get(area_id=demo.household.area_id, username__startswith="village.")
            services.relative_declare(by=worker, area_code=worker.area_id or "", declarant=worker,
                                      declarant_name=worker.first_name, declarant_post="村委会委员",
                                      relative_name=demo.head.name, relative_id_number=demo.head.id_number,
                                      relation="配偶的兄弟姐妹")
            count += 1
    return count


def overdue_count(today: dt.date) -> int:
    """Open applications past their step deadline with the clock running."""
    return (Application.objects.filter(step_deadline__lt=today, clock_stopped=False)
            .exclude(state__in=FINAL_STATES).count())
