"""The statutory procedure driven entirely through the API, and the duties that guard it
(mirrors tests/casework/test_procedure.py, which drives the services directly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, Notice, State
from tests import factories as f
from tests.api.support import Api, intake_body, staff

pytestmark = pytest.mark.django_db


def _move(api: Api, application_id: int, to: str, **fields: Any) -> Any:
    version = api.get(f"/applications/{application_id}").json()["version"]
    return api.post(f"/applications/{application_id}/transitions", {"to": to, "version": version, **fields})


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.content.decode()
    return response.json()


def _visit(people: dict[str, User]) -> dict[str, Any]:
    today = timezone.localdate().isoformat()
    return {"visited_on": today, "investigators": [people["officer"].pk, people["worker"].pk],
            "findings": "家中无劳动力", "signed_by_household": "王大明", "signed_on": today}


def _end_notice(application_id: int) -> None:
    """The seven days of the notice have passed (the clock is not ours to turn in a test)."""
    Notice.objects.filter(entries__application_id=application_id).update(
        ends_on=timezone.localdate() - dt.timedelta(days=1))


def _to_notice(people: dict[str, User], entered_by: str = "worker") -> int:
    intake = _ok(Api(people[entered_by]).post("/applications", intake_body(f.poor_family())))
    application_id: int = intake["applications"][0]["id"]
    officer = Api(people["officer"])
    _ok(_move(officer, application_id, "accepted"))
    _ok(_move(officer, application_id, "investigating"))
    assessed = _ok(_move(officer, application_id, "assessed", visit=_visit(people)))
    assert assessed["state"] == "assessed" and assessed["visits"] == 1
    _ok(_move(officer, application_id, "first_review", opinion="approve", reason="符合条件"))
    noticed = _ok(_move(officer, application_id, "notice"))
    assert noticed["state"] == "notice"
    return application_id


def test_an_application_goes_from_intake_to_enrolment_through_the_api() -> None:
    people = staff()
    application_id = _to_notice(people)
    _end_notice(application_id)
    approver = Api(people["approver"])
    detail = approver.get(f"/applications/{application_id}").json()
    assert set(detail["allowed_next"]) == {"approved", "refused", "objection", "withdrawn"}
    approved = _ok(_move(approver, application_id, "approved", reasons="公示无异议"))
    assert approved["state"] == "approved" and len(approved["decisions"]) == 1
    enrolled = _ok(_move(Api(people["officer"]), application_id, "enrolled"))
    assert enrolled["state"] == "enrolled"
    assert [t["to_state"] for t in enrolled["transitions"]] == [
        "accepted", "investigating", "assessed", "first_review", "notice", "approved", "enrolled"]

    decisions = _ok(approver.get(f"/applications/{application_id}/decisions"))
    assert len(decisions) == 1
    decision = _ok(approver.get(f"/decisions/{decisions[0]['id']}"))
    assert decision["kind"] == "approve"
    assert float(decision["monthly_amount"]) > 0
    assert decision["explanation_zh"] and decision["parameters"] and decision["result"]["trace"]
    members = decision["case"]["household"]["members"]
    assert all("*" in m["id_number"] for m in members)
    assert audit.verify().ok


def test_the_detail_lists_deadlines_with_their_provisional_flag() -> None:
    people = staff()
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(f.poor_family())))
    application_id = intake["applications"][0]["id"]
    accepted = _ok(_move(Api(people["officer"]), application_id, "accepted"))
    assert accepted["step_deadline"]["date"] > timezone.localdate().isoformat()
    assert isinstance(accepted["step_deadline"]["provisional"], bool)
    assert accepted["final_deadline"]["date"] >= accepted["step_deadline"]["date"]
    assert accepted["allowed_next"] == ["investigating", "withdrawn"]


def test_the_user_who_entered_cannot_approve() -> None:
    people = staff()
    application_id = _to_notice(people, entered_by="approver")
    _end_notice(application_id)
    approver = Api(people["approver"])
    assert "approved" not in approver.get(f"/applications/{application_id}").json()["allowed_next"]
    response = _move(approver, application_id, "approved", reasons="ok")
    assert response.status_code == 403
    assert "entered" in response.json()["detail"]
    assert Application.objects.get(pk=application_id).state == State.NOTICE


def test_a_relative_cannot_handle_the_application() -> None:
    people = staff()
    household = f.poor_family()
    head = household.memberships.get(relation="head").person
    services.relative_declare(by=people["officer2"], area_code=f.TOWNSHIP, declarant=people["officer2"],
                              declarant_name="赵干部", declarant_post="乡镇干部", relative_name=head.name,
                              relative_id_number=head.id_number, relation="兄弟")
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(household)))
    application = intake["applications"][0]
    assert application["relative_flag"]
    response = _move(Api(people["officer2"]), application["id"], "accepted")
    assert response.status_code == 403
    assert "relative" in response.json()["detail"]
    assert Application.objects.get(pk=application["id"]).state == State.RECEIVED


def test_an_illegal_transition_is_422_with_the_states_named() -> None:
    people = staff()
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(f.poor_family())))
    response = _move(Api(people["approver"]), intake["applications"][0]["id"], "approved", reasons="ok")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "to" and "cannot become" in error["message"]


def test_a_stale_version_is_409_before_anything_happens() -> None:
    people = staff()
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(f.poor_family())))
    application_id = intake["applications"][0]["id"]
    officer = Api(people["officer"])
    _ok(_move(officer, application_id, "accepted"))
    stale = officer.post(f"/applications/{application_id}/transitions", {"to": "investigating", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert Application.objects.get(pk=application_id).state == State.ACCEPTED


def test_an_intake_without_the_consents_is_refused_with_paths() -> None:
    people = staff()
    body = intake_body(f.poor_family())
    body["consents"] = body["consents"][:1]
    body["truth_promise"] = False
    response = Api(people["worker"]).post("/applications", body)
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["errors"]} == {"consents", "truth_promise"}
    assert not Application.objects.exists()


def test_the_list_filters_by_state_and_programme() -> None:
    people = staff()
    api = Api(people["worker"])
    _ok(api.post("/applications", intake_body(f.poor_family())))
    assert api.get("/applications?state=received").json()["count"] == 1
    assert api.get("/applications?state=accepted").json()["count"] == 0
    assert api.get("/applications?programme=tekun").json()["count"] == 0
    assert api.get("/applications?state=nonsense").status_code == 422


def test_an_objection_is_recorded_and_resolved_before_the_decision() -> None:
    people = staff()
    application_id = _to_notice(people)
    officer = Api(people["officer"])
    missing = _move(officer, application_id, "objection")
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"path": "content", "message": "write down what the objection says"}]
    _ok(_move(officer, application_id, "objection", content="家里有车", raised_by="村民"))
    rechecked = _ok(_move(officer, application_id, "recheck", method="appraisal", outcome="车已报废"))
    assert rechecked["state"] == "recheck"
    assert rechecked["allowed_next"] == ["objection", "withdrawn"]  # an officer does not decide
    refused = _ok(_move(Api(people["approver"]), application_id, "refused", reasons="民主评议未通过"))
    assert refused["state"] == "refused" and refused["allowed_next"] == []


def test_a_visit_and_the_clock_through_their_own_routes() -> None:
    people = staff()
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(f.poor_family())))
    application_id = intake["applications"][0]["id"]
    officer = Api(people["officer"])
    _ok(_move(officer, application_id, "accepted"))
    lonely = {**_visit(people), "investigators": [people["officer"].pk]}
    _ok(_move(officer, application_id, "investigating"))
    response = officer.post(f"/applications/{application_id}/visits", lonely)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "investigators"
    visit = officer.post(f"/applications/{application_id}/visits", _visit(people))
    assert visit.status_code == 201 and len(visit.json()["investigators"]) == 2
    version = officer.get(f"/applications/{application_id}").json()["version"]
    stopped = _ok(officer.post(f"/applications/{application_id}/clock-stop", {"version": version, "reason": "缺病历"}))
    assert stopped["clock_stopped"] and stopped["urgency"] == "stopped"
    assert stopped["version"] == version + 1  # stopping the clock is a change: an older copy is stale
    stale = officer.post(f"/applications/{application_id}/clock-resume", {"version": version})
    assert stale.status_code == 409
    resumed = _ok(officer.post(f"/applications/{application_id}/clock-resume", {"version": stopped["version"]}))
    assert not resumed["clock_stopped"]


def test_a_first_review_needs_an_opinion() -> None:
    people = staff()
    intake = _ok(Api(people["worker"]).post("/applications", intake_body(f.poor_family())))
    application_id = intake["applications"][0]["id"]
    officer = Api(people["officer"])
    _ok(_move(officer, application_id, "accepted"))
    _ok(_move(officer, application_id, "investigating"))
    _ok(_move(officer, application_id, "assessed", visit=_visit(people)))
    response = _move(officer, application_id, "first_review", reason="符合")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "opinion"
    bad_visit = _move(officer, application_id, "assessed", visit={**_visit(people), "findings": " "})
    assert bad_visit.status_code == 422
    assert bad_visit.json()["errors"][0]["path"] == "visit.findings"
