"""Departments asked, the requests sent to them and the files that carried them (DOMAIN.md §8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiuzhu.verification import catalogue


def validate_items(value: Any) -> None:
    """`Department.items` is held to the same rules as the YAML catalogue."""
    problems: list[catalogue.Problem] = []
    catalogue.parse_items(value, "items", problems, key="items")
    if problems:
        raise ValidationError([f"{p.key}: {p.reason}" for p in problems])


class Department(models.Model):
    """A department (or bank) that answers verification requests. Seeded from the YAML
    catalogue; a county admin may add or adjust one here without code."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    legal_basis = models.TextField(_("legal basis"))
    exchange_format = models.CharField(_("exchange format"), max_length=4,
                                       choices=[(f, f.upper()) for f in catalogue.FORMATS])
    answer_working_days = models.PositiveSmallIntegerField(_("answer time limit (working days)"))
    asks_about = models.CharField(_("asks about"), max_length=8,
                                  choices=[("adults", _("adult members")), ("members", _("every member"))])
    items = models.JSONField(_("items answered"), validators=[validate_items])
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "zh-hans").startswith("en") else self.name_zh

    @property
    def item_names(self) -> list[str]:
        return [item["name"] for item in self.items]


class Consent(models.Model):
    """授权核对: a person's written consent that the departments of §8 may be asked about them
    for this household. Held here, not on an intake, because periodic re-verification of an
    enrolled household relies on the same consent long after the intake; withdrawing it
    stops further requests."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="consents",
                               verbose_name=_("person"))
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="consents",
                                  verbose_name=_("household"))
    scan = models.FileField(_("scan"), upload_to="consents/%Y/%m/", blank=True)
    signature = models.TextField(_("recorded signature"), blank=True)
    given_on = models.DateField(_("given on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent to verification")
        verbose_name_plural = _("consents to verification")
        indexes = [models.Index(fields=["household", "person"])]

    def __str__(self) -> str:
        return f"{self.person} @ {self.household}"


class Status(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    ANSWERED = "answered", _("answered")
    OVERDUE = "overdue", _("overdue")


class RequestBatch(models.Model):
    """One request file sent to one department."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="batches")
    #: The exporting user's area: the batch holds only requests inside it.
    area_code = models.CharField(max_length=12, db_index=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=120)
    format = models.CharField(_("format"), max_length=4, choices=[(f, f.upper()) for f in catalogue.FORMATS])
    row_count = models.PositiveIntegerField(_("rows"))

    class Meta:
        verbose_name = _("request file")
        verbose_name_plural = _("request files")


class VerificationRequest(models.Model):
    """核对请求: one question about one person to one department, with why and by whom."""

    request_id = models.CharField(_("request id"), max_length=60, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="requests")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="verification_requests")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT,
                                  related_name="verification_requests")
    #: The case that asked, e.g. "application:12" or "review:3": casework sits above this app,
    #: so it is named, not linked.
    reference = models.CharField(_("case reference"), max_length=40, blank=True, db_index=True)
    #: Copied from the household so scoped queries need no join.
    area_code = models.CharField(max_length=12, db_index=True)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    due_on = models.DateField(_("answer due on"), null=True, blank=True)
    batch = models.ForeignKey(RequestBatch, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="requests")

    class Meta:
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")
        ordering = ["request_id"]

    def __str__(self) -> str:
        return self.request_id

    def status_on(self, day: dt.date) -> str:
        """The status shown on `day`: a sent request past its due date is overdue."""
        if self.status == Status.SENT and self.due_on is not None and self.due_on < day:
            return Status.OVERDUE
        return self.status
