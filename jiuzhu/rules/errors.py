"""One error type for the whole engine, carrying every problem at once.

A problem keeps its message as an English template plus arguments, so the same problem
reads in zh-hans on the page and in English on the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jiuzhu.rules.i18n import translate


def gettext_noop(message: str) -> str:
    """Marks a message for extraction; it is translated when it is shown."""
    return message


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input, and where: `household.members[1].birth_date`."""

    path: str
    template: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        return translate(self.template, lang).format(**self.args)

    def as_dict(self, lang: str | None = None) -> dict[str, str]:
        return {"path": self.path, "message": self.message(lang)}


class InvalidCase(Exception):
    """A case (or a batch row) that cannot be computed; nothing is computed for it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message()}" for p in problems))

    def as_list(self, lang: str | None = None) -> list[dict[str, str]]:
        return [p.as_dict(lang) for p in self.problems]


class TemplateError(ValueError):
    """A ValueError whose reason is a translatable template with arguments."""

    def __init__(self, template: str, **args: Any):
        self.template = template
        self.args_ = args
        super().__init__(template.format(**args))

    def problem(self, path: str) -> Problem:
        return Problem(path, self.template, self.args_)
