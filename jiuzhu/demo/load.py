"""Loading the demo county in one transaction, once.

The load is refused on a database that already holds households (the demo must never
mix with real cases), and a second run finds its own summary audit entry ("demo.load")
and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.models import Area, Level
from jiuzhu.areas.services import load_divisions
from jiuzhu.casework.models import Application, Enrolment, Notice, RelativeDeclaration
from jiuzhu.demo import cases, households, people, verification
from jiuzhu.demo.staff import DemoAccount, create_accounts, demo_accounts
from jiuzhu.registry.models import Household, Person
from jiuzhu.verification.models import Finding, VerificationRequest

COUNTY = "220882"
DIVISIONS_FILE = Path(__file__).resolve().parent.parent / "areas" / "data" / "areas_220882.csv"


def department_files_dir() -> Path:
    """Where the fake departments' answer files (and planted.json) of the demo round are kept."""
    return Path(os.environ.get("JIUZHU_DEMO_DEPARTMENTS", str(Path(settings.BASE_DIR) / "var" / "demo_departments")))

DEFAULT_HOUSEHOLDS = 2000
DEFAULT_SEED = 2026
#: The share of households with an application, as in a county's caseload over a year.
APPLYING_SHARE = 0.1
#: Households below the standard, applying or not (proactive discovery has work to do).
BELOW_STANDARD_SHARE = 0.15
EDGE_SHARE = 0.06
MARKER = "demo.load"


class DemoRefused(Exception):
    """The database holds data that is not the demo's: loading would mix the two."""


@dataclass
class DemoResult:
    loaded: bool  # False when the demo was already there
    seed: int
    seconds: float
    counts: dict[str, int]
    states: dict[str, int]
    accounts: list[DemoAccount] = field(default_factory=list)
    verification: verification.VerificationRound | None = None  # the demo's verification round, when loaded now


def already_loaded() -> dict[str, Any] | None:
    """The summary the first load recorded, or None when the demo is not loaded."""
    entry = AuditEntry.objects.filter(action=MARKER).order_by("id").first()
    return dict(entry.after or {}) if entry is not None else None


def current_counts(today: dt.date) -> tuple[dict[str, int], dict[str, int]]:
    """What the database holds now: totals, and applications by state."""
    states = dict(sorted(Counter(Application.objects.values_list("state", flat=True)).items()))
    counts = {
        "townships": Area.objects.filter(code__startswith=COUNTY, level=Level.TOWNSHIP).count(),
        "villages": Area.objects.filter(code__startswith=COUNTY, level=Level.VILLAGE).count(),
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "disabled": Person.objects.filter(disability_grade__isnull=False).count(),
        "applications": sum(states.values()),
        "overdue": cases.overdue_count(today),
        "clock_stopped": Application.objects.filter(clock_stopped=True).count(),
        "relative_flagged": Application.objects.filter(relative_flag=True).count(),
        "relatives_declared": RelativeDeclaration.objects.count(),
        "notices": Notice.objects.count(),
        "verification_requests": VerificationRequest.objects.count(),
        "verification_findings": Finding.objects.count(),
        "reviews_due_30_days": Enrolment.objects.filter(active=True,
                                                        review_due__lte=today + dt.timedelta(days=30)).count(),
        "users": User.objects.count(),
    }
    return counts, states


def _plans(rng: random.Random, total: int, stories: list[cases.Scenario]) -> tuple[list[households.HouseholdPlan],
                                                                                    list[int]]:
    """A plan per household; the applying ones at random places. Returns the plans and
    the index of each story's household."""
    slots = rng.sample(range(total), len(stories))
    plans: list[households.HouseholdPlan | None] = [None] * total
    for slot, scenario in zip(slots, stories, strict=True):
        assessed = "assess" in scenario.steps
        plans[slot] = households.HouseholdPlan(scenario.profile, scenario.composition,
                                               verified=assessed and rng.random() < 0.5)
    low_left = max(0, round(total * BELOW_STANDARD_SHARE) - sum(s.profile == households.LOW for s in stories))
    free = [i for i, p in enumerate(plans) if p is None]
    rng.shuffle(free)
    for n, i in enumerate(free):
        profile = (households.LOW if n < low_left else households.EDGE if n < low_left + total * EDGE_SHARE
                   else households.COMFORTABLE)
        plans[i] = households.HouseholdPlan(profile)
    return [p for p in plans if p is not None], slots


def _staff_for(rng: random.Random, story: cases.Scenario, village: str, by_area: dict[str, list[User]]
               ) -> dict[str, User]:
    """Who handles a story: the village's worker, one township officer (the other one
    enters some intakes at the township window), the township approver, the county."""
    township = village[:9]
    officers = sorted((u for u in by_area[township] if u.role == Role.TOWNSHIP_OFFICER), key=lambda u: u.username)
    worker = next(u for u in by_area[village] if u.role == Role.VILLAGE_WORKER)
    if story.relative:  # the second officer declared the relative, so the first one handles the case
        officer, other = officers[0], officers[1]
    else:
        officer, other = rng.sample(officers, 2)
    return {
        "officer": officer, "worker": worker, "declarant": other,
        "entered_by": worker if rng.random() < 0.7 or story.relative else other,
        "approver": next(u for u in by_area[township] if u.role == Role.TOWNSHIP_APPROVER),
        "supervisor": next(u for u in by_area[COUNTY] if u.role == Role.COUNTY_SUPERVISOR),
    }


