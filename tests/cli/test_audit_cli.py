"""`jiuzhu audit verify`: JSON verdict, exit 0 while the chain holds and 1 once it is broken."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from jiuzhu.accounts import audit
from jiuzhu.cli import main

pytestmark = pytest.mark.django_db


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = main(["audit", "verify"])
    return status, json.loads(capsys.readouterr().out)


def test_an_intact_log_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        audit.record(actor=None, action="household.update", object_type="registry.household", object_id=n,
                     area="220882100201", after={"size": n})
    assert verify(capsys) == (0, {"ok": True, "entries": 3, "broken_at": None, "problem": ""})


def test_a_tampered_entry_exits_1_and_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        audit.record(actor=None, action="household.update", object_type="registry.household", object_id=n,
                     area="220882100201", after={"size": n})
    assert verify(capsys)[0] == 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE accounts_auditentry SET object_id = 'forged' WHERE id = 2")
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")
    status, result = verify(capsys)
    assert status == 1
    assert result["ok"] is False
    assert result["broken_at"] == 2
    assert result["entries"] == 1
    assert "entry 2" in str(result["problem"])
