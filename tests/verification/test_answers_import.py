"""Answer files: strict (any bad row rejects the whole file, every bad row reported),
idempotent (the same file twice adds nothing), linked to the person asked about, and
turned into verified facts beside the declared ones."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.registry.models import AssetRecord, IncomeRecord, Source
from jiuzhu.verification import imports, services
from jiuzhu.verification.models import Answer, AnswerFile, Department, FileStatus, LinkStatus, Status
from jiuzhu.verification.models import VerificationRequest as Request
from tests.casework.test_procedure import _intake, _staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ASKED_ON = dt.date(2026, 9, 29)
TODAY = dt.date(2026, 11, 25)


def _sent(staff: dict[str, Any], code: str) -> list[Request]:
    application = _intake(staff)
    department = Department.objects.get(code=code)
    services.request_verification(by=staff["officer"], household=application.household, departments=[department],
                                  reason="低保申请核对", reference=f"application:{application.pk}", on=ASKED_ON)
    services.export_requests(by=staff["officer"], department=department, fmt="csv", on=ASKED_ON)
    return list(Request.objects.filter(department=department).select_related("person").order_by("request_id"))


def _row(request: Request, **items: str) -> dict[str, str]:
    p = request.person
    return {"request_id": request.request_id, "id_number": p.id_number, "name": p.name,
            "birth_date": p.birth_date.isoformat(), "sex": p.sex, "found": "yes" if items else "no",
            "as_of": "2026-10-09", **items}


def _csv(tmp_path: Path, rows: list[dict[str, str]], columns: list[str], name: str = "answer.csv") -> Path:
    path = tmp_path / name
    pl.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
                 ).write_csv(path)
    return path


BANK_COLUMNS = ["request_id", "id_number", "name", "birth_date", "sex", "found", "as_of", "bank", "account", "balance"]


def _import(staff: dict[str, Any], path: Path, code: str = "banks") -> imports.ImportResult:
    return imports.import_answer_file(by=staff["officer"], department=Department.objects.get(code=code), path=path,
                                      file_name=path.name, today=TODAY)


def test_a_good_file_becomes_verified_facts_and_answers_the_requests(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    rows = [_row(head, bank="农业银行", account="6228480001", balance="1200.50"),
            _row(head, bank="农村信用社", account="6229000002", balance="300"),
            _row(spouse)]
    result = _import(staff, _csv(tmp_path, rows, BANK_COLUMNS))
    assert result.accepted and not result.problems
    assert result.counts["linked"] == 3 and result.counts["facts"] == 2
    deposits = {a.person.name: a.value for a in AssetRecord.objects.filter(source=Source.VERIFIED, kind="deposit")}
    # Two accounts of the head are summed; the spouse's "no account found" verifies a zero.
    assert deposits == {"王大明": Decimal("1500.50"), "李秀兰": Decimal("0.00")}
    assert set(Request.objects.values_list("status", flat=True)) == {Status.ANSWERED}
    assert Answer.objects.filter(link_method="request").count() == 3
    assert AuditEntry.objects.filter(action="verification.answers_import").count() == 1


def test_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    path = _csv(tmp_path, [_row(head, bank="农业银行", account="1", balance="10"), _row(spouse)], BANK_COLUMNS)
    first = _import(staff, path)
    again = _import(staff, path)
    assert again.duplicate and again.file == first.file
    assert Answer.objects.count() == 2
    assert AssetRecord.objects.filter(source=Source.VERIFIED).count() == 2


def test_one_bad_row_rejects_the_whole_file_with_every_problem(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    rows = [_row(head, bank="农业银行", account="1", balance="-5"),
            {**_row(spouse, bank="x", account="2", balance="1,000"), "birth_date": "1972-02-30"},
            {**_row(spouse), "request_id": "VR-banks-20260929-99999", "id_number": "22088219720501"}]
    result = _import(staff, _csv(tmp_path, rows, BANK_COLUMNS))
    assert not result.accepted
    got = [(p.row, p.column, p.reason) for p in result.problems]
    assert got == [
        (2, "balance", "negative amount"),
        (3, "birth_date", "not a date (YYYY-MM-DD, a day that exists)"),
        (3, "balance", "not an amount in yuan (digits, at most two decimals)"),
        (4, "request_id", "no request with this id was sent to Banks (deposits)"),
        (4, "id_number", "not an ID number: 18 characters, digits and a final digit or X"),
    ]
    stored = AnswerFile.objects.get()
    assert stored.status == FileStatus.REJECTED and len(stored.problems) == 5
    assert not Answer.objects.exists() and not AssetRecord.objects.filter(source=Source.VERIFIED).exists()
    assert set(Request.objects.values_list("status", flat=True)) == {Status.SENT}


def test_missing_and_unknown_columns_are_named(tmp_path: Path) -> None:
    staff = _staff()
    head, _spouse = _sent(staff, "banks")
    columns = [c for c in BANK_COLUMNS if c != "balance"] + ["remark"]
    result = _import(staff, _csv(tmp_path, [_row(head, bank="a", account="1")], columns))
    assert [(p.column, p.reason.split(" (")[0]) for p in result.problems] == [
        ("balance", "the column is missing"), ("remark", "unknown column")]


def test_an_answer_to_a_request_answered_already_is_refused(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    _import(staff, _csv(tmp_path, [_row(head), _row(spouse)], BANK_COLUMNS, "first.csv"))
    later = _import(staff, _csv(tmp_path, [_row(head, bank="a", account="1", balance="9")], BANK_COLUMNS, "late.csv"))
    assert [(p.row, p.reason) for p in later.problems] == [(2, "this request was answered already (file first.csv)")]


def test_json_answers_with_monthly_income(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "social_insurance")
    rows = [{**_row(head, pension_monthly="150.5"), "unemployment_benefit_monthly": None}, _row(spouse)]
    path = tmp_path / "si.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = _import(staff, path, "social_insurance")
    assert result.accepted, result.problems
    pension = IncomeRecord.objects.get(source=Source.VERIFIED, kind="pension", person=head.person)
    assert pension.amount == Decimal("1806.00")  # 150.50 a month, a year of it
    assert pension.source_detail == f"social_insurance {head.request_id}"


def test_a_record_with_another_id_number_waits_for_a_person_to_confirm(tmp_path: Path) -> None:
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    typo = {**_row(head, bank="农业银行", account="1", balance="800"), "id_number": ""}
    result = _import(staff, _csv(tmp_path, [typo, _row(spouse)], BANK_COLUMNS))
    assert result.accepted
    row = Answer.objects.get(row=2)
    assert row.link_method == "probabilistic" and row.match_weight is not None
    assert row.link_status in (LinkStatus.LINKED, LinkStatus.TO_CONFIRM)
    if row.link_status == LinkStatus.TO_CONFIRM:
        assert not AssetRecord.objects.filter(source=Source.VERIFIED, person=head.person).exists()
        imports.confirm_link(by=staff["officer"], answer=row, person=head.person, reason="姓名、出生日期一致")
    assert AssetRecord.objects.get(source=Source.VERIFIED, person=head.person).value == Decimal("800.00")


def test_discrepancies_are_listed_and_an_officer_override_wins_in_the_means_test(tmp_path: Path) -> None:
    from django.core.exceptions import ValidationError

    from jiuzhu.casework.means_test import build_case
    from jiuzhu.registry import services as registry
    from jiuzhu.verification import selectors

    staff = _staff()
    head, spouse = _sent(staff, "banks")
    household = head.household
    AssetRecord.objects.create(household=household, person=head.person, kind="deposit", value=Decimal("1000"))
    _import(staff, _csv(tmp_path, [_row(head, bank="农业银行", account="1", balance="9000"),
                                   _row(spouse, bank="农业银行", account="2", balance="1020")], BANK_COLUMNS))
    [found] = selectors.discrepancies(household, TODAY)
    # Declared 1,000; the bank holds 9,000 + 1,020: the difference is far beyond 100 yuan and 5%.
    assert (found.record, found.kind, found.declared, found.verified) == ("asset", "deposit", Decimal("1000"),
                                                                         Decimal("10020.00"))
    assert found.difference == Decimal("9020.00") and found.sources == ("banks",)
    case, _declared = build_case(household, TODAY)
    assert sorted(a["value"] for a in case["household"]["assets"]) == [1020, 9000]

    with pytest.raises(ValidationError, match="write why"):
        registry.fact_override(by=staff["officer"], household=household, category="asset", kind="deposit",
                               person=head.person, amount=Decimal("1000"), reason=" ")
    registry.fact_override(by=staff["officer"], household=household, category="asset", kind="deposit",
                           person=head.person, amount=Decimal("1000"), reason="8000 元为医疗借款，次日已支付医院")
    case, _declared = build_case(household, TODAY)
    assert sorted(a["value"] for a in case["household"]["assets"]) == [1000, 1020]
    entry = AuditEntry.objects.get(action="asset.override")
    assert entry.reason == "8000 元为医疗借款，次日已支付医院"
    from jiuzhu.casework.templatetags.casework_tags import audit_action

    assert audit_action(entry.action) == "asset figure set by an officer"  # as the household's history reads
    assert selectors.discrepancies(household, TODAY)[0].overridden == Decimal("1000.00")


def test_exactly_at_the_tolerance_is_not_a_discrepancy(tmp_path: Path) -> None:
    from jiuzhu.verification import selectors

    staff = _staff()
    head, spouse = _sent(staff, "banks")
    AssetRecord.objects.create(household=head.household, person=head.person, kind="deposit", value=Decimal("1000"))
    _import(staff, _csv(tmp_path, [_row(head, bank="a", account="1", balance="1100"), _row(spouse)], BANK_COLUMNS))
    assert selectors.discrepancies(head.household, TODAY) == []  # 100 yuan: at the absolute tolerance


def test_an_override_for_the_whole_household_replaces_the_members_figures(tmp_path: Path) -> None:
    from jiuzhu.casework.means_test import build_case
    from jiuzhu.registry import services as registry

    staff = _staff()
    head, spouse = _sent(staff, "banks")
    _import(staff, _csv(tmp_path, [_row(head, bank="a", account="1", balance="9000"),
                                   _row(spouse, bank="b", account="2", balance="1000")], BANK_COLUMNS))
    registry.fact_override(by=staff["officer"], household=head.household, category="asset", kind="deposit",
                           amount=Decimal("2500"), reason="两笔存款均为借款，已还")
    case, _declared = build_case(head.household, TODAY)
    assert [a["value"] for a in case["household"]["assets"] if a["kind"] == "deposit"] == [2500]


def test_an_excel_answer_file_is_read_as_text(tmp_path: Path) -> None:
    """Excel turns ID numbers into numbers and drops an X; the reader takes every cell as text."""
    staff = _staff()
    head, spouse = _sent(staff, "banks")
    path = tmp_path / "banks.xlsx"
    pl.DataFrame([{c: r.get(c, "") for c in BANK_COLUMNS}
                  for r in [_row(head, bank="农业银行", account="0012", balance="66.6"), _row(spouse)]],
                 schema=dict.fromkeys(BANK_COLUMNS, pl.String)).write_excel(path, worksheet="answers")
    result = _import(staff, path)
    assert result.accepted, result.problems
    row = Answer.objects.get(row=2)
    assert row.values == {"bank": "农业银行", "account": "0012", "balance": "66.6"}
    assert AssetRecord.objects.get(source=Source.VERIFIED, person=head.person).value == Decimal("66.60")
