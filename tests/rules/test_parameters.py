"""The parameter tree: resolution by region and date, and refusal of bad files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from jiuzhu.rules.parameters import (
    PARAMETER_ROOT,
    NotInForce,
    ParameterContext,
    ParameterError,
    default_tree,
    load_tree,
    region_chain,
)


def test_region_chain_goes_from_village_to_province() -> None:
    assert region_chain("220882100201") == ["220882100201", "220882100", "220882", "2208", "22"]
    assert region_chain("220800") == ["2208", "22"]


def test_most_specific_level_wins_and_falls_back_to_national() -> None:
    ctx = ParameterContext(default_tree(), "220882100201", dt.date(2019, 6, 30), "rural")
    assert (ctx.get("classified.adjustment_index").region, ctx.get("edge.income_multiple").region) == (
        "220882", "national")


def test_urban_and_rural_variants() -> None:
    tree = default_tree()
    urban = ParameterContext(tree, "511703", dt.date(2019, 1, 1), "urban").number("dibao.standard")
    rural = ParameterContext(tree, "511703", dt.date(2019, 1, 1), "rural").number("dibao.standard")
    assert (urban, rural) == (6240, 3960)


def test_pilot_standards_of_mid_2018() -> None:
    tree = default_tree()
    monthly = {code: [ParameterContext(tree, code, dt.date(2018, 7, 1), a).number("dibao.standard") / 12
                      for a in ("urban", "rural")] for code in ("220882", "511703", "150102", "320582")}
    assert monthly == {"220882": [480, 300], "511703": [520, 330], "150102": [670, 468], "320582": [875, 875]}


def test_value_not_in_force_raises() -> None:
    with pytest.raises(NotInForce):
        ParameterContext(default_tree(), "220882", dt.date(2010, 1, 1), "rural").get("dibao.standard")


def test_every_value_in_the_shipped_tree_has_a_source() -> None:
    tree = default_tree()
    for levels in tree.values.values():
        for dated in levels.values():
            assert all(d.reference for d in dated if d.value is not None)


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "parameters"
    shutil.copytree(PARAMETER_ROOT, root)
    return root


def test_bad_files_are_refused_with_file_key_and_reason(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    (root / "national" / "edge" / "income_multiple.yaml").write_text(
        "description: {zh-hans: 倍数, en: multiple}\nunit: multiple\nvalues:\n  2019-13-01: {value: 1.5, "
        "reference: x}\n  2020-01-01: {value: abc, reference: x}\n  2021-01-01: {value: 2}\n", encoding="utf-8")
    (root / "22" / "2208" / "220882" / "dibao" / "colour.yaml").write_text(
        "values: {2019-01-01: {value: 1, reference: x}}\n", encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_tree(root)
    found = {(p.path, p.message()) for p in caught.value.problems}
    assert ("national/edge/income_multiple.yaml:values.2019-13-01", "is not a date (YYYY-MM-DD)") in found
    assert ("national/edge/income_multiple.yaml:values.2020-01-01.value", "must be a number") in found
    assert ("national/edge/income_multiple.yaml:values.2021-01-01.reference",
            "every value needs a reference (its source)") in found
    assert ("22/2208/220882/dibao/colour.yaml:dibao.colour",
            "parameter “dibao.colour” is not declared in national/") in found


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    (root / "national" / "broken.yaml").write_text("values: [1, 2\n", encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_tree(root)
    assert any(p.path == "national/broken.yaml" and "not valid YAML" in p.message() for p in caught.value.problems)
