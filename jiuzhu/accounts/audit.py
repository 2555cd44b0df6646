"""Writing to and checking the hash-chained audit log (DOMAIN.md §10, DESIGN.md principle 3).

Every service that changes a household, application, decision or payment calls
`record` inside its own transaction, so the change and its audit entry commit or roll
back together. Entry n stores hash(entry n's fields + hash of entry n − 1) and its
sequence number is its primary key, so editing, deleting or reordering any entry breaks
the chain at that entry; removing the newest entries is caught by the head row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from jiuzhu.accounts.models import AuditEntry, AuditHead, User

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    """JSON-safe and stable across a database round trip (Decimal and dates as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited state of a row: its concrete fields (foreign keys as ids)."""
    names = list(fields) if fields is not None else [
        f.attname for f in instance._meta.concrete_fields if f.attname not in ("password",)
    ]
    return {name: _plain(getattr(instance, name)) for name in names}


def _digest(seq: int, prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps({"seq": seq, "prev": prev_hash, **fields}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_area": entry.actor_area,
        "area": entry.area,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }


def record(*, actor: User | None, action: str, obj: models.Model | None = None, object_type: str = "",
           object_id: str | int = "", area: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str = "") -> AuditEntry:
    """Append one entry. Must run inside the transaction of the write it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS, "count": 0})
        entry = AuditEntry(
            id=head.count + 1,
            at=timezone.now().astimezone(dt.UTC),
            actor=actor,
            actor_name=actor.get_username() if actor is not None else "system",
            actor_area=(actor.area_id or "") if actor is not None else "",
            area=area,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
            reason=reason,
            prev_hash=head.last_hash,
        )
        entry.hash = _digest(entry.id, entry.prev_hash, _hashed_fields(entry))
        entry.save(force_insert=True)
        head.last_hash = entry.hash
        head.count = entry.id
        head.save(update_fields=["last_hash", "count"])
    return entry


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    broken_at: int | None = None
    problem: str = ""


def verify() -> ChainCheck:
    """Walk the chain from the first entry; report the first link that does not hold."""
    expected_prev = GENESIS
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.id != expected_seq:
            return ChainCheck(False, expected_seq - 1, expected_seq,
                              f"entry {expected_seq} is missing (next is {entry.id})")
        if entry.prev_hash != expected_prev:
            return ChainCheck(False, expected_seq - 1, entry.id,
                              f"entry {entry.id} does not follow entry {entry.id - 1} (removed or reordered)")
        if _digest(entry.id, entry.prev_hash, _hashed_fields(entry)) != entry.hash:
            return ChainCheck(False, expected_seq - 1, entry.id, f"entry {entry.id} was altered")
        expected_prev = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    head = AuditHead.objects.filter(pk=1).first()
    head_count, head_hash = (head.count, head.last_hash) if head else (0, GENESIS)
    if head_count != count or head_hash != expected_prev:
        return ChainCheck(False, count, count + 1,
                          f"the log ends at entry {count} but {head_count} were written (newest removed)")
    return ChainCheck(True, count)
