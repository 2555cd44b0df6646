"""Reads of the verification app, always inside the user's area."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce

from jiuzhu.accounts.models import User
from jiuzhu.verification.models import Department, Status, VerificationRequest


def departments() -> QuerySet[Department]:
    return Department.objects.filter(active=True)


def requests_for(user: User) -> QuerySet[VerificationRequest]:
    return VerificationRequest.objects.filter(area_code__startswith=user.scope_code)


def overdue_requests(user: User, today: dt.date) -> QuerySet[VerificationRequest]:
    """Sent requests whose answer is past due, oldest due first; each carries
    `shown_status` = "overdue", the status a page shows for it."""
    return (requests_for(user).filter(status=Status.SENT, due_on__lt=today)
            .annotate(shown_status=Coalesce(Value(Status.OVERDUE.value), "status"))
            .select_related("department", "person", "household").order_by("due_on", "request_id"))
