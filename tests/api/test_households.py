"""Households and persons through the API: masked reads, logged showing, creation with
members, optimistic locking and the one error shape."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.registry.models import Household, Person, SensitiveView
from tests import factories as f
from tests.api.support import Api

pytestmark = pytest.mark.django_db


def _officer() -> Api:
    f.county_tree()
    return Api(f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP))


def test_the_list_is_paged_and_filtered_by_area_and_name() -> None:
    api = _officer()
    mine = [f.poor_family() for _ in range(3)]
    f.poor_family(f.OTHER_VILLAGE)
    page = api.get("/households?limit=2&offset=0").json()
    assert page["count"] == 3
    assert [h["id"] for h in page["items"]] == sorted((h.pk for h in mine), key=lambda pk: Household.objects.get(
        pk=pk).number)[:2]
    assert api.get("/households?limit=2&offset=2").json()["items"][0]["id"] in {h.pk for h in mine}
    assert api.get(f"/households?area={f.OTHER_VILLAGE}").json()["count"] == 0
    assert api.get("/households?q=王大明").json()["count"] == 3
    assert api.get("/households?q=nobody").json()["count"] == 0


def test_a_household_shows_members_with_masked_id_numbers() -> None:
    api = _officer()
    household = f.poor_family()
    body = api.get(f"/households/{household.pk}").json()
    numbers = [m["person"]["id_number"] for m in body["members"]]
    assert len(numbers) == 3
    for member, number in zip(household.memberships.select_related("person").order_by("start", "id"),
                              numbers, strict=True):
        assert number != member.person.id_number
        assert number.endswith(member.person.id_number[-4:]) and "*" in number
    assert all(p.id_number not in api.get(f"/households/{household.pk}").content.decode()
               for p in Person.objects.all())


def test_showing_an_id_number_is_logged() -> None:
    api = _officer()
    household = f.poor_family()
    person = household.memberships.first().person  # type: ignore[union-attr]
    response = api.post(f"/persons/{person.pk}/show-id-number")
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": person.id_number}
    assert SensitiveView.objects.filter(person=person, field="id_number").count() == 1
    assert AuditEntry.objects.filter(action="sensitive.show", object_id=str(person.pk)).exists()


def _member(name: str, birth: dt.date, sex: str, relation: str) -> dict[str, object]:
    return {"id_number": f.id_number(birth, sex), "name": name, "sex": sex, "birth_date": birth.isoformat(),
            "hukou_type": "rural", "relation": relation}


def test_a_household_is_created_with_new_and_registered_members() -> None:
    api = _officer()
    known = f.person("张三", dt.date(1950, 2, 1))
    body = {"area": f.VILLAGE, "area_type": "rural", "address": "永胜村5组",
            "members": [_member("张大山", dt.date(1975, 4, 2), "male", "head"),
                        {"id_number": known.id_number, "relation": "parent"}]}
    response = api.post("/households", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["number"].startswith(f.VILLAGE)
    assert {m["person"]["name"] for m in created["members"]} == {"张大山", "张三"}
    assert Person.objects.filter(id_number=known.id_number).count() == 1
    assert api.get(f"/persons/{known.pk}").json()["household"] == created["id"]


def test_a_bad_id_number_is_reported_at_its_path_and_nothing_is_kept() -> None:
    api = _officer()
    head = _member("张大山", dt.date(1975, 4, 2), "male", "head")
    spouse = _member("李小花", dt.date(1977, 6, 3), "female", "spouse")
    spouse["id_number"] = "110105194912310021"  # wrong check character
    response = api.post("/households", {"area": f.VILLAGE, "area_type": "rural", "members": [head, spouse]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors and all(set(e) == {"path", "message"} for e in errors)
    assert "members[1].id_number" in {e["path"] for e in errors}
    assert not Household.objects.exists() and not Person.objects.exists()


def test_a_schema_error_has_the_same_shape_with_a_dotted_path() -> None:
    api = _officer()
    head = _member("张大山", dt.date(1975, 4, 2), "male", "head")
    head["birth_date"] = 19750402
    response = api.post("/households", {"area": f.VILLAGE, "area_type": "rural",
                                        "members": [head, {"id_number": 123, "relation": "spouse"}]})
    assert response.status_code == 422
    paths = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert set(paths) == {"members[0].birth_date", "members[1].id_number"}
    assert paths["members[1].id_number"] == "must be text"


def test_schema_messages_follow_the_request_language() -> None:
    f.county_tree()
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    body = {"area": f.VILLAGE, "area_type": "rural", "members": [{"id_number": 1, "relation": "head"}]}
    english = Api(officer, language="en").post("/households", body).json()["errors"][0]["message"]
    chinese = Api(officer, language="zh-hans").post("/households", body).json()["errors"][0]["message"]
    assert english == "must be text"
    assert chinese  # the catalogue may not be regenerated yet; the message is there in either language


def test_a_stale_patch_is_409_and_the_first_change_survives() -> None:
    api = _officer()
    household = f.poor_family()
    first = api.patch(f"/households/{household.pk}", {"version": 1, "address": "永胜村1组"})
    assert first.status_code == 200
    assert first.json()["version"] == 2
    second = api.patch(f"/households/{household.pk}", {"version": 1, "address": "永胜村9组"})
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    assert second.json()["detail"]
    household.refresh_from_db()
    assert household.address == "永胜村1组"
    assert household.version == 2


def test_a_stale_person_patch_is_409() -> None:
    api = _officer()
    person = f.poor_family().memberships.get(relation="head").person
    assert api.patch(f"/persons/{person.pk}", {"version": 1, "phone": "13800000000"}).status_code == 200
    stale = api.patch(f"/persons/{person.pk}", {"version": 1, "phone": "13900000000"})
    assert stale.status_code == 409
    person.refresh_from_db()
    assert person.phone == "13800000000"


def test_unknown_fields_and_nulls_are_refused() -> None:
    api = _officer()
    household = f.poor_family()
    response = api.patch(f"/households/{household.pk}", {"version": 1, "number": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "number"
    response = api.patch(f"/households/{household.pk}", {"version": 1, "address": None})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": "address", "message": "must not be null"}]


def test_a_person_is_created_and_a_duplicate_id_number_refused() -> None:
    api = _officer()
    body = {"id_number": f.id_number(dt.date(1980, 1, 1)), "name": "赵一", "sex": "male",
            "birth_date": "1980-01-01", "hukou_type": "rural", "area": f.VILLAGE}
    created = api.post("/persons", body)
    assert created.status_code == 201, created.content
    assert created.json()["id_number"] != body["id_number"]
    again = api.post("/persons", body)
    assert again.status_code == 422
    assert again.json()["errors"][0]["path"] == "id_number"


def test_a_village_worker_may_not_create_a_person_in_another_village() -> None:
    f.county_tree()
    f.area("220882100202")
    api = Api(f.user(Role.VILLAGE_WORKER, f.VILLAGE))
    body = {"id_number": f.id_number(dt.date(1980, 1, 1)), "name": "赵一", "sex": "male",
            "birth_date": "1980-01-01", "hukou_type": "rural", "area": "220882100202"}
    assert api.post("/persons", body).status_code == 404
