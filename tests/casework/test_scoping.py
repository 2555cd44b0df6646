"""Every page of casework, registry and areas keeps a user of another township out.

The URL patterns are read from the resolver, so a page added later is covered without
touching this test. Each path parameter is filled with every primary key of township A's
records (households, persons, applications, notices, ...), so whichever record a pattern
names, it is tried. Township B holds no records at all: any page that answers B's user
with something other than 403/404 (405 for a method the page does not take) would be
showing A's data, and no answer may contain A's names, ID numbers or file numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import dynamic, services
from jiuzhu.casework.models import Application, ChangeReport
from jiuzhu.registry.masking import mask_name
from jiuzhu.registry.models import Household, IncomeRecord, Person, Source
from tests import factories as f
from tests.casework.test_views_lists import MONDAY, signed_in

pytestmark = pytest.mark.django_db

NAMESPACES = ("casework", "registry", "areas", "verification", "verification_centre", "dci_pages")
#: Values tried for string parameters whose meaning the test knows; others get "x".
STRING_CANDIDATES: dict[str, list[str]] = {
    "kind": ["person", "household"],
    "field": ["id_number", "phone", "bank_account"],
}
ALLOWED_REFUSALS = {403, 404}


@dataclass(frozen=True)
class Route:
    namespace: str
    name: str
    route: str  # "work/households/<int:pk>/"
    converters: dict[str, Any]


def routes(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Every path pattern under the three namespaces, with its full route and converters."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern),
                              pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace in NAMESPACES:
            yield Route(namespace, pattern.name or "", prefix + str(pattern.pattern),
                        dict(getattr(pattern.pattern, "converters", {})))


def fill(route: Route, int_values: list[int]) -> Iterator[str]:
    """Every URL of the route with its parameters taken from the candidates."""
    params = re.findall(r"<(?:\w+:)?(\w+)>", route.route)
    choices = [[str(v) for v in int_values] if isinstance(route.converters.get(p), IntConverter)
               else STRING_CANDIDATES.get(p, ["x"]) for p in params]
    for values in itertools.product(*choices):
        url = route.route
        for value in values:
            url = re.sub(r"<(?:\w+:)?\w+>", value, url, count=1)
        yield "/" + url


def township_a() -> dict[str, Any]:
    """A's records: a household taken through the whole procedure (notice, objection,
    decision, enrolment), a second with a fresh application and a declared relative."""
    f.county_tree()
    s = {"worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE), "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
         "approver": f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP), "county": f.user(Role.COUNTY_SUPERVISOR, f.COUNTY)}
    head = f.person("甄秘密", dt.date(1970, 3, 1), "male", phone="13912345678")
    spouse = f.person("贾隐私", dt.date(1972, 5, 1), "female")
    child = f.person("甄小密", dt.date(2015, 1, 1), "male")
    first = f.household(f.VILLAGE, [(head, "head"), (spouse, "spouse"), (child, "child")])
    Household.objects.filter(pk=first.pk).update(address="永胜村秘密巷9号", bank_account="6228480012345678901")
    IncomeRecord.objects.create(household=first, kind="land_transfer", amount=Decimal("3200"), source=Source.DECLARED)
    consents = [services.ConsentData(p, signature="签名") for p in (head, spouse)]
    intake = services.intake_submit(by=s["worker"], household=first, applicant=head, programmes=["dibao"],
                                    channel="village", consents=consents, truth_promise=True,
                                    missing_items=["户口簿复印件"], on=MONDAY)
    application = intake.applications.get()
    services.accept(by=s["officer"], application=application, on=MONDAY)
    services.clock_stop(by=s["officer"], application=application, reason="缺少病历", on=MONDAY)
    services.clock_resume(by=s["officer"], application=application, on=dt.date(2026, 11, 3))
    services.investigation_start(by=s["officer"], application=application, on=dt.date(2026, 11, 3))
    services.visit_record(by=s["officer"], application=application, visited_on=dt.date(2026, 11, 3),
                          investigators=[s["officer"], s["worker"]], findings="家中无劳动力",
                          signed_by_household="甄秘密", signed_on=dt.date(2026, 11, 3))
    services.assess(by=s["officer"], application=application, on=dt.date(2026, 11, 4))
    services.first_review(by=s["officer"], application=application, opinion="approve", reason="符合条件",
                          on=dt.date(2026, 11, 4))
    services.notice_publish(by=s["officer"], applications=[application], on=dt.date(2026, 11, 5))
    objection = services.objection_record(by=s["officer"], application=application, content="有车",
                                          received_on=dt.date(2026, 11, 6))
    services.objection_resolve(by=s["officer"], objection=objection, method="recheck", outcome="车已报废",
                               on=dt.date(2026, 11, 9))
    application.refresh_from_db()
    services.decide(by=s["approver"], application=application, approve=True, reasons="复查无误",
                    on=dt.date(2026, 11, 13))
    services.enrol(by=s["officer"], application=application, on=dt.date(2026, 11, 16))
    dynamic.change_report(by=s["officer"], household=first, kind="income", occurred_on=dt.date(2026, 11, 20),
                          description="打零工", reported_on=dt.date(2026, 11, 21))

    lone = f.person("甄独居", dt.date(1950, 2, 1), "female")
    second = f.household(f.VILLAGE, [(lone, "head")])
    services.relative_declare(by=s["officer"], area_code=f.TOWNSHIP, declarant=s["officer"], declarant_name="干部",
                              declarant_post="乡镇干部", relative_name=lone.name, relative_id_number=lone.id_number,
                              relation="母子")
    services.intake_submit(by=s["worker"], household=second, applicant=lone, programmes=["dibao"],
                           channel="village", consents=[services.ConsentData(lone, signature="签名")],
                           truth_promise=True, on=MONDAY)
    assert Application.objects.count() == 2 and ChangeReport.objects.exists()

    people = list(Person.objects.all())
    households = list(Household.objects.all())
    secrets = ([p.name for p in people] + [mask_name(p.name) for p in people] + [p.id_number for p in people]
               + [h.number for h in households] + ["永胜村秘密巷", "13912345678", "6228480012345678901"])
    return {"staff": s, "secrets": secrets, "household": first}


def candidate_pks() -> list[int]:
    """Every primary key of every record of the registry and casework apps."""
    values: set[int] = set()
    for label in ("registry", "casework"):
        for model in apps.get_app_config(label).get_models():
            if model._meta.pk is not None and model._meta.pk.get_internal_type() in (
                    "AutoField", "BigAutoField", "IntegerField"):
                values.update(model.objects.values_list("pk", flat=True))
    values.update(User.objects.values_list("pk", flat=True))
    return sorted(values)


def outsider() -> Client:
    """The most capable township role, in township B (which holds no records)."""
    return signed_in(f.user(Role.TOWNSHIP_APPROVER, f.OTHER_TOWNSHIP))


def test_the_resolver_lists_the_pages_of_all_three_apps() -> None:
    names = {(r.namespace, r.name) for r in routes()}
    for expected in [("casework", "queue"), ("casework", "household"), ("casework", "notice_print"),
                     ("registry", "search"), ("registry", "show_sensitive"), ("areas", "calendar")]:
        assert expected in names


def test_a_user_of_township_a_does_see_the_secrets_so_the_check_below_means_something() -> None:
    a = township_a()
    html = signed_in(a["staff"]["officer"]).get(f"/work/households/{a['household'].pk}/").content.decode()
    assert "甄秘密" in html and a["household"].number in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_page_answers_a_user_of_another_township_with_404_or_403_and_never_data(method: str) -> None:
    a = township_a()
    pks = candidate_pks()
    client = outsider()
    problems: list[str] = []
    checked = 0
    for route in routes():
        for url in fill(route, pks):
            for headers in ({}, {"HX-Request": "true"}):
                response = getattr(client, method)(url, {"x": "1"}, headers=headers)
                checked += 1
                body = response.content.decode(errors="replace")
                leaked = [s for s in a["secrets"] if s in body]
                if leaked:
                    problems.append(f"{method.upper()} {url}: shows {leaked[:3]}")
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {url}: {response.status_code}")
                elif route.converters and response.status_code not in ALLOWED_REFUSALS | {405}:
                    problems.append(f"{method.upper()} {url}: {response.status_code}, not 403/404")
    assert checked > 100
    assert not problems, "\n".join(problems[:40])


def test_every_page_with_a_record_refuses_the_outsider_for_at_least_one_method() -> None:
    """405 is fine for the method a page does not take, but not for both: then nothing was checked."""
    township_a()
    pks = candidate_pks()
    client = outsider()
    unchecked = []
    for route in routes():
        if not route.converters:
            continue
        statuses = {getattr(client, method)(url).status_code for url in fill(route, pks[:3]) for method in
                    ("get", "post")}
        if not statuses & ALLOWED_REFUSALS:
            unchecked.append(f"{route.namespace}:{route.name} {sorted(statuses)}")
    assert not unchecked