def load_demo(*, households_count: int = DEFAULT_HOUSEHOLDS, seed: int = DEFAULT_SEED,
              log: Callable[[str], None] | None = None, department_files: Path | None = None) -> DemoResult:
    """Load the demo county, or report that it is already there. Raises DemoRefused on a
    database with other households, ValueError when `households_count` is too small for
    one application of every kind."""
    started = time.perf_counter()
    say = log or (lambda _message: None)
    now = timezone.localtime()
    today = now.date()
    summary = already_loaded()
    if summary is not None:
        counts, states = current_counts(today)
        stored_seed = int(summary.get("seed", seed))
        return DemoResult(False, stored_seed, time.perf_counter() - started, counts, states,
                          demo_accounts(COUNTY, stored_seed))
    existing = Household.objects.count()
    if existing:
        raise DemoRefused(f"the database already holds {existing} households; the demo county loads only into a "
                          f"database without households (use a new DATABASE_URL or file)")

    rng = random.Random(seed)
    planned = [s for s, n in cases.scenario_counts(round(households_count * APPLYING_SHARE)) for _ in range(n)]
    if households_count < len(planned) * 2:
        raise ValueError(f"at least {len(planned) * 2} households are needed for one application of every kind")

    say(f"loading the demo county: {households_count} households, seed {seed} …")
    with transaction.atomic():
        seeds = [rng.randrange(1 << 30) for _ in planned]
        layouts = [cases.lay_out(scenario, story_seed, today)
                   for scenario, story_seed in zip(planned, seeds, strict=True)]
        first_day = min(dates["intake"] for dates in layouts)
        go_live = first_day - dt.timedelta(days=30)
        since = dt.date(go_live.year - 8, 1, 1)

        with cases.clock_at(dt.datetime.combine(go_live, dt.time(9, 0), timezone.get_current_timezone())):
            load_divisions(DIVISIONS_FILE)
            accounts = demo_accounts(COUNTY, seed)
            users = create_accounts(accounts)
            plans, slots = _plans(rng, households_count, planned)
            villages = list(Area.objects.filter(code__startswith=COUNTY, level=Level.VILLAGE).order_by("code"))
            tick = time.perf_counter()
            demos = households.build_registry(rng, villages, plans, today, people.IdNumbers(rng, COUNTY), since)
            registry = households.counts(demos)
            audit.record(actor=None, action="registry.demo_load", object_type="registry.household",
                         object_id=COUNTY, area=COUNTY, after=registry,
                         reason="demo county: households, members and declared facts loaded in bulk")
            say(f"registry: {registry['households']} households, {registry['persons']} persons "
                f"in {time.perf_counter() - tick:.1f} s")

        by_area: dict[str, list[User]] = {}
        for user in users.values():
            by_area.setdefault(user.area_id or "", []).append(user)
        stories = [cases.Story(scenario, demos[slot], _staff_for(rng, scenario, demos[slot].household.area_id, by_area),
                               story_seed, dates)
                   for scenario, slot, story_seed, dates in zip(planned, slots, seeds, layouts, strict=True)]
        applying = set(slots)
        others = [d for i, d in enumerate(demos) if i not in applying and len(d.members) > 1]
        cases.relatives_declared(stories, rng.sample(others, min(2, len(others))), now,
                                 go_live + dt.timedelta(days=7))
        tick = time.perf_counter()
        cases.play(cases.events_of(stories), today, now)
        say(f"casework: {len(stories)} households' applications in {time.perf_counter() - tick:.1f} s")

        tick = time.perf_counter()
        round_ = verification.run_round(county=COUNTY, today=today, seed=seed,
                                        out=department_files or department_files_dir())
        say(f"verification: {round_.requests} requests, {len(round_.files)} department files imported, findings "
            + ", ".join(f"{k} {v}" for k, v in round_.findings.items())
            + f"; {round_.reviews_opened} reviews opened in {time.perf_counter() - tick:.1f} s")
        say("verification against the planted problems: " + ", ".join(
            f"{name} {s['hits']}/{s['planted']} found, precision {s['precision']:.2f}"
            for name, s in round_.scores.items()))

        counts, states = current_counts(today)
        audit.record(actor=None, action=MARKER, object_type="areas.area", object_id=COUNTY, area=COUNTY,
                     after={"seed": seed, "households": households_count, "counts": counts, "states": states},
                     reason="demo county (made-up data; not for real cases)")
    refresh_statistics()
    return DemoResult(True, seed, time.perf_counter() - started, counts, states, accounts, round_)


def refresh_statistics() -> None:
    """After a bulk load PostgreSQL's planner takes the tables for nearly empty until
    autovacuum gets round to them, and picks plans that make a name search take 80 ms
    instead of 3; ANALYZE gives it the real sizes at once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
