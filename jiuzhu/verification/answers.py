"""Reading and checking a department's answer file (DOMAIN.md §8; docs/verification_exchange.md).

An answer file is accepted whole or not at all: every bad row is found in one pass (Polars
expressions over the whole file, not a loop that stops at the first) and reported as
(row, column, reason), so the department fixes its file in one round. Every cell is read
as text: ID numbers keep their trailing X, amounts keep their exact decimals.

Checks that need the database (does the request exist, was it answered already) are made
by the service with the request ids this module hands back; the shape of each cell is
checked here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

#: Columns every answer file has before the department's items, in this order.
ANSWER_COLUMNS = ("request_id", "id_number", "name", "birth_date", "sex", "found", "as_of")
#: Columns of a department list (deaths, certificates, claims), sent without a request.
LIST_COLUMNS = ("record_id", "id_number", "name", "birth_date", "sex", "area_code", "found", "as_of")
KINDS = ("answer", "list")
EARLIEST = dt.date(1900, 1, 1)
_ID_SHAPE = r"^[0-9]{17}[0-9X]$"
_DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_MONEY_SHAPE = r"^[0-9]+(\.[0-9]{1,2})?$"
_NUMBER_SHAPE = r"^[0-9]+(\.[0-9]+)?$"


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class AnswerFileError(ValueError):
    """The file cannot be imported; `problems` lists every reason, row by row."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


def base_columns(kind: str) -> tuple[str, ...]:
    return ANSWER_COLUMNS if kind == "answer" else LIST_COLUMNS


def read_table(path: Path, fmt: str) -> tuple[pl.DataFrame, int]:
    """The file as a frame of text columns, and the row number of its first record
    (2 where a header row comes first, 1 for JSON's first object)."""
    try:
        if fmt == "csv":
            return pl.scan_csv(path, infer_schema=False, encoding="utf8").collect(engine="streaming"), 2
        if fmt == "xlsx":
            return pl.read_excel(path, engine="calamine", infer_schema_length=0), 2
        if fmt == "json":
            return _read_json(path), 1
    except AnswerFileError:
        raise
    except Exception as exc:
        raise AnswerFileError([Problem(0, "", _("the file cannot be read as %(fmt)s: %(error)s")
                                       % {"fmt": fmt.upper(), "error": str(exc).splitlines()[0][:200]})]) from exc
    raise AnswerFileError([Problem(0, "", _("“%(fmt)s” is not an exchange format (csv, xlsx, json)") % {"fmt": fmt})])


def _read_json(path: Path) -> pl.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise AnswerFileError([Problem(0, "", _("a JSON answer file is one array of objects"))])
    columns: list[str] = []
    for record in data:
        columns.extend(k for k in record if k not in columns)

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return pl.DataFrame({c: [text(r.get(c)) for r in data] for c in columns}, schema=dict.fromkeys(columns, pl.String))


def check(frame: pl.DataFrame, first_row: int, kind: str, items: list[dict[str, Any]], today: dt.date
          ) -> tuple[pl.DataFrame, list[Problem]]:
    """The typed frame (dates as dates, `found` as bool, a `row` column) and every problem.

    Item columns stay text here; `item_values` turns one row's items into JSON values."""
    expected = [*base_columns(kind), *(item["name"] for item in items)]
    problems: list[Problem] = []
    for column in expected:
        if column not in frame.columns:
            problems.append(Problem(0, column, _("the column is missing")))
    for column in frame.columns:
        if column not in expected:
            problems.append(Problem(0, column, _("unknown column (expected: %(columns)s)")
                                    % {"columns": ", ".join(expected)}))
    if problems:
        raise AnswerFileError(problems)
    if frame.height == 0:
        raise AnswerFileError([Problem(0, "", _("the file holds no rows"))])
    frame = frame.select(expected).with_columns(pl.all().str.strip_chars())
    frame = frame.with_columns(pl.when(pl.all().str.len_chars() == 0).then(None).otherwise(pl.all()).name.keep())
    frame = frame.with_row_index("row", offset=first_row).with_columns(pl.col("row").cast(pl.Int64))
    frame = frame.with_columns(pl.col("id_number").str.to_uppercase())

    found = pl.col("found")
    rules: list[tuple[str, pl.Expr, str]] = [
        (base_columns(kind)[0], pl.col(base_columns(kind)[0]).is_null(), _("the id is missing")),
        ("id_number", pl.col("id_number").is_not_null() & ~pl.col("id_number").str.contains(_ID_SHAPE),
         _("not an ID number: 18 characters, digits and a final digit or X")),
        ("name", pl.col("name").is_null(), _("the name is missing")),
        ("sex", pl.col("sex").is_not_null() & ~pl.col("sex").is_in(["male", "female"]),
         _("sex must be male or female")),
        ("found", found.is_null() | ~found.is_in(["yes", "no"]), _("found must be yes or no")),
    ]
    if kind == "list":
        area = pl.col("area_code")
        rules.append(("area_code", area.is_not_null() & ~area.str.contains(r"^[0-9]{2,12}$"),
                      _("not an area code (2 to 12 digits)")))
    rules += _date_rules("birth_date", today, required=False)
    rules += _date_rules("as_of", today, required=True)
    for item in items:
        rules += _item_rules(item, today)
    for column, bad, reason in rules:
        for row in frame.filter(bad.fill_null(False))["row"].to_list():
            problems.append(Problem(int(row), column, reason))
    order = {c: i for i, c in enumerate(expected)}
    problems.sort(key=lambda p: (p.row, order.get(p.column, 99)))
    typed = frame.with_columns(
        pl.col("birth_date").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.col("as_of").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        (found == "yes").alias("found"),
    )
    return typed, problems


def _date_rules(column: str, today: dt.date, *, required: bool) -> list[tuple[str, pl.Expr, str]]:
    value = pl.col(column)
    parsed = value.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    rules = [
        (column, value.is_not_null() & (~value.str.contains(_DATE_SHAPE) | parsed.is_null()),
         _("not a date (YYYY-MM-DD, a day that exists)")),
        (column, parsed.is_not_null() & ((parsed > pl.lit(today)) | (parsed < pl.lit(EARLIEST))),
         _("impossible date: after today or before 1900")),
    ]
    if required:
        rules.append((column, value.is_null(), _("the date is missing")))
    return rules


def _item_rules(item: dict[str, Any], today: dt.date) -> list[tuple[str, pl.Expr, str]]:
    name, kind = item["name"], item["type"]
    value = pl.col(name)
    given = value.is_not_null()
    rules: list[tuple[str, pl.Expr, str]] = [
        (name, given & (pl.col("found") == "no"), _("no record was found, yet a value is given")),
    ]
    if kind in ("money", "number"):
        negative = given & value.str.starts_with("-")
        shape = _MONEY_SHAPE if kind == "money" else _NUMBER_SHAPE
        rules += [
            (name, negative, _("negative amount")),
            (name, given & ~negative & ~value.str.contains(shape),
             _("not an amount in yuan (digits, at most two decimals)") if kind == "money" else _("not a number")),
        ]
    elif kind == "date":
        rules += _date_rules(name, today, required=False)
    return rules


def item_values(row: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """One checked row's items as JSON values: money and numbers as strings of their exact
    decimals (Decimal-safe), dates as ISO text, text as text; missing items left out."""
    return {item["name"]: row[item["name"]] for item in items if row.get(item["name"]) is not None}
