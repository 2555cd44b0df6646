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
    #: A department that runs a DCI social registry is asked online instead of by file.
    dci_url = models.URLField(_("DCI registry address"), blank=True)
    dci_server_id = models.CharField(_("DCI sender id of the department"), max_length=100, blank=True)
    dci_public_key = models.TextField(_("the department's Ed25519 public key"), blank=True)

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


class FileStatus(models.TextChoices):
    ACCEPTED = "accepted", _("imported")
    REJECTED = "rejected", _("rejected")


class AnswerFile(models.Model):
    """One file that came back from a department: an answer to request files (rows quote a
    request id) or a list it sends on its own (deaths, certificates, claims). Rejected files
    are kept too, with every bad row, so the report can be shown and downloaded again."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="answer_files")
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=FileStatus.choices)
    #: The importing user's area: only rows about households inside it are accepted.
    area_code = models.CharField(max_length=12, db_index=True)
    imported_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    row_count = models.PositiveIntegerField(_("rows"))
    #: Every bad row of a rejected file: [{"row", "column", "reason"}].
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("answer file")
        verbose_name_plural = _("answer files")
        ordering = ["-imported_at"]
        constraints = [models.UniqueConstraint(fields=["department", "sha256"], condition=models.Q(status="accepted"),
                                               name="one_import_per_file")]

    def __str__(self) -> str:
        return self.file_name


class LinkStatus(models.TextChoices):
    LINKED = "linked", _("linked")
    TO_CONFIRM = "to_confirm", _("to confirm")
    UNMATCHED = "unmatched", _("no registered person")
    CONFIRMED = "confirmed", _("confirmed by an officer")
    REJECTED = "rejected", _("rejected by an officer")


class Answer(models.Model):
    """核对结果: one row of a department's file, as received, and the person it was linked to.

    The row is kept whole (`values`) so the verification report shows what the department
    said; the household file gets verified facts only from rows linked or confirmed."""

    file = models.ForeignKey(AnswerFile, on_delete=models.PROTECT, related_name="answers")
    row = models.PositiveIntegerField(_("row"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="answers")
    request = models.ForeignKey(VerificationRequest, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="answers")
    #: The row's own id as the department wrote it: the request id, or a list's record id.
    record_key = models.CharField(_("record id"), max_length=60, blank=True, db_index=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=6, blank=True)
    found = models.BooleanField(_("record found"), default=True)
    as_of = models.DateField(_("as of"))
    values = models.JSONField(_("items"), default=dict)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="verification_answers")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="verification_answers")
    link_method = models.CharField(_("linked by"), max_length=14, blank=True)
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    match_probability = models.FloatField(_("match probability"), null=True, blank=True)
    link_status = models.CharField(_("link"), max_length=10, choices=LinkStatus.choices, db_index=True)
    link_reasons = models.CharField(max_length=200, blank=True)
    applied = models.BooleanField(_("in the household file"), default=False)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["file_id", "row"]


class Check(models.TextChoices):
    """The cross-checks (比对) and what they found; names as `findings.py` emits them."""

    DUPLICATE_HOUSEHOLD = "duplicate_household", _("enrolled through two households")
    DUPLICATE_AREA = "duplicate_area", _("enrolled in two areas")
    EXCLUSIVE_PROGRAMMES = "exclusive_programmes", _("in programmes that exclude each other")
    PAID_AFTER_DEATH = "paid_after_death", _("paid after death")
    RELATIVE_UNFLAGGED = "relative_unflagged", _("staff relative enrolled without the flag")
    FINANCIAL_ASSETS = "financial_assets_over_limit", _("financial assets over the limit")
    VEHICLE = "vehicle_over_cap", _("vehicle over the value cap")
    HOMES = "homes_over_limit", _("more homes than allowed")
    COMPANY = "company_registered", _("holds a role in a company")
    DISCREPANCY = "discrepancy", _("declared and verified figures differ")
    DEATH_RECORDED = "death_recorded", _("death recorded by public security")
    ILLNESS = "illness_warning", _("illness warning: high medical costs")
    DISCOVERY = "discovery", _("probably eligible, not assisted")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("open")
    REVIEW = "review", _("review opened")
    DISMISSED = "dismissed", _("dismissed")


class Finding(models.Model):
    """核查发现: one thing a cross-check or a re-verification found about a household.

    The same finding found again on a later run is not added twice (`key`); an officer
    dismisses it with a reason, or it opens a review of the enrolled household."""

    kind = models.CharField(_("check"), max_length=28, choices=Check.choices, db_index=True)
    key = models.CharField(max_length=200, db_index=True)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="verification_findings")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="verification_findings")
    area_code = models.CharField(max_length=12, db_index=True)
    detail = models.JSONField(_("detail"), default=dict)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    found_on = models.DateField(_("found on"))
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices,
                              default=FindingStatus.OPEN, db_index=True)
    handled_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    handled_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-found_on", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.household_id})"
