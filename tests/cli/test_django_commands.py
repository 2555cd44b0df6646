"""`jiuzhu <django command>`: Django's management commands through the jiuzhu script, on the
database DATABASE_URL names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jiuzhu.cli import main


def jiuzhu(*args: str, database: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    if database is not None:
        env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run([sys.executable, "-m", "jiuzhu.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_check_exits_0(tmp_path: Path) -> None:
    result = jiuzhu("check", database=tmp_path / "check.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_migrate_builds_an_empty_database_named_by_database_url(tmp_path: Path) -> None:
    database = tmp_path / "empty.sqlite3"
    assert not database.exists()
    result = jiuzhu("migrate", "--no-input", database=database)
    assert result.returncode == 0, result.stderr
    assert database.exists()
    # The new database is the one the jiuzhu commands read: an empty, intact audit log.
    verified = jiuzhu("audit", "verify", database=database)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == {"ok": True, "entries": 0, "broken_at": None, "problem": ""}


def test_an_unknown_command_fails_like_django_does(tmp_path: Path) -> None:
    result = jiuzhu("no-such-command", database=tmp_path / "x.sqlite3")
    assert result.returncode == 1
    assert "Unknown command" in result.stderr


def test_help_mentions_the_django_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert "audit" in help_text
    assert "migrate" in help_text
    assert "runserver" in help_text
    assert "<django command>" in help_text


def test_every_migration_of_ours_reverses_and_applies_again(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "reverse.sqlite3"
    assert jiuzhu("migrate", "--no-input", database=database).returncode == 0
    for app in ("verification", "casework", "registry", "admin", "axes", "otp_totp", "accounts", "areas"):
        reversed_ = jiuzhu("migrate", app, "zero", "--no-input", database=database)
        assert reversed_.returncode == 0, (app, reversed_.stderr)
    tables = {row[0] for row in sqlite3.connect(database).execute("select name from sqlite_master where type='table'")}
    assert not {t for t in tables if t.split("_")[0] in ("verification", "casework", "registry", "accounts", "areas")}
    again = jiuzhu("migrate", "--no-input", database=database)
    assert again.returncode == 0, again.stderr
    assert jiuzhu("makemigrations", "--check", "--dry-run", database=database).returncode == 0
