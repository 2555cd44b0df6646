"""A department asked online: another county's civil affairs registry, our DCI server run
in its own process, asked by our verification exchange with our own client."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jiuzhu.dci import envelope
from jiuzhu.verification import online, services
from jiuzhu.verification.models import Answer, Department, LinkStatus, Status, VerificationRequest
from tests import factories as f
from tests.casework.test_procedure import _staff
from tests.dci.test_cross_process import REPO, _run, serving

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

US = "jiuzhu-220882"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The other county's registry: `jiuzhu runserver` on its own SQLite file and key."""
    folder = tmp_path_factory.mktemp("other-county")
    ours = envelope.generate_private_key()
    (folder / "us.pem").write_bytes(envelope.private_key_pem(ours))
    (folder / "us.pub").write_text(envelope.public_key_pem(ours.public_key()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JIUZHU_"))}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'registry.sqlite3'}", JIUZHU_DCI_SENDER_ID="civil-affairs-220881",
               JIUZHU_DCI_PRIVATE_KEY=str(folder / "server.pem"), PYTHONPATH=str(REPO))
    seeded = _run([sys.executable, "-m", "tests.dci.seed_server", "county", "--partner-id", US,
                   "--partner-key", str(folder / "us.pub")], env)
    with serving(env, folder) as (base, jwks):
        yield {"url": base, "key": jwks["keys"][0]["x"], "seeded": seeded, "our_key": folder / "us.pem"}


def _asked(staff: dict[str, Any], registry: dict[str, Any], settings: Any) -> list[VerificationRequest]:
    settings.DCI_SENDER_ID, settings.DCI_PRIVATE_KEY_PATH = US, registry["our_key"]
    seeded = registry["seeded"]
    # The same person registered here (an applicant of ours) and a spouse the other county does not know.
    head = f.Person.objects.create(id_number=seeded["id_number"], name=seeded["name"], sex=seeded["sex"],
                                   birth_date=dt.date.fromisoformat(seeded["birth_date"]), hukou_type="rural")
    spouse = f.person("陈桂芝", dt.date(1975, 6, 1), "female")
    household = f.household(f.VILLAGE, [(head, "head"), (spouse, "spouse")])
    for p in (head, spouse):
        services.consent_record(by=staff["worker"], household=household, person=p, signature=p.name)
    department = Department.objects.get(code="civil_affairs")
    department.dci_url, department.dci_server_id, department.dci_public_key = (
        registry["url"], "civil-affairs-220881", registry["key"])
    department.save()
    return services.request_verification(by=staff["officer"], household=household, departments=[department],
                                         reason="跨地区重复享受核对", reference=f"household:{household.pk}")


def test_the_other_county_s_registry_answers_over_dci(registry: dict[str, Any], settings: Any) -> None:
    staff = _staff()
    requests = _asked(staff, registry, settings)
    result = online.ask_online(by=staff["officer"], department=Department.objects.get(code="civil_affairs"))
    assert result.accepted and result.counts["linked"] == 2
    found = Answer.objects.get(person__id_number=registry["seeded"]["id_number"])
    assert found.found and found.link_method == "request" and found.link_status == LinkStatus.LINKED
    assert found.values == {"programme": "dibao", "enrolled_area_code": registry["seeded"]["area_code"]}
    unknown = Answer.objects.get(person__name="陈桂芝")
    assert not unknown.found and unknown.values == {}
    assert set(VerificationRequest.objects.filter(pk__in=[r.pk for r in requests])
               .values_list("status", flat=True)) == {Status.ANSWERED}


def test_an_answer_not_signed_by_the_department_is_not_believed(registry: dict[str, Any], settings: Any) -> None:
    staff = _staff()
    _asked(staff, registry, settings)
    department = Department.objects.get(code="civil_affairs")
    department.dci_public_key = envelope.public_key_pem(envelope.generate_private_key().public_key())
    department.save()
    with pytest.raises(ValidationError, match=r"did not answer: err\.signature\.invalid"):
        online.ask_online(by=staff["officer"], department=department)
    assert not Answer.objects.exists()
    assert set(VerificationRequest.objects.values_list("status", flat=True)) == {Status.PENDING}
