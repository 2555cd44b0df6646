"""Every API route, found in the OpenAPI document (so a new route is covered the day it is
added): a user of another township gets 404 or 403 for township A's objects — never
their data — and collections simply do not contain them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from jiuzhu.accounts.roles import Role
from jiuzhu.api.api import api as ninja_api
from tests import factories as f
from tests.api.support import Api, decided_application, intake_body, staff

pytestmark = pytest.mark.django_db

#: Collections answer 200 with what is in the caller's area, filtered here towards A's village.
COLLECTIONS = {"list_households": f"?area={f.VILLAGE}", "list_applications": "?state=approved"}


def _operations() -> list[tuple[str, str, str]]:
    document = ninja_api.get_openapi_schema(path_prefix="/api/v1/")
    return [(method.upper(), path, spec["operationId"]) for path, methods in document["paths"].items()
            for method, spec in methods.items()]


def _bodies(a: dict[str, Any]) -> dict[str, Any]:
    """A valid body for each operation that takes one, all aimed at township A."""
    newcomer = f.id_number(dt.date(1990, 5, 5))
    today = timezone.localdate().isoformat()
    return {
        "create_household": {"area": f.VILLAGE, "area_type": "rural", "members": [
            {"id_number": newcomer, "name": "外来人", "sex": "male", "birth_date": "1990-05-05",
             "hukou_type": "rural", "relation": "head"}]},
        "update_household": {"version": a["household"].version, "address": "改地址"},
        "create_person": {"id_number": newcomer, "name": "外来人", "sex": "male", "birth_date": "1990-05-05",
                          "hukou_type": "rural", "area": f.VILLAGE},
        "update_person": {"version": a["person"].version, "name": "改名"},
        "submit_intake": intake_body(a["other_household"]),
        "move": {"to": "enrolled", "version": a["application"].version},
        "record_visit": {"visited_on": today, "investigators": [a["stranger"].pk, a["stranger_worker"].pk],
                         "findings": "x", "signed_by_household": "x", "signed_on": today},
        "stop_clock": {"version": a["application"].version, "reason": "x"},
        "resume_clock": {"version": a["application"].version},
    }


def test_a_user_of_another_township_gets_404_or_403_on_every_route() -> None:
    people = staff()
    people["stranger_worker"] = f.user(Role.VILLAGE_WORKER, f.OTHER_VILLAGE)
    application, decision = decided_application(people)
    household = application.household
    person = household.memberships.get(relation="head").person
    other_household = f.poor_family()
    a = {"household": household, "person": person, "application": application, "decision": decision,
         "other_household": other_household, "stranger": people["stranger"],
         "stranger_worker": people["stranger_worker"]}
    ids = {"household_id": household.pk, "person_id": person.pk, "application_id": application.pk,
           "decision_id": decision.pk}
    secrets = [household.number, person.name, person.id_number, other_household.number, decision.reasons]
    bodies = _bodies(a)
    operations = _operations()
    assert len(operations) >= 15
    for token_user in ("stranger", "stranger_worker"):
        stranger = Api(people[token_user])
        for method, path, operation in operations:
            url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
            if operation in COLLECTIONS:
                response = stranger.call(method, url + COLLECTIONS[operation])
                assert response.status_code == 200, (operation, response.content)
                assert response.json()["count"] == 0, operation
            else:
                body = bodies.get(operation, {} if method == "POST" else None)
                response = stranger.call(method, url, body)
                assert response.status_code in (403, 404), (token_user, method, path, response.status_code,
                                                            response.content.decode())
                assert set(response.json()) == {"detail"}
            text = response.content.decode()
            for secret in secrets:
                assert secret not in text, (operation, secret)
    household.refresh_from_db()
    person.refresh_from_db()
    assert household.address != "改地址" and person.name != "改名"


def test_the_same_routes_answer_the_areas_own_staff() -> None:
    """The negative test above is only meaningful if the same requests succeed at home."""
    people = staff()
    application, decision = decided_application(people)
    officer = Api(people["officer"])
    assert officer.get(f"/households/{application.household_id}").status_code == 200
    assert officer.get(f"/applications/{application.pk}").status_code == 200
    assert officer.get(f"/decisions/{decision.pk}").status_code == 200
    assert officer.get(f"/households?area={f.VILLAGE}").json()["count"] == 1
    assert officer.get("/applications?state=approved").json()["count"] == 1
