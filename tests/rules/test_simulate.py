"""`rules simulate`: a reform's cost, winners and losers on a population."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.population import generate
from jiuzhu.rules.simulate import read_reform, simulate, write_outputs
from tests.rules.factories import adult, household
from tests.rules.tabular import write_tables

REFORMS = Path(__file__).resolve().parents[2] / "reforms"


def _population(folder: Path, n: int = 2000) -> Path:
    h, m = generate(n, 11, "220882", dt.date(2019, 6, 30))
    pq.write_table(h, folder / "households.parquet")
    pq.write_table(m, folder / "members.parquet")
    return folder


def test_outcomes_of_known_households(tmp_path: Path) -> None:
    cases = [
        household([adult("a")], income=[{"kind": "wage", "amount": 1000}]),           # gets more
        household([adult("a")], income=[{"kind": "wage", "amount": 3700}]),           # enters
        household([adult("a")], income=[{"kind": "wage", "amount": 90000}]),          # never receives
    ]
    write_tables(cases, tmp_path)
    reform_file = tmp_path / "reform.yaml"
    reform_file.write_text("name: higher standard\nparameters:\n  dibao.standard.rural: 4000\n", encoding="utf-8")
    result = simulate(tmp_path, read_reform(reform_file))
    overall = result["overall"]
    assert (overall["up"], overall["entering"], overall["not_receiving"], overall["leaving"]) == (1, 1, 1, 0)
    assert overall["cost_before"] == 2600.0 and overall["cost_after"] == 3000.0 + 300.0


def test_daan_comparison_on_a_generated_county(tmp_path: Path) -> None:
    folder = _population(tmp_path)
    result = simulate(folder, read_reform(REFORMS / "daan_wci.yaml"))
    overall = result["overall"]
    counted = sum(overall[k] for k in ("up", "down", "unchanged", "entering", "leaving", "not_receiving"))
    assert counted == overall["households"] == 2000
    assert overall["up"] > 0 and overall["down"] > 0
    assert sum(g["households"] for g in result["by_household_type"].values()) == 2000
    written = write_outputs(result, tmp_path / "out")
    assert json.loads(written[0].read_text(encoding="utf-8"))["overall"] == overall
    lines = (tmp_path / "out" / "households.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2001 and lines[0] == "household_id,total_before,total_after,outcome"


def test_bad_reform_lists_every_problem(tmp_path: Path) -> None:
    reform_file = tmp_path / "bad.yaml"
    reform_file.write_text("colour: red\nparameters:\n  dibao.standrd: 1\n  classified.method: magic\n",
                           encoding="utf-8")
    with pytest.raises(InvalidCase) as caught:
        read_reform(reform_file)
    paths = {p["path"] for p in caught.value.as_list()}
    assert paths == {"colour", "parameters.dibao.standrd", "parameters.classified.method"}


def test_cli_prints_and_writes(tmp_path: Path) -> None:
    folder = _population(tmp_path, 500)
    done = subprocess.run([sys.executable, "-m", "jiuzhu.cli", "rules", "simulate", "--population", str(folder),
                           "--reform", str(REFORMS / "raise_standard_10pct_daan.yaml"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)["overall"]
    assert summary["cost_after"] > summary["cost_before"] and summary["down"] == 0
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "summary.json", "by_area.csv", "by_household_type.csv", "by_size.csv", "households.csv"}
