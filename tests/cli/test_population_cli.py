"""`jiuzhu population generate`: files, manifest and reproducibility."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jiuzhu.cli import population

FILES = ("households.parquet", "members.parquet", "manifest.json")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jiuzhu")
    population.register(parser.add_subparsers(dest="group", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def generate(out: Path, seed: int, *extra: str) -> int:
    return run(["population", "generate", "--households", "300", "--seed", str(seed), "--out", str(out),
                *extra])


def test_writes_the_two_tables_and_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate(tmp_path / "county", 3, "--region", "511703", "--date", "2019-06-30") == 0
    manifest = json.loads((tmp_path / "county" / "manifest.json").read_text(encoding="utf-8"))
    households = pq.read_table(tmp_path / "county" / "households.parquet")
    members = pq.read_table(tmp_path / "county" / "members.parquet")
    assert households.num_rows == 300
    assert manifest["households"] == 300
    assert manifest["persons"] == members.num_rows
    assert (manifest["seed"], manifest["region"], manifest["date"]) == (3, "511703", "2019-06-30")
    assert manifest["generator_version"]
    assert json.loads(capsys.readouterr().out) == manifest
    assert households["region"][0].as_py().startswith("511703")


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    assert generate(tmp_path / "a", 9) == 0
    assert generate(tmp_path / "b", 9) == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_writes_different_tables(tmp_path: Path) -> None:
    assert generate(tmp_path / "a", 9) == 0
    assert generate(tmp_path / "b", 10) == 0
    for name in FILES[:2]:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("region", ["220800", "2208821", "220882100"])
def test_region_must_be_a_county_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], region: str
) -> None:
    assert generate(tmp_path / "x", 1, "--region", region) == 2
    assert "--region" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
