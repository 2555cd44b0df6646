"""`rules simulate`: recompute a population under a reform and compare (DOMAIN.md §12).

A reform is a YAML file of parameter overrides; an optional `baseline` block changes the
"before" side too, so that two methods can be compared on the same date (the Da'an
comparison of the old category increments with the working capacity method):

    name: Da'an working capacity method
    baseline:                      # optional: overrides for the situation before
      classified.method: category_increments
    parameters:                    # the reform
      classified.method: working_capacity
      classified.adjustment_index: 0.25

Households are *up* or *down* when the reform changes their annual amount by more than
1% (a parameter of the comparison, not a rule), *unchanged* within it, *entering* when
they receive nothing before and something after, *leaving* the other way round.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from jiuzhu.rules.batch import compute_files
from jiuzhu.rules.errors import InvalidCase, Problem, TemplateError
from jiuzhu.rules.errors import gettext_noop as _
from jiuzhu.rules.parameters import ParameterTree, Scalar, default_tree

UNCHANGED_WITHIN = 0.01
_REFORM_KEYS = {"name", "description", "baseline", "parameters", "unchanged_within"}
OUTCOMES = ("up", "down", "unchanged", "entering", "leaving", "not_receiving")


@dataclass
class Reform:
    name: str
    parameters: dict[str, Scalar]
    baseline: dict[str, Scalar] = field(default_factory=dict)
    unchanged_within: float = UNCHANGED_WITHIN


def read_reform(path: str | Path, tree: ParameterTree | None = None) -> Reform:
    """A reform file, checked against the parameter declarations (every problem at once)."""
    tree = tree or default_tree()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidCase([Problem(str(path), _("cannot be read as YAML: {error}"),
                                   {"error": str(exc).splitlines()[0]})]) from exc
    if not isinstance(data, dict):
        raise InvalidCase([Problem(str(path), _("must be a mapping"))])
    problems = [Problem(key, _("is not a known field")) for key in sorted(set(data) - _REFORM_KEYS)]

    def overrides(block: str) -> dict[str, Scalar]:
        raw = data.get(block) or {}
        if not isinstance(raw, dict):
            problems.append(Problem(block, _("must be a mapping of parameter names to values")))
            return {}
        out: dict[str, Scalar] = {}
        for name, value in raw.items():
            try:
                # Area-type variants (dibao.standard) may be overridden as a whole or per variant.
                out[name] = tree.convert_override(name, "rural", value)
            except TemplateError as exc:
                problems.append(exc.problem(f"{block}.{name}"))
        return out

    reform = Reform(name=str(data.get("name") or Path(path).stem), parameters=overrides("parameters"),
                    baseline=overrides("baseline"))
    within = data.get("unchanged_within", UNCHANGED_WITHIN)
    if isinstance(within, bool) or not isinstance(within, int | float) or not 0 <= within < 1:
        problems.append(Problem("unchanged_within", _("must be a share between 0 and 1")))
    else:
        reform.unchanged_within = float(within)
    if not data.get("parameters"):
        problems.append(Problem("parameters", _("the reform changes no parameter")))
    if problems:
        raise InvalidCase(problems)
    return reform


def _results(folder: Path, overrides: Mapping[str, Scalar], tree: ParameterTree,
             known_region: Callable[[str], bool] | None) -> pa.Table:
    tables = list(compute_files(folder / "households.parquet", folder / "members.parquet", tree=tree,
                                known_region=known_region, overrides=overrides))
    return pa.concat_tables(tables)


def household_types(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Area (township code) and a household type for the breakdowns."""
    h = pq.read_table(folder / "households.parquet", columns=["household_id", "region", "date"])
    m = pq.read_table(folder / "members.parquet", columns=["household_id", "birth_date", "disability_grade"]
                      if "disability_grade" in pq.read_schema(folder / "members.parquet").names
                      else ["household_id", "birth_date"])
    position = pc.index_in(m.column("household_id"), value_set=h.column("household_id").combine_chunks())
    where = position.to_numpy(zero_copy_only=False).astype(np.int64)
    on = h.column("date").cast(pa.int32()).to_numpy()[where]
    age = (on - m.column("birth_date").cast(pa.int32()).to_numpy()) / 365.25
    n = h.num_rows
    minor = np.bincount(where, weights=age < 18, minlength=n) > 0
    not_elderly = np.bincount(where, weights=age < 60, minlength=n) > 0
    severe = np.zeros(n, dtype=bool)
    if "disability_grade" in m.column_names:
        grade = m.column("disability_grade").cast(pa.float64()).to_numpy(zero_copy_only=False)
        severe = np.bincount(where, weights=np.nan_to_num(grade, nan=99) <= 2, minlength=n) > 0
    kind = np.where(severe, "with_severe_disability", np.where(~not_elderly, "elderly_only",
                    np.where(minor, "with_children", "other")))
    regions = h.column("region").to_numpy(zero_copy_only=False).astype(str)
    area = np.array([r[:9] if len(r) >= 9 else r for r in regions])
    return area, kind


