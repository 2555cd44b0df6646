"""Which programmes a household can apply for: dibao plus the catalogue in force in its area."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiuzhu.rules.parameters import region_chain
from jiuzhu.rules.programmes.loader import default_catalogue

DIBAO = "dibao"


@dataclass(frozen=True)
class ProgrammeInfo:
    id: str
    name_zh: str
    name_en: str
    period: str  # "per_year" (paid monthly) or "once"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "zh-hans").startswith("en") else self.name_zh

    @property
    def monthly(self) -> bool:
        return self.period == "per_year"


def programmes_for(area_code: str) -> list[ProgrammeInfo]:
    found = [ProgrammeInfo(DIBAO, "最低生活保障", str(_("Minimum living allowance (dibao)")), "per_year")]
    for p in default_catalogue().for_region(region_chain(area_code)):
        found.append(ProgrammeInfo(p.id, p.name.get("zh-hans", p.id), p.name.get("en", p.id), p.period))
    return found


def programme_info(area_code: str, programme: str) -> ProgrammeInfo | None:
    return next((p for p in programmes_for(area_code) if p.id == programme), None)
