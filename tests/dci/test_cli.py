"""`jiuzhu dci keygen | agreement-add | collect | deliver`, run in this process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jiuzhu.api.models import DciAgreement
from jiuzhu.cli import main
from jiuzhu.dci import envelope
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def key_path(settings: Any, tmp_path: Path) -> Path:
    settings.DCI_PRIVATE_KEY_PATH = tmp_path / "keys" / "dci.pem"
    settings.DCI_SENDER_ID = "jiuzhu-test"
    settings.DCI_DELIVER_IMMEDIATELY = False
    return Path(settings.DCI_PRIVATE_KEY_PATH)


def test_keygen_makes_the_key_once_and_prints_what_partners_register(key_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dci", "keygen"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert first["kid"] == f"jiuzhu-test|{first['key_id']}|ed25519"
    assert envelope.key_id(envelope.load_public_key(first["public_key_pem"])) == first["key_id"] == first["jwk"]["kid"]
    assert main(["dci", "keygen"]) == 0
    assert json.loads(capsys.readouterr().out)["key_id"] == first["key_id"]


def test_agreement_add_registers_a_partner(key_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f.county_tree()
    public = tmp_path / "partner.pub"
    public.write_text(envelope.public_key_pem(envelope.generate_private_key().public_key()))
    code = main(["dci", "agreement-add", "--sender-id", "province.mz", "--name", "省民政厅",
                 "--public-key", str(public), "--area", "220882000000", "--callback", "https://mz.example/dci/",
                 "--query-types", "idtype-value,predicate", "--fields", "Group.group_size,Person.name",
                 "--events", "death"])
    assert code == 0, capsys.readouterr().out
    agreement = DciAgreement.objects.get(sender_id="province.mz")
    assert agreement.area_id == "220882" and agreement.callback_base_url == "https://mz.example/dci"
    assert agreement.allowed_fields == ["Group.group_size", "Person.name"]
    assert agreement.allowed_event_types == ["death"]


def test_agreement_add_reports_every_problem(key_path: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f.county_tree()
    public = tmp_path / "partner.pub"
    public.write_text("not a key")
    code = main(["dci", "agreement-add", "--sender-id", "x", "--public-key", str(public), "--area", "990000",
                 "--query-types", "sql", "--fields", "Group.income", "--events", "birth"])
    assert code == 2
    paths = {p["path"] for p in json.loads(capsys.readouterr().out)}
    assert paths == {"public_key", "area", "query_types", "fields", "event_types"}
    assert not DciAgreement.objects.exists()


def test_collect_and_deliver_with_nothing_to_do(key_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dci", "collect"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queued": 0}
    assert main(["dci", "deliver"]) == 0
    assert json.loads(capsys.readouterr().out) == {"answered": 0, "sent": 0, "failed": 0, "retrying": 0}


def test_prune_drops_finished_messages_past_retention_and_keeps_what_is_in_flight(
        key_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    from django.utils import timezone

    from jiuzhu.accounts.models import AuditEntry
    from jiuzhu.api.dci.agreements import agreement_save
    from jiuzhu.api.models import DciMessage, DciNotification, MessageStatus, OutboxStatus

    f.county_tree()
    partner = agreement_save(sender_id="p", name="p", area_code=f.COUNTY,
                             public_key=envelope.public_key_pem(envelope.generate_private_key().public_key()))
    long_ago, now = timezone.now() - dt.timedelta(days=200), timezone.now()

    def message(name: str, status: str, when: dt.datetime) -> DciMessage:
        found = DciMessage.objects.create(agreement=partner, message_id=name, message_ts=when, action="search",
                                          correlation_id=name, status=status)
        DciMessage.objects.filter(pk=found.pk).update(received_at=when)  # auto_now_add: set it afterwards
        return found

    def callback(request: DciMessage, name: str, status: str, when: dt.datetime) -> None:
        sent = DciNotification.objects.create(agreement=partner, request=request, action="on-search", url="x",
                                              message_id=name, payload={}, status=status, next_attempt_at=when)
        DciNotification.objects.filter(pk=sent.pk).update(created_at=when)

    answered = message("old-answered", MessageStatus.SUCCEEDED, long_ago)
    callback(answered, "old-sent", OutboxStatus.SENT, long_ago)
    message("old-rejected", MessageStatus.REJECTED, long_ago)
    message("old-pending", MessageStatus.PENDING, long_ago)
    waiting = message("old-answer-unsent", MessageStatus.SUCCEEDED, long_ago)
    callback(waiting, "still-owed", OutboxStatus.PENDING, long_ago)
    message("recent", MessageStatus.SUCCEEDED, now)
    assert main(["dci", "prune"]) == 0
    assert json.loads(capsys.readouterr().out)["messages"] == 2
    assert set(DciMessage.objects.values_list("message_id", flat=True)) == {
        "old-pending", "old-answer-unsent", "recent"}
    assert list(DciNotification.objects.values_list("message_id", flat=True)) == ["still-owed"]
    assert AuditEntry.objects.get(action="dci.prune").after["notifications"] == 1
    assert main(["dci", "prune", "--days", "0"]) == 2  # never inside the replay window
    assert DciMessage.objects.count() == 3
