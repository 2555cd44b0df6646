"""The DCI social-registry exchange: who may ask what, what they asked, what they subscribed
to, and what we still owe them (the outbox).

A partner system (another department, a provincial platform) signs every message with a
key registered in its agreement; the agreement says which queries it may run, which
fields of a household or person may leave for it and in which area. Nothing here copies
registry data: the outbox keeps the one message owed, as it was when the event happened.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.dci import codes


class EventType(models.TextChoices):
    """Events a partner can subscribe to, each read from one action of the audit log."""

    ENROLMENT = "enrolment", _("enrolment (benefit starts)")
    EXIT = "exit", _("exit (benefit stopped)")
    DEATH = "death", _("death of a registered person")


class DciAgreement(models.Model):
    """数据共享协议: one partner system, its public key and what it may receive."""

    sender_id = models.CharField(_("partner sender id"), max_length=100, unique=True)
    name = models.CharField(_("partner name"), max_length=200)
    public_key = models.TextField(_("partner public key (Ed25519, PEM or base64)"))
    key_id = models.CharField(_("registered key id"), max_length=100, blank=True,
                              help_text=_("empty: any key id, as long as the signature verifies with the key above"))
    callback_base_url = models.URLField(_("callback base URL"), max_length=500, blank=True)
    allowed_query_types = models.JSONField(_("query types allowed"), default=list, blank=True)
    allowed_fields = models.JSONField(_("fields allowed to leave"), default=list, blank=True)
    allowed_event_types = models.JSONField(_("events it may subscribe to"), default=list, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area scope"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("DCI data-sharing agreement")
        verbose_name_plural = _("DCI data-sharing agreements")

    def __str__(self) -> str:
        return f"{self.name} ({self.sender_id})"


class MessageStatus(models.TextChoices):
    RECEIVED = codes.RECEIVED, _("received")
    PENDING = codes.PENDING, _("being processed")
    SUCCEEDED = codes.SUCCEEDED, _("answered")
    REJECTED = codes.REJECTED, _("rejected")


class DciMessage(models.Model):
    """One accepted request. Its id is remembered per sender, so the same message sent twice
    is refused; its transaction and answer are kept for txn/status."""

    agreement = models.ForeignKey(DciAgreement, on_delete=models.PROTECT, related_name="messages")
    message_id = models.CharField(max_length=100)
    message_ts = models.DateTimeField()
    action = models.CharField(max_length=30)
    transaction_id = models.CharField(max_length=99, blank=True, db_index=True)
    correlation_id = models.CharField(max_length=99, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=4, choices=MessageStatus.choices, default=MessageStatus.RECEIVED)
    callback_url = models.CharField(max_length=500, blank=True)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("DCI message")
        verbose_name_plural = _("DCI messages")
        constraints = [models.UniqueConstraint(fields=["agreement", "message_id"], name="dci_message_once")]
        indexes = [models.Index(fields=["status", "received_at"])]


class DciSubscription(models.Model):
    """A partner's standing request to be told of one kind of event in an area."""

    agreement = models.ForeignKey(DciAgreement, on_delete=models.PROTECT, related_name="subscriptions")
    code = models.CharField(max_length=99, unique=True)
    event_type = models.CharField(max_length=12, choices=EventType.choices)
    area_code = models.CharField(max_length=12)
    record_type = models.CharField(max_length=20, default="Group")
    criteria = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("DCI subscription")
        verbose_name_plural = _("DCI subscriptions")
        indexes = [models.Index(fields=["event_type", "active"])]


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("delivered")
    FAILED = "failed", _("given up")


class DciNotification(models.Model):
    """The outbox: a message we owe a partner (a notify event, or the callback answering an
    asynchronous request), sent by `deliver_pending` until the partner acknowledges it."""

    agreement = models.ForeignKey(DciAgreement, on_delete=models.PROTECT, related_name="notifications")
    subscription = models.ForeignKey(DciSubscription, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="notifications")
    request = models.ForeignKey(DciMessage, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="callbacks")
    action = models.CharField(max_length=30)
    event_type = models.CharField(max_length=12, choices=EventType.choices, blank=True)
    audit_entry_id = models.BigIntegerField(null=True, blank=True)
    url = models.CharField(max_length=500)
    message_id = models.CharField(max_length=100, unique=True)
    header = models.JSONField(default=dict)
    payload = models.JSONField()
    #: Households whose data the message carries, for the audit entry written when it leaves.
    about = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("DCI outbox message")
        verbose_name_plural = _("DCI outbox messages")
        constraints = [models.UniqueConstraint(fields=["subscription", "audit_entry_id"],
                                               condition=Q(subscription__isnull=False, audit_entry_id__isnull=False),
                                               name="dci_one_notification_per_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class DciEventCursor(models.Model):
    """How far `collect_events` has read the audit log (one row)."""

    name = models.CharField(max_length=20, primary_key=True)
    last_audit_id = models.BigIntegerField(default=0)