def _outcome(before: np.ndarray, after: np.ndarray, within: float) -> np.ndarray:
    both = (before > 0) & (after > 0)
    change = np.divide(after - before, before, out=np.zeros(len(before)), where=before > 0)
    return np.select(
        [(before == 0) & (after > 0), (before > 0) & (after == 0), both & (change > within),
         both & (change < -within), both],
        ["entering", "leaving", "up", "down", "unchanged"], default="not_receiving")


def _summary(before: np.ndarray, after: np.ndarray, outcome: np.ndarray) -> dict[str, Any]:
    cost_before, cost_after = float(before.sum()), float(after.sum())
    counts = {o: int((outcome == o).sum()) for o in OUTCOMES}
    return {
        "households": len(before),
        "cost_before": round(cost_before, 2), "cost_after": round(cost_after, 2),
        "cost_change": round(cost_after - cost_before, 2),
        "cost_change_share": round((cost_after - cost_before) / cost_before, 4) if cost_before else None,
        "receiving_before": int((before > 0).sum()), "receiving_after": int((after > 0).sum()),
        **counts,
    }


def simulate(folder: str | Path, reform: Reform, *, tree: ParameterTree | None = None,
             known_region: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Cost and winners and losers of a reform on a population, overall, by area and by type."""
    folder = Path(folder)
    tree = tree or default_tree()
    base = _results(folder, reform.baseline, tree, known_region)
    new = _results(folder, {**reform.baseline, **reform.parameters}, tree, known_region)
    before = base.column("total_annual").to_numpy()
    after = new.column("total_annual").to_numpy()
    outcome = _outcome(before, after, reform.unchanged_within)
    area, kind = household_types(folder)
    size = np.minimum(base.column("size").to_numpy(), 5)
    result: dict[str, Any] = {"reform": reform.name, "parameters": _plain(reform.parameters),
                              "baseline": _plain(reform.baseline), "unchanged_within": reform.unchanged_within,
                              "overall": _summary(before, after, outcome)}
    for label, groups in (("by_area", area), ("by_household_type", kind),
                          ("by_size", np.where(size >= 5, "5+", size.astype(str)))):
        result[label] = {str(g): _summary(before[groups == g], after[groups == g], outcome[groups == g])
                         for g in sorted(set(groups.tolist()))}
    result["_households"] = (base.column("household_id"), before, after, outcome)
    return result


def _plain(values: Mapping[str, Scalar]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def write_outputs(result: dict[str, Any], out: str | Path) -> list[Path]:
    """summary.json, by_area.csv, by_household_type.csv, by_size.csv and households.csv."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids, before, after, outcome = result.pop("_households")
    written = [out / "summary.json"]
    written[0].write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    columns = ["group", "households", "cost_before", "cost_after", "cost_change", "cost_change_share",
               "receiving_before", "receiving_after", *OUTCOMES]
    for label in ("by_area", "by_household_type", "by_size"):
        path = out / f"{label}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for group, row in result[label].items():
                writer.writerow([group, *(row[c] for c in columns[1:])])
        written.append(path)
    path = out / "households.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["household_id", "total_before", "total_after", "outcome"])
        for row in zip(ids.to_pylist(), before.tolist(), after.tolist(), outcome.tolist(), strict=True):
            writer.writerow(row)
    written.append(path)
    return written


def format_summary(result: dict[str, Any]) -> str:
    """A few lines a policy officer reads first."""
    o = result["overall"]
    share = o["cost_change_share"]
    lines = [
        f"{result['reform']}: {o['households']} households",
        f"cost {o['cost_before']:,.2f} → {o['cost_after']:,.2f} yuan/year"
        + (f" ({share:+.1%})" if share is not None and not math.isnan(share) else ""),
        "up {up}, down {down}, unchanged {unchanged}, entering {entering}, leaving {leaving}".format(**o),
    ]
    return "\n".join(lines)
