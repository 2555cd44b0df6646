"""How long the exchange keeps what partners sent and what we sent them.

A message id is remembered only to refuse the same message twice; a message older than
the clock-skew window is refused for its timestamp anyway, so its id may go once the
window has passed. The answers kept for `txn/status` and the outbox's delivered or
abandoned messages are kept `DCI_MESSAGE_RETENTION_DAYS` (90 by default), then deleted,
oldest first; what is still being answered or sent is never deleted. The audit log keeps
its own entry of every answer that left, so nothing of the accountability goes with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jiuzhu.accounts import audit
from jiuzhu.api.dci import keys
from jiuzhu.api.models import DciMessage, DciNotification, MessageStatus, OutboxStatus

DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Pruned:
    messages: int
    notifications: int
    before: str


def retention_days() -> int:
    return int(getattr(settings, "DCI_MESSAGE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


@transaction.atomic
def prune(days: int | None = None, *, now: dt.datetime | None = None) -> Pruned:
    """Delete finished messages and sent or abandoned outbox entries older than `days`."""
    days = retention_days() if days is None else days
    if days < 1 or days * 86_400 <= keys.skew_seconds():
        raise ValueError(f"keep messages at least one day and longer than the clock-skew window, not {days} days")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    notifications = DciNotification.objects.filter(
        created_at__lt=cutoff, status__in=[OutboxStatus.SENT, OutboxStatus.FAILED])
    n_notifications = notifications.count()
    notifications.delete()
    messages = (DciMessage.objects.filter(received_at__lt=cutoff,
                                          status__in=[MessageStatus.SUCCEEDED, MessageStatus.REJECTED])
                .exclude(callbacks__isnull=False))  # a callback still waiting keeps its request
    n_messages = messages.count()
    messages.delete()
    audit.record(actor=None, action="dci.prune", object_type="api.dcimessage",
                 after={"messages": n_messages, "notifications": n_notifications, "before": cutoff.isoformat()},
                 reason=f"retention {days} days")
    return Pruned(n_messages, n_notifications, cutoff.isoformat())
