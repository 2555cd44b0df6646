"""Shared plumbing of the commands: reading JSON input and reporting problems."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jiuzhu.rules.errors import InvalidCase, Problem
from jiuzhu.rules.errors import gettext_noop as _

#: Exit status for bad input (DOMAIN.md §13).
BAD_INPUT = 2


def read_json(source: str) -> Any:
    """JSON from a file or `-` (standard input); InvalidCase if it is not JSON."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidCase([Problem("", _("cannot read {file}: {error}"),
                                   {"file": source, "error": exc.strerror or str(exc)})]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidCase([Problem("", _("is not valid JSON (line {line}, column {column}): {error}"),
                                   {"line": exc.lineno, "column": exc.colno, "error": exc.msg})]) from exc


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def report(exc: InvalidCase, lang: str | None) -> int:
    """Every problem at once on standard output as `[{path, message}]`, exit status 2."""
    print_json(exc.as_list(lang))
    return BAD_INPUT
