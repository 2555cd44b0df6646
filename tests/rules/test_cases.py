"""Rule tests written as data: every case in tests/rules/cases/*.yaml through `evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from jiuzhu.rules.evaluate import evaluate

CASES = [(path.stem, case) for path in sorted((Path(__file__).parent / "cases").glob("*.yaml"))
         for case in yaml.safe_load(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize(("file", "case"), CASES, ids=[f"{f}: {c['name']}" for f, c in CASES])
def test_rule_case(file: str, case: dict[str, Any]) -> None:
    result = evaluate(case["input"], with_trace=False)
    assert {k: result[k] for k in case["expected"]} == case["expected"]


def test_there_are_cases() -> None:
    assert len(CASES) >= 7
