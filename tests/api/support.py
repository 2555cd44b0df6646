"""Helpers for the API tests: a JSON client holding a user's token, staff of two townships,
and an application taken through the procedure by the services (the arrangement; the
API is what the tests then exercise)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from jiuzhu.accounts.models import ApiToken, User
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, Decision
from jiuzhu.registry.models import Household
from tests import factories as f

MONDAY = dt.date(2026, 11, 2)


class Api:
    """A test client that sends `Authorization: Bearer <token>` and JSON bodies."""

    def __init__(self, user: User | None = None, token: str | None = None, language: str = "en"):
        if token is None and user is not None:
            _, token = ApiToken.issue(user, "tests")
        headers = {"Accept-Language": language}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.client = Client(headers=headers)
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        url = path if path.startswith("/api/") else "/api/v1" + path
        if body is None:
            return self.client.generic(method.upper(), url)
        return self.client.generic(method.upper(), url, json.dumps(body, default=str),
                                   content_type="application/json")

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body)


def staff() -> dict[str, User]:
    f.county_tree()
    return {
        "worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE),
        "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "officer2": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "approver": f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP),
        "county": f.user(Role.COUNTY_SUPERVISOR, f.COUNTY),
        "stranger": f.user(Role.TOWNSHIP_APPROVER, f.OTHER_TOWNSHIP),
    }


def intake_body(household: Household, programmes: tuple[str, ...] = ("dibao",)) -> dict[str, Any]:
    members = list(household.memberships.select_related("person"))
    head = next(m.person for m in members if m.relation == "head")
    return {"household": household.pk, "applicant": head.pk, "programmes": list(programmes), "channel": "village",
            "consents": [{"person": m.person.pk, "signature": "签名"} for m in members
                         if m.person.age_on(dt.date.today()) >= 18],
            "truth_promise": True, "missing_items": ["户口簿复印件"]}


def decided_application(people: dict[str, User]) -> tuple[Application, Decision]:
    """An approved dibao application of a poor family in township A, by the services."""
    household = f.poor_family()
    members = household.memberships.select_related("person")
    consents = [services.ConsentData(m.person, signature="签名") for m in members if m.person.age_on(MONDAY) >= 18]
    intake = services.intake_submit(by=people["worker"], household=household,
                                    applicant=members.get(relation="head").person, programmes=["dibao"],
                                    channel="village", consents=consents, truth_promise=True, on=MONDAY)
    application = intake.applications.get()
    services.accept(by=people["officer"], application=application, on=MONDAY)
    services.investigation_start(by=people["officer"], application=application, on=MONDAY)
    services.visit_record(by=people["officer"], application=application, visited_on=dt.date(2026, 11, 3),
                          investigators=[people["officer"], people["worker"]], findings="家中无劳动力",
                          signed_by_household="王大明", signed_on=dt.date(2026, 11, 3))
    services.assess(by=people["officer"], application=application, on=dt.date(2026, 11, 4))
    services.first_review(by=people["officer"], application=application, opinion="approve", reason="符合条件",
                          on=dt.date(2026, 11, 4))
    services.notice_publish(by=people["officer"], applications=[application], on=dt.date(2026, 11, 5))
    decision = services.decide(by=people["approver"], application=application, approve=True, reasons="公示无异议",
                               on=dt.date(2026, 11, 13))
    application.refresh_from_db()
    return application, decision
