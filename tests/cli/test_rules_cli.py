"""The `jiuzhu rules` and `jiuzhu params` commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.rules.factories import daan_example
from tests.rules.tabular import write_tables


def jiuzhu(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jiuzhu.cli", *args], input=stdin, capture_output=True,
                          text=True, check=False)


def test_evaluate_reads_standard_input_and_explains_in_chinese() -> None:
    done = jiuzhu("rules", "evaluate", "-", "--lang", "zh-hans", stdin=json.dumps(daan_example()))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["topup"], out["classified"], out["total_monthly"]) == (5200.0, 1620.0, 568.33)
    assert out["explanation"][0].startswith("家庭劳动能力系数")


def test_evaluate_bad_input_exits_2_with_every_problem(tmp_path: Path) -> None:
    case: dict[str, Any] = daan_example(region="990101")
    case["household"]["members"][0]["birth_date"] = "2030-01-01"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    done = jiuzhu("rules", "evaluate", str(path))
    assert done.returncode == 2
    problems = {p["path"]: p["message"] for p in json.loads(done.stdout)}
    assert problems == {"region": "“990101” is not a known division code",
                        "household.members[0].birth_date": "is after the case date"}


def test_evaluate_rejects_text_that_is_not_json() -> None:
    done = jiuzhu("rules", "evaluate", "-", stdin="{not json")
    assert done.returncode == 2
    assert json.loads(done.stdout)[0]["message"].startswith("is not valid JSON (line 1")


def test_evaluate_checks_id_numbers_against_birth_date() -> None:
    case = daan_example()
    case["household"]["members"][1]["id_number"] = "11010519491231002X"
    done = jiuzhu("rules", "evaluate", "-", stdin=json.dumps(case))
    assert done.returncode == 2
    assert json.loads(done.stdout) == [{"path": "household.members[1].birth_date",
                                        "message": "does not match the ID number (1949-12-31)"}]


def test_standard_basket_of_the_domain_example() -> None:
    body = {"method": "basket", "year": 2016,
            "groups": {"two_no_worries": 2185.28, "three_guarantees": 3434.01, "others": 899.80}}
    done = jiuzhu("rules", "standard", "-", stdin=json.dumps(body))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["standard"] == 2962
    assert out["trace"][0]["inputs"]["yearbook_year"] == 2014


def test_standard_bad_input() -> None:
    done = jiuzhu("rules", "standard", "-", stdin=json.dumps({"method": "basket", "year": "2016", "groups": {}}))
    assert done.returncode == 2
    paths = {p["path"] for p in json.loads(done.stdout)}
    assert {"year", "groups.two_no_worries"} <= paths


def test_params_check_and_show() -> None:
    check = jiuzhu("params", "check")
    assert check.returncode == 0 and json.loads(check.stdout)["valid"] is True
    show = jiuzhu("params", "show", "dibao.standard", "--region", "220882100201", "--date", "2019-06-30",
                  "--area-type", "urban")
    assert show.returncode == 0, show.stderr
    out = json.loads(show.stdout)
    assert (out["value"], out["region"], out["since"], out["unit"]) == (5760, "220882", "2018-07-01",
                                                                        "CNY/person/year")


def test_params_check_refuses_a_broken_tree(tmp_path: Path) -> None:
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "x.yaml").write_text("values: {2019-01-01: {value: 1}}\n", encoding="utf-8")
    done = jiuzhu("params", "check", "--root", str(tmp_path))
    assert done.returncode == 2
    messages = {p["message"] for p in json.loads(done.stdout)}
    assert "needs a description in zh-hans and en" in messages


def test_batch_writes_results_and_reports_bad_rows(tmp_path: Path) -> None:
    h, m = write_tables([daan_example(parameters={})], tmp_path)
    done = jiuzhu("rules", "batch", "--households", str(h), "--members", str(m), "--out", str(tmp_path / "r.parquet"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "r.parquet").exists()
    bad = daan_example(parameters={})
    bad["household"]["members"][0]["birth_date"] = "2030-01-01"
    h, m = write_tables([bad], tmp_path)
    done = jiuzhu("rules", "batch", "--households", str(h), "--members", str(m), "--out", str(tmp_path / "s.parquet"))
    assert done.returncode == 2
    assert json.loads(done.stdout)["bad_rows"][0] == {"file": "members.parquet", "row": 0, "column": "birth_date",
                                                      "reason": "is after the case date"}
    assert not (tmp_path / "s.parquet").exists()


def test_params_check_also_checks_the_programme_catalogue(tmp_path: Path) -> None:
    import shutil

    from jiuzhu.rules.parameters import PARAMETER_ROOT

    root = tmp_path / "parameters"
    shutil.copytree(PARAMETER_ROOT, root)
    fire = root / "51" / "5117" / "511703" / "catalogue" / "fire_victims.yaml"
    fire.write_text(fire.read_text(encoding="utf-8").replace("period: once", "period: sometimes"), encoding="utf-8")
    done = jiuzhu("params", "check", "--root", str(root))
    assert done.returncode == 2
    assert any(p["file"].endswith("fire_victims.yaml:period") for p in json.loads(done.stdout))
    assert json.loads(jiuzhu("params", "check").stdout)["programmes"] >= 10
