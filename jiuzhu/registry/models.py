"""Persons, households, dated memberships and the facts a means test reads (DOMAIN.md §2–4).

Facts (income, assets, expenses) keep their source: what the household declared, what
a department's records verified, what investigators saw on a visit. The means test
prefers verified facts and marks declared ones as such, so both are kept side by side
rather than one overwriting the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.rules import vocabulary as v


def _choices(words: tuple[str, ...], labels: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(w, labels.get(w, w)) for w in words]


SEX_CHOICES = [("male", _("male")), ("female", _("female"))]
AREA_TYPE_CHOICES = [("urban", _("urban")), ("rural", _("rural"))]
RELATION_LABELS = {
    "head": _("head of household"), "spouse": _("spouse"), "child": _("child"), "parent": _("parent"),
    "grandchild": _("grandchild"), "grandparent": _("grandparent"), "sibling": _("sibling"), "other": _("other"),
}
NOT_COUNTED_LABELS = {
    "clergy_away": _("clergy living away three years or more"), "prison": _("in prison"),
    "drug_rehabilitation": _("in compulsory drug rehabilitation"), "missing": _("declared missing"),
}
DISABILITY_TYPES = [
    ("visual", _("visual")), ("hearing", _("hearing")), ("speech", _("speech")), ("physical", _("physical")),
    ("intellectual", _("intellectual")), ("mental", _("mental")), ("multiple", _("multiple")),
]


class Source(models.TextChoices):
    DECLARED = "declared", _("declared by the household")
    VERIFIED = "verified", _("verified with department records")
    VISIT = "visit", _("seen on the household visit")
    OVERRIDE = "override", _("set by an officer, with a written reason")


class Versioned(models.Model):
    """Optimistic locking: every update bumps `version`; a stale one is refused (409)."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Person(Versioned):
    """One resident; one ID number, one person (duplicates are refused)."""

    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=50, db_index=True)
    sex = models.CharField(_("sex"), max_length=6, choices=SEX_CHOICES)
    birth_date = models.DateField(_("birth date"))
    hukou_type = models.CharField(_("hukou type"), max_length=5, choices=AREA_TYPE_CHOICES)
    hukou_area = models.CharField(_("hukou area code"), max_length=12, blank=True)
    disability_grade = models.PositiveSmallIntegerField(_("disability grade (1–10)"), null=True, blank=True)
    disability_type = models.CharField(_("disability type"), max_length=12, choices=DISABILITY_TYPES, blank=True)
    health_coefficient = models.DecimalField(_("health coefficient"), max_digits=3, decimal_places=2, null=True,
                                             blank=True)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints = [
            models.CheckConstraint(condition=Q(disability_grade__isnull=True)
                                   | Q(disability_grade__gte=1, disability_grade__lte=10),
                                   name="disability_grade_1_10"),
            models.CheckConstraint(condition=Q(health_coefficient__isnull=True)
                                   | Q(health_coefficient__gte=0, health_coefficient__lte=1),
                                   name="health_coefficient_0_1"),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: dt.date) -> int:
        """Completed years on `day` (a birthday on 29 February counts from 1 March)."""
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class Household(Versioned):
    """户: the unit of assistance, at one village or community (12-digit area)."""

    number = models.CharField(_("file number"), max_length=24, unique=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="households",
                             verbose_name=_("village or community"))
    area_type = models.CharField(_("urban or rural"), max_length=5, choices=AREA_TYPE_CHOICES)
    address = models.CharField(_("address"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.number


class Membership(models.Model):
    """A person's dated place in a household, and whether the means test counts them (§3)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships",
                                  verbose_name=_("household"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("person"))
    relation = models.CharField(_("relation to the head"), max_length=12,
                                choices=_choices(v.RELATIONS, RELATION_LABELS))
    counted = models.BooleanField(_("counted member"), default=True)
    not_counted_reason = models.CharField(_("why not counted"), max_length=24, blank=True,
                                          choices=_choices(v.NOT_COUNTED_REASONS, NOT_COUNTED_LABELS))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["household", "start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(end__isnull=True), name="one_current_household"),
            models.CheckConstraint(condition=Q(counted=True) | ~Q(not_counted_reason=""),
                                   name="not_counted_needs_reason"),
        ]


class Fact(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, verbose_name=_("household"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("member"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.DECLARED)
    source_detail = models.CharField(_("source detail"), max_length=100, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    #: A fact replaced by a newer one stays in the file, out of the means test.
    superseded = models.BooleanField(_("superseded"), default=False)
    #: Why an officer set this figure over the verified one (source "override").
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        abstract = True


class IncomeRecord(Fact):
    kind = models.CharField(_("kind"), max_length=24, choices=[(k, k) for k in (*v.INCOME_KINDS, v.IMPUTED_WAGE)])
    amount = models.DecimalField(_("yuan per year"), max_digits=12, decimal_places=2, null=True, blank=True)
    monthly_reference = models.DecimalField(_("reference earnings per month"), max_digits=10, decimal_places=2,
                                            null=True, blank=True)
    months = models.DecimalField(_("months"), max_digits=4, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("income")
        verbose_name_plural = _("incomes")


class AssetRecord(Fact):
    kind = models.CharField(_("kind"), max_length=24, choices=[(k, k) for k in v.ASSET_KINDS])
    value = models.DecimalField(_("value (yuan)"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")


class ExpenseRecord(Fact):
    kind = models.CharField(_("kind"), max_length=24, choices=[(k, k) for k in v.EXPENSE_KINDS])
    amount = models.DecimalField(_("yuan per year"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")


class SensitiveView(models.Model):
    """A press of "show" on a masked field: who saw what of whom, and when (§10)."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    field = models.CharField(max_length=40)
    at = models.DateTimeField(auto_now_add=True)
