"""The audit page: entries about the reader's area only, filters, and the chain status."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from tests.accounts.factories import make_areas, make_user, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor() -> User:
    make_areas()
    return make_user("zhou", Role.AUDITOR, "220882")


def entry_about(area: str, object_id: str, object_type: str = "registry.household") -> audit.AuditEntry:
    return audit.record(actor=None, action="household.update", object_type=object_type, object_id=object_id,
                        area=area, after={"size": 3})


def test_the_page_lists_entries_inside_the_readers_area_only(auditor: User) -> None:
    entry_about("220882100201", "H-DAAN")
    entry_about("511703100201", "H-DACHUAN")
    response = staff_client(auditor).get(reverse("accounts:audit"))
    assert response.status_code == 200
    assert [entry.object_id for entry in response.context["page"]] == ["H-DAAN"]
    assert "H-DACHUAN" not in response.content.decode()


def test_entries_are_newest_first(auditor: User) -> None:
    for n in range(3):
        entry_about("220882100201", f"H{n}")
    response = staff_client(auditor).get(reverse("accounts:audit"))
    assert [entry.object_id for entry in response.context["page"]] == ["H2", "H1", "H0"]


def test_filtering_by_object_type_and_id(auditor: User) -> None:
    entry_about("220882100201", "H1")
    entry_about("220882100201", "H2")
    entry_about("220882100201", "H1", object_type="casework.application")
    response = staff_client(auditor).get(reverse("accounts:audit"),
                                         {"object_type": "registry.household", "object_id": "H1"})
    assert [(e.object_type, e.object_id) for e in response.context["page"]] == [("registry.household", "H1")]


def test_a_village_worker_may_not_read_the_audit_log(auditor: User) -> None:
    worker = make_user("li", Role.VILLAGE_WORKER, "220882100201")
    entry_about("220882100201", "H-SECRET")
    response = staff_client(worker).get(reverse("accounts:audit"))
    assert response.status_code == 403
    assert "H-SECRET" not in response.content.decode()


def test_the_chain_status_loads_as_an_htmx_fragment(auditor: User) -> None:
    entry_about("220882100201", "H1")
    entry_about("220882100201", "H2")
    page = staff_client(auditor).get(reverse("accounts:audit"))
    assert f'hx-get="{reverse("accounts:audit_chain")}"' in page.content.decode()
    fragment = staff_client(auditor).get(reverse("accounts:audit_chain"), HTTP_HX_REQUEST="true",
                                         HTTP_ACCEPT_LANGUAGE="en")
    html = fragment.content.decode()
    assert 'class="chain-ok"' in html
    assert "2 entries checked" in html
    assert "<html" not in html


def test_a_broken_chain_is_shown_with_the_entry(auditor: User) -> None:
    for n in range(3):
        entry_about("220882100201", f"H{n}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE accounts_auditentry SET reason = 'x' WHERE id = 2")
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")
    response = staff_client(auditor).get(reverse("accounts:audit_chain"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'class="chain-broken"' in html
    assert "entry 2" in html


def test_an_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(reverse("accounts:audit"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
