"""The audit log is append-only and tamper-evident: the model refuses changes, PostgreSQL
refuses them by trigger, and `verify` finds what someone with raw database access did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import AppendOnly, AuditEntry

pytestmark = pytest.mark.django_db


def record_entries(count: int) -> list[AuditEntry]:
    return [
        audit.record(actor=None, action="household.update", object_type="registry.household", object_id=n,
                     area="220882100201", before={"size": n}, after={"size": n + 1}, reason=f"change {n}")
        for n in range(1, count + 1)
    ]


@contextmanager
def raw_database() -> Iterator[CursorWrapper]:
    """A cursor that bypasses the model, and on PostgreSQL the append-only trigger, as a DBA could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


def json_param() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def test_an_untouched_chain_verifies() -> None:
    record_entries(4)
    assert audit.verify() == audit.ChainCheck(ok=True, entries=4)


def test_an_empty_log_verifies() -> None:
    assert audit.verify() == audit.ChainCheck(ok=True, entries=0)


def test_editing_an_entry_breaks_the_chain_at_that_entry() -> None:
    record_entries(4)
    with raw_database() as cursor:
        cursor.execute(f'UPDATE accounts_auditentry SET "after" = {json_param()} WHERE id = %s', ['{"size": 99}', 3])
    check = audit.verify()
    assert (check.ok, check.broken_at, check.entries) == (False, 3, 2)
    assert "altered" in check.problem


def test_editing_the_reason_is_found_too() -> None:
    record_entries(3)
    with raw_database() as cursor:
        cursor.execute("UPDATE accounts_auditentry SET reason = %s WHERE id = %s", ["nothing happened", 1])
    check = audit.verify()
    assert (check.ok, check.broken_at) == (False, 1)


def test_deleting_a_middle_entry_breaks_the_chain_where_it_was() -> None:
    record_entries(5)
    with raw_database() as cursor:
        cursor.execute("DELETE FROM accounts_auditentry WHERE id = %s", [2])
    check = audit.verify()
    assert (check.ok, check.broken_at) == (False, 2)
    assert "missing" in check.problem


def test_deleting_the_newest_entry_is_caught_by_the_head() -> None:
    record_entries(4)
    with raw_database() as cursor:
        cursor.execute("DELETE FROM accounts_auditentry WHERE id = %s", [4])
    check = audit.verify()
    assert (check.ok, check.entries, check.broken_at) == (False, 3, 4)
    assert "newest removed" in check.problem


def test_swapping_two_entries_breaks_the_chain_at_the_first_of_them() -> None:
    record_entries(4)
    with raw_database() as cursor:
        # Entry 2 takes entry 3's place and the other way round: the same rows, reordered.
        cursor.execute("UPDATE accounts_auditentry SET id = %s WHERE id = %s", [-1, 2])
        cursor.execute("UPDATE accounts_auditentry SET id = %s WHERE id = %s", [2, 3])
        cursor.execute("UPDATE accounts_auditentry SET id = %s WHERE id = %s", [3, -1])
    check = audit.verify()
    assert (check.ok, check.broken_at) == (False, 2)
    assert "reordered" in check.problem


def test_a_recomputed_hash_does_not_hide_an_edit() -> None:
    """Rewriting an entry and its own hash still breaks the link to the next entry."""
    entries = record_entries(3)
    forged = AuditEntry.objects.get(pk=2)
    forged.after = {"size": 99}
    forged_hash = audit._digest(2, forged.prev_hash, audit._hashed_fields(forged))
    with raw_database() as cursor:
        cursor.execute(f'UPDATE accounts_auditentry SET "after" = {json_param()}, hash = %s WHERE id = %s',
                       ['{"size": 99}', forged_hash, 2])
    check = audit.verify()
    assert entries[1].hash != forged_hash
    assert (check.ok, check.broken_at) == (False, 3)


def test_saving_an_existing_entry_is_refused() -> None:
    entry = record_entries(1)[0]
    entry.reason = "changed"
    with pytest.raises(AppendOnly):
        entry.save()


def test_deleting_an_entry_through_the_model_is_refused() -> None:
    entry = record_entries(1)[0]
    with pytest.raises(AppendOnly):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_refused() -> None:
    record_entries(2)
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=1).update(reason="changed")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert audit.verify().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_refuses_a_plain_update_and_delete() -> None:
    record_entries(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditentry SET reason = 'changed' WHERE id = 1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditentry WHERE id = 2")
    assert audit.verify().ok
