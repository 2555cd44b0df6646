"""The division tree (行政区划) and the working-day calendar (工作日历).

An area's code is its significant digits only — 22, 2208, 220882, 220882100,
220882100201 — so "inside an area" is a prefix test (`code__startswith`) that an index
answers, at every level of the tree.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("province")
    PREFECTURE = "prefecture", _("prefecture")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    VILLAGE = "village", _("village or community")


#: Significant digits of a code at each level.
CODE_LENGTH: dict[str, int] = {
    Level.PROVINCE: 2, Level.PREFECTURE: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12,
}


class Area(models.Model):
    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent area"))
    #: 城乡分类代码 (111 main urban … 220 village): decides urban or rural for villages.
    urban_rural_class = models.CharField(_("urban-rural class"), max_length=3, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def is_urban(self) -> bool:
        """Class codes starting with 1 are urban (城镇), with 2 rural (乡村)."""
        return self.urban_rural_class.startswith("1")

    def full_code(self) -> str:
        """The 12-digit form printed on forms: significant digits padded with zeros."""
        return self.code.ljust(12, "0")


class CalendarDay(models.Model):
    """A day that differs from the Monday–Friday rule: a statutory holiday on a weekday or
    a swapped working day (调休) on a weekend. Every other day follows the weekday rule."""

    date = models.DateField(_("date"), primary_key=True)
    is_working_day = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=200)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]


class CalendarYear(models.Model):
    """A year whose official holiday schedule is in the table. Deadlines that fall in a
    year without a row here are computed Monday–Friday and marked provisional."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=200)
    entered_by = models.CharField(_("entered by"), max_length=150, blank=True)
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]
