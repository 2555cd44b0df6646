"""Evaluating a case for the page and the API with the same checks as `jiuzhu rules evaluate`."""

from __future__ import annotations

from typing import Any

from jiuzhu.registry.checks import identity_check, known_region
from jiuzhu.rules.evaluate import evaluate_case


def evaluate(case: Any, lang: str) -> Any:
    """The engine's result for one case or a list; raises InvalidCase with every problem.

    Unknown division codes and bad resident ID numbers are refused exactly as on the command line."""
    return evaluate_case(case, lang=lang, known_region=known_region, check_identity=identity_check)
