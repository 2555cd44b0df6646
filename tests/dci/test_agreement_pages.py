"""The county admin's data-sharing agreements page: list, add, change, switch off, scoped and audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.api.dci.agreements import agreement_save
from jiuzhu.api.models import DciAgreement
from jiuzhu.dci import envelope
from tests import factories as f
from tests.accounts.factories import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def our_key(settings: Any, tmp_path: Path) -> None:
    settings.DCI_PRIVATE_KEY_PATH = tmp_path / "keys" / "dci.pem"
    settings.DCI_SENDER_ID = "jiuzhu-daan"


def _public_key() -> str:
    return envelope.public_key_pem(envelope.generate_private_key().public_key())


def _form(**changes: Any) -> dict[str, Any]:
    form = {"sender_id": "mca-platform", "name": "民政数据交换平台", "area": f.COUNTY, "public_key": _public_key(),
            "key_id": "", "callback_base_url": "https://platform.example/dci", "query_types": ["idtype-value"],
            "grants": "Group.group_size\nPerson.name\n", "event_types": ["death"], "active": "on"}
    form.update(changes)
    return form


def test_a_county_admin_adds_an_agreement_and_it_is_audited_in_their_name() -> None:
    f.county_tree()
    admin = f.user(Role.COUNTY_ADMIN, f.COUNTY)
    client = staff_client(admin)
    page = client.get("/data-sharing/").content.decode()
    assert "No partner may ask the registry yet." in page and "jiuzhu-daan" in page  # our identity, to hand over
    assert "BEGIN PUBLIC KEY" in page
    done = client.post("/data-sharing/add/", _form())
    assert done.status_code == 302
    saved = DciAgreement.objects.get(sender_id="mca-platform")
    assert saved.allowed_fields == ["Group.group_size", "Person.name"] and saved.allowed_event_types == ["death"]
    assert saved.allowed_query_types == ["idtype-value"] and saved.area_id == f.COUNTY and saved.active
    entry = AuditEntry.objects.get(action="dci.agreement", object_id=str(saved.pk))
    assert entry.actor_id == admin.pk
    listed = client.get("/data-sharing/").content.decode()
    assert "mca-platform" in listed and "Group.group_size, Person.name" in listed


def test_every_problem_of_an_agreement_is_named_beside_its_field_and_nothing_is_saved() -> None:
    f.county_tree()
    client = staff_client(f.user(Role.COUNTY_ADMIN, f.COUNTY))
    bad = client.post("/data-sharing/add/", _form(public_key="not a key", grants="Group.group_size\nPerson.salary",
                                                  callback_base_url="ftp://x"))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "is not an Ed25519 public key" in html
    assert "no such fields: Person.salary" in html
    assert "is not an http(s) URL" in html
    assert not DciAgreement.objects.exists()
    twice = _form()
    assert client.post("/data-sharing/add/", twice).status_code == 302
    again = client.post("/data-sharing/add/", twice)
    assert again.status_code == 400 and "exists already" in again.content.decode()


def test_switching_an_agreement_off_keeps_its_sender_id() -> None:
    f.county_tree()
    client = staff_client(f.user(Role.COUNTY_ADMIN, f.COUNTY))
    client.post("/data-sharing/add/", _form())
    agreement = DciAgreement.objects.get()
    changed = client.post(f"/data-sharing/{agreement.pk}/", _form(sender_id="someone-else", active="", grants=""))
    assert changed.status_code == 302
    agreement.refresh_from_db()
    assert agreement.sender_id == "mca-platform" and not agreement.active and agreement.allowed_fields == []
    assert AuditEntry.objects.filter(action="dci.agreement", object_id=str(agreement.pk)).count() == 2


def test_only_a_county_admin_keeps_agreements_and_only_within_their_area() -> None:
    f.county_tree()
    county_wide = agreement_save(sender_id="province", name="省平台", public_key=_public_key(), area_code=f.COUNTY)
    assert staff_client(f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP)).get("/data-sharing/").status_code == 403
    township_admin = staff_client(f.user(Role.COUNTY_ADMIN, f.TOWNSHIP))
    assert "province" not in township_admin.get("/data-sharing/").content.decode()
    assert township_admin.get(f"/data-sharing/{county_wide.pk}/").status_code == 404
    outside = township_admin.post("/data-sharing/add/", _form(sender_id="town-partner", area=f.OTHER_TOWNSHIP))
    assert outside.status_code == 400 and not DciAgreement.objects.filter(sender_id="town-partner").exists()
    inside = township_admin.post("/data-sharing/add/", _form(sender_id="town-partner", area=f.TOWNSHIP))
    assert inside.status_code == 302


def test_the_list_still_opens_when_our_key_cannot_be_made(settings: Any, tmp_path: Path) -> None:
    from jiuzhu.api.dci import keys

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.DCI_PRIVATE_KEY_PATH = blocker / "dci.pem"  # its folder is a file: the key cannot be made
    keys._cache.clear()
    f.county_tree()
    page = staff_client(f.user(Role.COUNTY_ADMIN, f.COUNTY)).get("/data-sharing/")
    assert page.status_code == 200
    assert "jiuzhu dci keygen" in page.content.decode()
