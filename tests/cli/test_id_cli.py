"""`jiuzhu id check`: JSON verdict and exit status."""

from __future__ import annotations

import argparse
import json

import pytest

from jiuzhu.cli import ids


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jiuzhu")
    ids.register(parser.add_subparsers(dest="group", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_valid_number_prints_what_it_encodes_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["id", "check", "11010519491231002x"]) == 0
    out = capsys.readouterr().out
    assert "北京市朝阳区" in out  # not escaped
    assert json.loads(out) == {
        "valid": True,
        "sex": "female",
        "birth_date": "1949-12-31",
        "area_code": "110105",
        "area_name": "北京市朝阳区",
        "errors": [],
    }


def test_invalid_number_prints_the_errors_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["id", "check", "110105194912310021"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["valid"] is False
    assert result["sex"] is None
    assert len(result["errors"]) == 1
