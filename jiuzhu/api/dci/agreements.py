"""Writing a data-sharing agreement (数据共享协议) and finding the one a message comes under."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.api.models import DciAgreement, EventType
from jiuzhu.areas.models import Area
from jiuzhu.dci import envelope, fields, query
from jiuzhu.dci.envelope import PartnerKey


@transaction.atomic
def agreement_save(*, sender_id: str, name: str, public_key: str, area_code: str, callback_base_url: str = "",
                   query_types: Sequence[str] = (), allowed_fields: Sequence[str] = (),
                   event_types: Sequence[str] = (), key_id: str = "", active: bool = True,
                   by: User | None = None) -> DciAgreement:
    """Create or replace the agreement of `sender_id`; every problem is reported at once.

    `by` is the county admin on the agreements page (None: the operator's CLI); an admin
    keeps only agreements inside their own area, and the audit entry names them."""
    if by is not None:
        ensure_can(by, Action.ADMIN_AGREEMENTS, by.scope_code)
        existing = DciAgreement.objects.filter(sender_id=sender_id.strip()).select_related("area").first()
        if existing is not None and not by.covers(existing.area_id):
            raise PermissionDenied(_("This partner's agreement covers an area outside yours."))
    problems: dict[str, list[str]] = {}
    sender_id = sender_id.strip()
    if not sender_id or "|" in sender_id or len(sender_id) > 100:
        problems["sender_id"] = [_("give the partner's sender id (up to 100 characters, no \"|\")")]
    try:
        envelope.load_public_key(public_key)
    except ValueError as exc:
        problems["public_key"] = [_("is not an Ed25519 public key (PEM or base64): %(error)s") % {"error": exc}]
    area = Area.objects.filter(pk=query.significant_area(area_code.strip())).first()
    if area is None:
        problems["area"] = [_("no area has the code %(code)s") % {"code": area_code}]
    elif by is not None and not by.covers(area.code):
        problems["area"] = [_("%(code)s is outside your area") % {"code": area_code}]
    if callback_base_url:
        try:
            URLValidator(schemes=["http", "https"])(callback_base_url)
        except ValidationError:
            problems["callback_base_url"] = [_("is not an http(s) URL")]
    unknown = [q for q in query_types if q not in query.QUERY_TYPES]
    if unknown:
        problems["query_types"] = [_("unknown query types %(types)s; known: %(known)s")
                                   % {"types": ", ".join(unknown), "known": ", ".join(query.QUERY_TYPES)}]
    bad_fields = fields.unknown_grants(allowed_fields)
    if bad_fields:
        problems["fields"] = [_("no such fields: %(fields)s") % {"fields": ", ".join(bad_fields)}]
    bad_events = [e for e in event_types if e not in EventType.values]
    if bad_events:
        problems["event_types"] = [_("unknown events %(events)s; known: %(known)s")
                                   % {"events": ", ".join(bad_events), "known": ", ".join(EventType.values)}]
    if problems:
        raise ValidationError(problems)
    assert area is not None
    existing = DciAgreement.objects.filter(sender_id=sender_id).first()
    before = audit.snapshot(existing) if existing is not None else None
    agreement, _created = DciAgreement.objects.update_or_create(sender_id=sender_id, defaults={
        "name": name or sender_id, "public_key": public_key.strip(), "key_id": key_id.strip(),
        "callback_base_url": callback_base_url.rstrip("/"), "allowed_query_types": list(query_types),
        "allowed_fields": list(allowed_fields), "allowed_event_types": list(event_types), "area": area,
        "active": active})
    audit.record(actor=by, action="dci.agreement", obj=agreement, area=area.code, before=before,
                 after=audit.snapshot(agreement))
    return agreement


def active_agreement(sender_id: str) -> DciAgreement | None:
    return DciAgreement.objects.select_related("area").filter(sender_id=sender_id, active=True).first()


def partner_key(agreement: DciAgreement) -> PartnerKey:
    return PartnerKey(envelope.load_public_key(agreement.public_key), agreement.key_id)
