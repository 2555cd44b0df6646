"""Asking a department online through the DCI social-registry API instead of by file.

A department that runs a DCI registry (another county's civil affairs bureau, a province's
exchange platform) is asked with our own client (`jiuzhu.dci.client`): one signed sync
search by resident ID number per pending request, the answer's signature checked against
the department's key. Its Group records become answer rows exactly like the rows of an
answer file (each item read from the record's `additional_attributes` named by the
item's `dci`), and go through the same linking, facts and audit (`imports.accept_rows`).
A person the registry does not hold is a "not found" row; an item the registry refuses
leaves that request pending, to be asked again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import httpx
import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.dci import codes, envelope
from jiuzhu.dci.client import DciClient, DciError, by_identifier
from jiuzhu.verification import imports
from jiuzhu.verification.answers import ANSWER_COLUMNS
from jiuzhu.verification.models import Department, Status, VerificationRequest

#: Search items per signed message (the registry's own limit is usually 50).
BATCH = 50


def our_key() -> envelope.SigningKey:
    """The key we sign with, the same one our own DCI server answers with."""
    return envelope.SigningKey(str(settings.DCI_SENDER_ID),
                               envelope.load_or_create_private_key(Path(settings.DCI_PRIVATE_KEY_PATH)))


def _value(record: dict[str, Any], attribute: str) -> str | None:
    for pair in record.get("additional_attributes") or []:
        if isinstance(pair, dict) and pair.get("name") == attribute:
            value = pair.get("value")
            if value in (None, "", []):
                return None
            return ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return None


def _row(request: VerificationRequest, department: Department, as_of: dt.date,
         record: dict[str, Any] | None) -> dict[str, Any]:
    person = request.person
    items = {item["name"]: (_value(record, item["dci"]) if record is not None and item.get("dci") else None)
             for item in department.items}
    return {"request_id": request.request_id, "id_number": person.id_number, "name": person.name,
            "birth_date": person.birth_date, "sex": person.sex, "found": record is not None, "as_of": as_of,
            **items}


def ask_online(*, by: User, department: Department, today: dt.date | None = None,
               http: httpx.Client | None = None) -> imports.ImportResult:
    """Every pending request of the user's area to `department`, asked over DCI and imported."""
    ensure_can(by, Action.ASSESS, by.scope_code)
    today = today or timezone.localdate()
    if not (department.dci_url and department.dci_server_id and department.dci_public_key):
        raise ValidationError(_("%(department)s is not asked online: its DCI address, id or key is missing.")
                              % {"department": department.name})
    pending = list(VerificationRequest.objects.filter(department=department, status=Status.PENDING,
                                                      area_code__startswith=by.scope_code)
                   .select_related("person").order_by("request_id"))
    if not pending:
        raise ValidationError(_("There are no pending requests to %(department)s in your area.")
                              % {"department": department.name})
    try:
        server_key = envelope.load_public_key(department.dci_public_key)
    except ValueError as exc:
        raise ValidationError(_("The public key of %(department)s cannot be read: %(error)s")
                              % {"department": department.name, "error": exc}) from exc
    client = DciClient(department.dci_url, our_key(), server_id=department.dci_server_id,
                       server_public_key=server_key, http=http)
    rows: list[dict[str, Any]] = []
    answered: dict[str, VerificationRequest] = {}
    messages: list[Any] = []
    for start in range(0, len(pending), BATCH):
        batch = pending[start:start + BATCH]
        try:
            reply = client.sync_search(*[by_identifier(r.person.id_number, reference_id=r.request_id)
                                         for r in batch])
        except DciError as exc:
            raise ValidationError(_("%(department)s did not answer: %(code)s %(error)s")
                                  % {"department": department.name, "code": exc.most_specific,
                                     "error": exc}) from exc
        messages.append(reply.message)
        items = {item.get("reference_id"): item for item in reply.items}
        for request in batch:
            item = items.get(request.request_id)
            if item is None or item.get("status") != codes.SUCCEEDED:
                continue  # refused or missing: stays pending, asked again next time
            records = (item.get("data") or {}).get("reg_records") or []
            rows.extend(_row(request, department, today, r) for r in records or [None])
            answered[request.request_id] = request
    if not rows:
        raise ValidationError(_("%(department)s answered none of the requests.") % {"department": department.name})
    sha = hashlib.sha256(envelope.canonical_json(messages)).hexdigest()
    typed = pl.DataFrame(rows, schema={**dict.fromkeys(ANSWER_COLUMNS, pl.String), "birth_date": pl.Date,
                                       "found": pl.Boolean, "as_of": pl.Date,
                                       **dict.fromkeys(department.item_names, pl.String)})
    typed = typed.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    with transaction.atomic():
        now = timezone.now()
        VerificationRequest.objects.filter(pk__in=[r.pk for r in answered.values()]).update(
            status=Status.SENT, sent_at=now, due_on=today)
        result = imports.accept_rows(by, department, f"dci-{department.code}-{now:%Y%m%d%H%M%S}", sha, typed,
                                     "answer", answered)
        audit.record(actor=by, action="verification.ask_online", obj=result.file, area=by.scope_code,
                     after={"department": department.code, "url": department.dci_url,
                            "asked": [r.request_id for r in pending], "answered": sorted(answered)})
    return result
