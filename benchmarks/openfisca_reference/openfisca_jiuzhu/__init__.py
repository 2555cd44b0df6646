"""openfisca_jiuzhu — a small OpenFisca country package for the dibao means test.

It is the *reference* side of Jiuzhu's batch benchmark: the same formulas as
Jiuzhu's vectorised rules engine (DOMAIN.md §4.3, §6, §14), written the way an
OpenFisca user would write them for a bulk run. It is not used by Jiuzhu itself.

The static parameters (working capacity coefficients) are YAML files in
``parameters/``; the per-county parameters (standard by area type, minimum amount,
adjustment index M, asset limits) are built at start-up from the JSON file the
Jiuzhu side writes (see :func:`county_parameters`), so that both engines use the
same values.

All variables are defined on the YEAR period (amounts are yuan per year), except
``sex`` and ``birth_date`` (ETERNITY). A simulation is computed for the year that
*starts on the parameters' date* (``periods.period("year:2018-07-01")``), so that
``parameters(period)`` reads the values in force on that date and not on 1 January.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from openfisca_core.parameters import ParameterNode
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from . import variables
from .entities import entities

COUNTRY_DIR = os.path.dirname(os.path.abspath(__file__))

AREA_TYPES = ("urban", "rural")

#: National parameters taken from P.json's top level, with Jiuzhu's national values as defaults.
NATIONAL_DEFAULTS = {
    "refused_work_share_reduction": 1.0,  # dibao.refused_work_share_reduction (share withheld)
    "gradual_exit_months": 0,  # dibao.gradual_exit_months (0 before 2020-08-25)
}


def county_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Jiuzhu's ``P.json`` into OpenFisca parameter data (a dict for ``ParameterNode``).

    ``params`` = {"date": "2018-07-01", "counties": {"220882": {"standard": {"urban": ..,
    "rural": ..}, "minimum_amount": .., "adjustment_index": .., "financial_limit_years": ..,
    "max_homes": .., "vehicle_cap": ..}, ...}}. Every value takes effect on ``date``.

    Layout (one node per parameter, one child per county — what fancy indexing by a
    county key needs; the area type above the county because
    ``numpy.where(urban, standard.urban[county], standard.rural[county])`` is the
    cheapest of the indexing forms: 0.35 s at 1 M households against 0.52 s for
    ``standard[county].urban`` / ``.rural`` and 1.2 s for ``standard[county][area_type]``):

        dibao.standard.urban.<county>            yuan per person per year (and .rural.<county>)
        dibao.minimum_amount.<county>            yuan per year
        classified.adjustment_index.<county>     M
        assets.financial_limit_years.<county>    k (financial assets per capita ≤ k × standard)
        assets.max_homes.<county>
        assets.vehicle_cap.<county>              yuan
        dibao.refused_work_share_reduction       national (P.json top level, default 1.0)
        dibao.gradual_exit_months                national (P.json top level, default 0)
    """
    since = str(params["date"])
    counties = params["counties"]
    if not counties:
        raise ValueError("P.json has no counties")

    def dated(value: Any, description: str | None = None) -> dict[str, Any]:
        leaf: dict[str, Any] = {"values": {since: {"value": value}}}
        if description:
            leaf["description"] = description
        return leaf

    standard: dict[str, Any] = {
        "description": "Dibao standard P, yuan per person per year",
        **{area: {} for area in AREA_TYPES},
    }
    minimum: dict[str, Any] = {"description": "Minimum top-up, yuan per year"}
    adjustment: dict[str, Any] = {"description": "Adjustment index M of classified assistance"}
    limit_years: dict[str, Any] = {"description": "Financial assets per capita ≤ k × standard"}
    max_homes: dict[str, Any] = {"description": "Residential homes owned, at most"}
    vehicle_cap: dict[str, Any] = {"description": "Value of non-exempt vehicles, at most (yuan)"}
    for code, county in counties.items():
        key = str(code)
        for area in AREA_TYPES:
            standard[area][key] = dated(county["standard"][area])
        minimum[key] = dated(county["minimum_amount"])
        adjustment[key] = dated(county["adjustment_index"])
        limit_years[key] = dated(county["financial_limit_years"])
        max_homes[key] = dated(county["max_homes"])
        vehicle_cap[key] = dated(county["vehicle_cap"])
    national = {}
    for key, default in NATIONAL_DEFAULTS.items():
        if any(key in county for county in counties.values()):
            raise ValueError(f"P.json: {key} is national here; give it at the top level, not per county")
        national[key] = dated(params.get(key, default))
    return {
        "dibao": {"standard": standard, "minimum_amount": minimum, **national},
        "classified": {"adjustment_index": adjustment},
        "assets": {
            "financial_limit_years": limit_years,
            "max_homes": max_homes,
            "vehicle_cap": vehicle_cap,
        },
    }


class CountryTaxBenefitSystem(TaxBenefitSystem):
    """The dibao reference system; ``params`` is the parsed ``P.json``."""

    CURRENCY = "CNY"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(entities)
        # The class attribute of TaxBenefitSystem is a dict shared by all instances.
        self._parameters_at_instant_cache = {}
        self.add_variables(*variables.ALL)
        self.load_parameters(os.path.join(COUNTRY_DIR, "parameters"))
        self.parameters.merge(ParameterNode("", data=county_parameters(params)))
