"""Search (查询): by name, ID number (whole or its start), file number and area; never
outside the user's area; ID numbers masked in the results."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jiuzhu.accounts.roles import Role
from jiuzhu.registry.models import Household, Person
from tests import factories as f
from tests.casework.test_views_lists import signed_in

pytestmark = pytest.mark.django_db


def _arrange() -> dict[str, object]:
    f.county_tree()
    f.area("220882100202", "新发村")
    officer = f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)
    mine = f.household(f.VILLAGE, [(f.person("张三明", dt.date(1980, 1, 1)), "head"),
                                   (f.person("李四", dt.date(1982, 2, 2), "female"), "spouse")])
    neighbour = f.household("220882100202", [(f.person("张大山", dt.date(1960, 6, 6)), "head")])
    theirs = f.household(f.OTHER_VILLAGE, [(f.person("张三丰", dt.date(1970, 7, 7)), "head")])
    return {"officer": officer, "mine": mine, "neighbour": neighbour, "theirs": theirs}


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m.person.name for m in response.context["results"])


def test_search_by_name_finds_only_people_in_my_area() -> None:
    a = _arrange()
    response = signed_in(a["officer"]).post(reverse("registry:search"), {"q": "张"})  # type: ignore[arg-type]
    assert response.status_code == 200
    assert _names(response) == ["张三明", "张大山"]
    assert "张三丰" not in response.content.decode()


def test_search_by_the_start_of_an_id_number_masks_the_numbers_shown() -> None:
    a = _arrange()
    person = Person.objects.get(name="李四")
    response = signed_in(a["officer"]).post(reverse("registry:search"), {"q": person.id_number[:14]})  # type: ignore[arg-type]
    assert _names(response) == ["李四"]
    html = response.content.decode()
    assert person.id_number not in html and person.id_number[-4:] in html
    whole = signed_in(a["officer"]).post(reverse("registry:search"), {"q": person.id_number.lower()})  # type: ignore[arg-type]
    assert _names(whole) == ["李四"]


def test_a_query_in_the_address_is_not_searched_so_id_numbers_stay_out_of_logs() -> None:
    a = _arrange()
    person = Person.objects.get(name="李四")
    client = signed_in(a["officer"])  # type: ignore[arg-type]
    response = client.get(reverse("registry:search"), {"q": person.id_number})
    assert response.status_code == 200 and response.context["results"] == [] and not response.context["searched"]
    assert 'method="post"' in response.content.decode()


def test_search_by_file_number_lists_the_household_and_links_to_its_file() -> None:
    a = _arrange()
    household: Household = a["mine"]  # type: ignore[assignment]
    response = signed_in(a["officer"]).post(reverse("registry:search"), {"q": household.number})  # type: ignore[arg-type]
    assert _names(response) == ["张三明", "李四"]
    assert reverse("casework:household", args=[household.pk]) in response.content.decode()


def test_an_id_number_or_file_number_from_another_township_finds_nothing() -> None:
    a = _arrange()
    theirs: Household = a["theirs"]  # type: ignore[assignment]
    person = Person.objects.get(name="张三丰")
    client = signed_in(a["officer"])  # type: ignore[arg-type]
    secrets = {person.id_number, theirs.number, "张三丰", reverse("casework:household", args=[theirs.pk])}
    for query in (person.id_number, theirs.number, "张三丰"):
        response = client.post(reverse("registry:search"), {"q": query})
        assert response.context["results"] == []
        html = response.content.decode()
        assert [s for s in secrets - {query} if s in html] == []  # the typed query itself is echoed, nothing more


def test_the_area_filter_offers_only_areas_in_scope_and_narrows_the_results() -> None:
    a = _arrange()
    client = signed_in(a["officer"])  # type: ignore[arg-type]
    choices = dict(client.get(reverse("registry:search")).context["form"].fields["area"].choices)
    assert f.VILLAGE in choices and "220882100202" in choices and f.OTHER_VILLAGE not in choices
    assert _names(client.post(reverse("registry:search"), {"q": "张", "area": "220882100202"})) == ["张大山"]
    assert _names(client.post(reverse("registry:search"), {"area": f.VILLAGE})) == ["张三明", "李四"]
    outside = client.post(reverse("registry:search"), {"q": "张", "area": f.OTHER_VILLAGE})
    assert outside.status_code == 400 and outside.context["results"] == []


def test_an_empty_or_oversized_query_is_handled_gently() -> None:
    a = _arrange()
    client = signed_in(a["officer"])  # type: ignore[arg-type]
    empty = client.post(reverse("registry:search"), {"q": "  "})
    assert empty.status_code == 200 and empty.context["results"] == [] and not empty.context["searched"]
    assert client.post(reverse("registry:search"), {"q": "x" * 500}).status_code == 400


def test_a_village_worker_searches_only_their_village() -> None:
    a = _arrange()
    worker = f.user(Role.VILLAGE_WORKER, f.VILLAGE)
    assert _names(signed_in(worker).post(reverse("registry:search"), {"q": "张"})) == ["张三明"]
    assert a["neighbour"] is not None
