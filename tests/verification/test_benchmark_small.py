"""The verification benchmark end to end at a tiny size: files written, read, linked, checked, scored."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "verification.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verification_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_runs_small_and_meets_the_quality_targets(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = load_benchmark()
    code = benchmark.main(["--persons", "2000", "--records", "10000", "--runs", "1", "--in-process", "--json",
                           "--out", str(tmp_path)])
    assert code == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(last) == {"persons", "records", "seconds", "peak_rss_mb", "precision", "recall"}
    assert (last["persons"], last["records"]) == (2000, 10000)
    assert last["precision"] >= 0.99 and last["recall"] >= 0.95
    assert 0 < last["seconds"] < 60 and last["peak_rss_mb"] > 0
    folder = next(tmp_path.glob("verification-2000-10000-*"))
    # ten department files; persons, members, households, enrolments, declared facts; the truth
    assert len(list(folder.glob("*.parquet"))) == 10 + 6
