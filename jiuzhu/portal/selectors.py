"""Reads the calculator needs besides the engine's result."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jiuzhu.areas.divisions import area_name
from jiuzhu.rules.parameters import default_tree


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
