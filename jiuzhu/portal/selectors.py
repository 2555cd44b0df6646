"""Reads the calculator needs besides the engine's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from jiuzhu.areas.divisions import area_name, division
from jiuzhu.rules.parameters import default_tree, region_chain
from jiuzhu.rules.programmes import default_catalogue, describe_facts

#: The pilot counties (Da'an, Dachuan, Xincheng, Zhangjiagang). The name list offers their
#: facts whatever region the form holds, since the region may be changed before calculating.
PILOT_REGIONS = ("220882", "511703", "150102", "320582")


def region_name(code: str) -> str:
    """吉林省白城市大安市 for 220882; the code itself when the division table does not know it."""
    return area_name(code) or code


def parameter_names(lang: str) -> list[tuple[str, str]]:
    """Every parameter a case may override, with its description in `lang`, for the name list.

    Area-type variants (`dibao.standard.rural`) are overridden by their common name, which
    means the value for the case's own area type."""
    tree = default_tree()
    found = {name: _("(the value for the case's area type)") for name in tree.variants}
    for leaf, declaration in tree.declarations.items():
        if leaf.rsplit(".", 1)[0] not in tree.variants:
            found[leaf] = declaration.description.get(lang) or declaration.description.get("en", "")
    return sorted(found.items())


@dataclass(frozen=True)
class FactKinds:
    """The declared type (number, boolean, text, date) of each programme fact of a region."""

    household: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)


def programme_facts(region: str, lang: str | None = None) -> dict[str, Any]:
    """`describe_facts` for the programmes in force in a region (national ones for an unknown code)."""
    return describe_facts(default_catalogue().for_region(region_chain(region)), lang)


def fact_kinds(region: str) -> FactKinds:
    facts = programme_facts(region)
    return FactKinds(
        household={name: entry["type"] for name, entry in facts["household"].items()},
        members={name: entry["type"] for name, entry in facts["members"].items()},
    )


def fact_names(region: str, lang: str) -> list[tuple[str, str]]:
    """The programme facts for the name list: the region's own first, then the pilot counties'.

    Each label says what the fact is, whether it belongs to the household or a member,
    what to type as its value and, for a fact the region lacks, the counties that have it."""
    own = programme_facts(region, lang)
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    #: fact name → the pilot counties that have it, for facts the region itself lacks
    elsewhere: dict[str, list[str]] = {}
    for code in dict.fromkeys((region, *PILOT_REGIONS)):
        facts = own if code == region else programme_facts(code, lang)
        for scope in ("household", "members"):
            for name, entry in facts[scope].items():
                found.setdefault(name, (scope, entry))
                if code != region and name not in own[scope]:
                    elsewhere.setdefault(name, []).append(code)
    names = []
    for name, (scope, entry) in found.items():
        parts = [entry["description"], _("household") if scope == "household" else _("member"),
                 value_hint(entry)]
        if name in elsewhere:
            counties = ", ".join(county_name(code, lang) for code in elsewhere[name])
            parts.append(_("only in %(counties)s") % {"counties": counties})
        names.append((name, " · ".join(part for part in parts if part)))
    return names


def value_hint(entry: dict[str, Any]) -> str:
    """What a value of this fact looks like: its choices, true / false, a number or a date."""
    if entry["choices"]:
        return " / ".join(entry["choices"])
    hints = {"boolean": "true / false", "number": _("a number"), "date": _("YYYY-MM-DD")}
    return hints.get(entry["type"], "")


def county_name(code: str, lang: str) -> str:
    """达川区 or Dachuan District: the county's own name (no province or prefecture) in `lang`."""
    found = division(code)
    if found is None:
        return code
    return found.name_zh if lang.startswith("zh") else found.name_en
