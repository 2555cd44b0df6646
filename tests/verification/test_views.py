"""The verification pages driven as a browser would: request with consent, export the request
file, import answers (good, bad, twice), confirm a row, override a discrepancy, and keep
users of another township out of every page."""

from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.registry.masking import mask_id_number
from jiuzhu.registry.models import AssetRecord, Household, Source
from jiuzhu.verification import services
from jiuzhu.verification.models import (
    Answer,
    AnswerFile,
    Consent,
    Department,
    FileStatus,
    LinkStatus,
    Status,
    VerificationRequest,
)
from tests import factories as f
from tests.accounts.factories import staff_client
from tests.casework.test_procedure import _intake, _staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

BANK_COLUMNS = ["request_id", "id_number", "name", "birth_date", "sex", "found", "as_of", "bank", "account", "balance"]
REASON = "低保申请核对"


def _setup() -> dict[str, Any]:
    staff = _staff()
    application = _intake(staff)
    household = application.household
    AssetRecord.objects.create(household=household, person=household.memberships.get(relation="head").person,
                               kind="deposit", value=Decimal("1000"), source=Source.DECLARED)
    return {**staff, "household": household, "client": staff_client(staff["officer"])}


def _department(code: str) -> Department:
    return Department.objects.get(code=code)


def _request(client: Client, household: Household, *codes: str, reason: str = REASON) -> Any:
    return client.post(reverse("verification:request", args=[household.pk]),
                       {"departments": [_department(c).pk for c in codes], "reason": reason})


def _export(client: Client, code: str = "banks", fmt: str = "csv") -> Any:
    return client.post(reverse("verification:export"), {"department": _department(code).pk, "format": fmt})


def _answers(request_file: bytes, balances: dict[str, str]) -> bytes:
    """A bank's answer to a request file: one row per request, the balance by name ("" = no account)."""
    asked = pl.read_csv(io.BytesIO(request_file), infer_schema=False)
    today = timezone.localdate().isoformat()
    rows = [{"request_id": r["request_id"], "id_number": r["id_number"], "name": r["name"],
             "birth_date": r["birth_date"], "sex": r["sex"], "found": "yes" if balances[r["name"]] else "no",
             "as_of": today, "bank": "农业银行" if balances[r["name"]] else "",
             "account": "6228480012345678" if balances[r["name"]] else "", "balance": balances[r["name"]]}
            for r in asked.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=dict.fromkeys(BANK_COLUMNS, pl.String)).write_csv().encode("utf-8")


def _import(client: Client, content: bytes, name: str = "answer.csv", code: str = "banks", kind: str = "answer",
            follow: bool = True) -> Any:
    return client.post(reverse("verification:import"), {
        "department": _department(code).pk, "kind": kind, "file": SimpleUploadedFile(name, content)}, follow=follow)


def _requested_and_exported(s: dict[str, Any]) -> bytes:
    assert _request(s["client"], s["household"], "banks").status_code == 302
    response = _export(s["client"])
    assert response.status_code == 200
    return response.content


def _text(response: Any) -> str:
    """The page's text, tags removed and white space folded, for reading sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_each_page_renders_for_the_officer_and_the_menu_leads_there() -> None:
    s = _setup()
    client = s["client"]
    index = client.get(reverse("verification:index"))
    assert index.status_code == 200
    assert f'href="{reverse("verification:index")}" aria-current="page"' in index.content.decode()
    for code in Department.objects.filter(active=True).values_list("code", flat=True):
        assert f'id="department-{code}"' in index.content.decode()
    for name in ("request", "report"):
        assert client.get(reverse(f"verification:{name}", args=[s["household"].pk])).status_code == 200
    assert "No row waits for confirmation." in _text(client.get(reverse("verification:confirm")))
    household_page = client.get(reverse("casework:household", args=[s["household"].pk])).content.decode()
    assert reverse("verification:request", args=[s["household"].pk]) in household_page
    assert reverse("verification:report", args=[s["household"].pk]) in household_page


def test_a_village_worker_has_no_verification_menu_nor_pages() -> None:
    s = _setup()
    worker = staff_client(s["worker"])
    assert f'href="{reverse("verification:index")}"' not in worker.get(reverse("casework:queue")).content.decode()
    assert worker.get(reverse("verification:index")).status_code == 403
    household_page = worker.get(reverse("casework:household", args=[s["household"].pk])).content.decode()
    assert 'id="verification"' in household_page  # the section is read by all who see the file
    assert reverse("verification:request", args=[s["household"].pk]) not in household_page


def test_requesting_verification_asks_each_adult_and_says_what_happens_next() -> None:
    s = _setup()
    response = _request(s["client"], s["household"], "banks", "public_security")
    assert response.status_code == 302 and response["Location"] == reverse("verification:index")
    requests = VerificationRequest.objects.filter(household=s["household"])
    # Banks ask adults (2), public security every member (3).
    assert sorted(requests.values_list("department__code", flat=True)) == ["banks"] * 2 + ["public_security"] * 3
    assert set(requests.values_list("reference", flat=True)) == {f"household:{s['household'].pk}"}
    page = _text(s["client"].get(response["Location"]))
    assert f"5 requests about household {s['household'].number} are ready" in page
    assert _text(s["client"].get(reverse("casework:household", args=[s["household"].pk]))).count("pending") >= 5


def test_a_withdrawn_consent_refuses_the_request_naming_the_person() -> None:
    s = _setup()
    Consent.objects.filter(household=s["household"], person__name="李秀兰").update(
        withdrawn_on=timezone.localdate())
    response = _request(s["client"], s["household"], "banks")
    assert response.status_code == 400
    html = response.content.decode()
    box = html[html.index('id="missing-consents"'):]
    box = box[:box.index("</div>")]
    assert "李秀兰 has given no consent to verification" in box and "王大明" not in box
    assert "withdrawn on" in _text(response)
    assert not VerificationRequest.objects.exists()


def test_a_request_needs_a_reason_and_a_department() -> None:
    s = _setup()
    response = _request(s["client"], s["household"], reason="  ")
    assert response.status_code == 400
    text = _text(response)
    assert "Say why the household is checked." in text and "Choose at least one department." in text
    assert not VerificationRequest.objects.exists()


def test_the_request_file_downloads_with_its_name_and_marks_the_requests_sent() -> None:
    s = _setup()
    _request(s["client"], s["household"], "banks")
    response = _export(s["client"], fmt="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    batch_name = re.search(r'filename="([^"]+)"', response["Content-Disposition"])
    assert batch_name and response["Content-Disposition"].startswith("attachment")
    assert re.fullmatch(r"banks-\d{8}-\d+\.json", batch_name.group(1))
    rows = pl.read_json(io.BytesIO(response.content))
    assert sorted(rows["name"].to_list()) == ["李秀兰", "王大明"]
    assert set(VerificationRequest.objects.values_list("status", flat=True)) == {Status.SENT}
    again = _export(s["client"], fmt="json")
    assert again.status_code == 400
    assert "There are no pending requests to Banks (deposits) in your area." in _text(again)


def test_the_request_file_as_excel() -> None:
    s = _setup()
    if "xlsx" not in services.export_formats():
        pytest.skip("xlsxwriter is not installed")
    _request(s["client"], s["household"], "banks")
    response = _export(s["client"], fmt="xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = pl.read_excel(io.BytesIO(response.content), sheet_name="requests", infer_schema_length=0)
    assert sorted(rows["name"].to_list()) == ["李秀兰", "王大明"]
    assert rows["items"].unique().to_list() == ["bank;account;balance"]


def test_bad_export_input_is_an_error_on_the_page() -> None:
    s = _setup()
    unknown = s["client"].post(reverse("verification:export"), {"department": "99999", "format": "pdf"})
    assert unknown.status_code == 400
    assert "Select a valid choice" in _text(unknown)


def test_a_good_answer_file_is_imported_and_its_counts_shown() -> None:
    s = _setup()
    request_file = _requested_and_exported(s)
    response = _import(s["client"], _answers(request_file, {"王大明": "9000", "李秀兰": ""}))
    stored = AnswerFile.objects.get()
    assert response.redirect_chain[-1][0] == reverse("verification:file", args=[stored.pk])
    html = response.content.decode()
    assert stored.status == FileStatus.ACCEPTED
    assert re.search(r'data-count="linked">.*?<td class="num">2</td>', html)
    assert re.search(r'data-count="facts">.*?<td class="num">2</td>', html)
    assert "“answer.csv” is imported." in _text(response)
    index = s["client"].get(reverse("verification:index")).content.decode()
    assert re.search(r'id="department-banks".*?data-count="answered">2<', index, re.S)


def test_a_rejected_file_shows_every_problem_and_downloads_them_as_csv() -> None:
    s = _setup()
    request_file = _requested_and_exported(s)
    good = pl.read_csv(io.BytesIO(_answers(request_file, {"王大明": "9000", "李秀兰": "50"})), infer_schema=False)
    bad = good.with_columns(
        pl.when(pl.col("name") == "王大明").then(pl.lit("-5")).otherwise(pl.col("balance")).alias("balance"),
        pl.when(pl.col("name") == "李秀兰").then(pl.lit("VR-banks-20260101-99999")).otherwise(pl.col("request_id"))
        .alias("request_id"))
    response = _import(s["client"], bad.write_csv().encode("utf-8"), name="银行答复.csv")
    stored = AnswerFile.objects.get()
    assert stored.status == FileStatus.REJECTED
    html = response.content.decode()
    table = html[html.index('id="problems"'):]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)]
    expected = [(str(p["row"]), p["column"], p["reason"]) for p in stored.problems]
    assert [tuple(cells[i:i + 3]) for i in range(0, len(cells), 3)] == expected
    assert {p[2] for p in expected} == {"negative amount", "no request with this id was sent to Banks (deposits)"}
    assert "nothing was imported" in _text(response)

    download = s["client"].get(reverse("verification:problems_csv", args=[stored.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"] and "problems.csv" in download["Content-Disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "reason"]
    assert [tuple(r) for r in rows[1:]] == expected
    assert not Answer.objects.exists()
    assert set(VerificationRequest.objects.values_list("status", flat=True)) == {Status.SENT}


def test_an_unreadable_or_misnamed_file_is_rejected_with_the_reason() -> None:
    s = _setup()
    _requested_and_exported(s)
    response = _import(s["client"], b"\x00\x01 not a spreadsheet", name="answer.pdf")
    assert response.status_code == 200
    assert "“pdf” is not an exchange format (csv, xlsx, json)" in _text(response)
    empty = _import(s["client"], b"", name="answer.csv", follow=False)
    assert empty.status_code == 400 and "The submitted file is empty." in _text(empty)
    missing = s["client"].post(reverse("verification:import"), {"department": _department("banks").pk,
                                                                "kind": "answer"})
    assert missing.status_code == 400 and "This field is required." in _text(missing)


def test_the_same_file_twice_says_nothing_was_added() -> None:
    s = _setup()
    content = _answers(_requested_and_exported(s), {"王大明": "9000", "李秀兰": ""})
    first = _import(s["client"], content)
    assert first.status_code == 200
    facts = AssetRecord.objects.count()
    again = _import(s["client"], content, name="again.csv")
    stored = AnswerFile.objects.get()
    assert again.redirect_chain[-1][0] == reverse("verification:file", args=[stored.pk]) + "?duplicate=1"
    when = timezone.localtime(stored.imported_at).strftime("%Y-%m-%d %H:%M")
    assert f"This file was imported already on {when}: nothing was added." in _text(again)
    assert AnswerFile.objects.count() == 1 and AssetRecord.objects.count() == facts


def test_the_household_page_and_report_show_the_discrepancy_and_an_override_needs_a_reason() -> None:
    s = _setup()
    household = s["household"]
    _import(s["client"], _answers(_requested_and_exported(s), {"王大明": "9000", "李秀兰": "1020"}))
    page = _text(s["client"].get(reverse("casework:household", args=[household.pk])))
    # Declared 1,000; the bank holds 9,000 + 1,020.
    assert "Deposit (asset)" in page and "+9020.00" in page and "+902.0 %" in page

    report = s["client"].get(reverse("verification:report", args=[household.pk]))
    text = _text(report)
    assert "+9020.00" in text and "Balance on the day of the check (yuan): 9000" in text
    assert "6228480012345678" not in text and "************5678" in text  # account numbers masked
    head = household.memberships.get(relation="head").person
    url = reverse("verification:override", args=[household.pk])
    refused = s["client"].post(url, {"target": "asset:deposit", "person": head.pk, "amount": "1000", "reason": " "})
    assert refused.status_code == 400
    assert "write why the verified figure is set aside" in _text(refused)
    assert not AssetRecord.objects.filter(source=Source.OVERRIDE).exists()

    done = s["client"].post(url, {"target": "asset:deposit", "person": head.pk, "amount": "1000",
                                  "reason": "8000 元为医疗借款，次日已支付医院"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("verification:report", args=[household.pk])
    override = AssetRecord.objects.get(source=Source.OVERRIDE)
    assert (override.value, override.person) == (Decimal("1000.00"), head)
    assert override.reason == "8000 元为医疗借款，次日已支付医院"
    assert "8000 元为医疗借款，次日已支付医院" in _text(done)
    assert AuditEntry.objects.filter(action="asset.override").count() == 1


def test_the_verification_section_does_not_add_queries_per_request_or_answer() -> None:
    s = _setup()
    plain = f.poor_family()
    _import(s["client"], _answers(_requested_and_exported(s), {"王大明": "9000", "李秀兰": "1020"}))
    _request(s["client"], s["household"], "public_security", "vehicles")
    s["client"].get(reverse("casework:household", args=[plain.pk]))  # warm the caches (catalogue, calendar)
    counts, pages = [], []
    for household in (s["household"], plain):
        with CaptureQueriesContext(connection) as queries:
            response = s["client"].get(reverse("casework:household", args=[household.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
        pages.append(_text(response))
    assert VerificationRequest.objects.filter(household=s["household"]).count() == 7
    assert "+9020.00" in pages[0] and "No department has been asked about this household." in pages[1]
    assert counts[0] == counts[1], counts


def test_an_override_of_something_not_in_discrepancy_or_below_zero_is_refused() -> None:
    s = _setup()
    _import(s["client"], _answers(_requested_and_exported(s), {"王大明": "9000", "李秀兰": ""}))
    url = reverse("verification:override", args=[s["household"].pk])
    stray = s["client"].post(url, {"target": "income:wage", "amount": "1", "reason": "x"})
    assert stray.status_code == 400 and "There is no such discrepancy" in _text(stray)
    negative = s["client"].post(url, {"target": "asset:deposit", "amount": "-1", "reason": "x"})
    assert negative.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in _text(negative)
    assert not AssetRecord.objects.filter(source=Source.OVERRIDE).exists()


def _to_confirm(s: dict[str, Any]) -> Answer:
    """A bank row linkage was unsure of (name written differently, no ID number), as an import leaves it."""
    _requested_and_exported(s)
    request = VerificationRequest.objects.get(person__name="王大明")
    stored = AnswerFile.objects.create(department=request.department, file_name="bank.csv", sha256="0" * 64,
                                       status=FileStatus.ACCEPTED, area_code=f.TOWNSHIP, imported_by=s["officer"],
                                       row_count=1)
    return Answer.objects.create(
        file=stored, row=2, department=request.department, request=request, id_number="", name="王达明",
        birth_date=request.person.birth_date, sex="male", as_of=timezone.localdate(),
        values={"bank": "农业银行", "account": "6228480001", "balance": "800"}, person=request.person,
        household=request.household, link_method="probabilistic", match_weight=6.25, match_probability=0.874,
        link_status=LinkStatus.TO_CONFIRM, link_reasons="name_homophone;id_differs")


def test_a_row_to_confirm_is_shown_beside_the_person_and_confirmed_with_a_reason() -> None:
    s = _setup()
    answer = _to_confirm(s)
    index = _text(s["client"].get(reverse("verification:index")))
    assert "1 row of the answer files waits for an officer" in index
    page = s["client"].get(reverse("verification:confirm"))
    text = _text(page)
    person = answer.person
    assert person is not None
    assert "王达明" in text and "王大明" in text and mask_id_number(person.id_number) in text
    assert person.id_number not in text
    assert "6.25" in text and "87.4 %" in text and "the name sounds the same but is written differently" in text
    url = reverse("verification:confirm_row", args=[answer.pk])
    unexplained = s["client"].post(url, {"decision": "same", "reason": ""})
    assert unexplained.status_code == 400 and "Write why you decided so." in _text(unexplained)
    done = s["client"].post(url, {"decision": "same", "reason": "出生日期一致，姓名同音"}, follow=True)
    answer.refresh_from_db()
    assert answer.link_status == LinkStatus.CONFIRMED
    assert AssetRecord.objects.get(source=Source.VERIFIED, person=person).value == Decimal("800.00")
    assert "No row waits for confirmation." in _text(done)
    assert AuditEntry.objects.get(action="verification.link_confirm").reason == "出生日期一致，姓名同音"
    assert s["client"].post(url, {"decision": "same", "reason": "again"}).status_code == 404


def test_not_this_person_leaves_the_household_file_alone() -> None:
    s = _setup()
    answer = _to_confirm(s)
    response = s["client"].post(reverse("verification:confirm_row", args=[answer.pk]),
                                {"decision": "other", "reason": "出生地不同"})
    assert response.status_code == 302
    answer.refresh_from_db()
    assert answer.link_status == LinkStatus.REJECTED
    assert not AssetRecord.objects.filter(source=Source.VERIFIED).exists()


# -- another township sees nothing ----------------------------------------------------------------


def _routes() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "verification":
                found.append((prefix + str(pattern.pattern), dict(getattr(pattern.pattern, "converters", {}))))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_verification_page_refuses_a_user_of_another_township() -> None:
    s = _setup()
    _import(s["client"], _answers(_requested_and_exported(s), {"王大明": "9000", "李秀兰": ""}))
    _to_confirm_row = Answer.objects.first()
    assert _to_confirm_row is not None
    Answer.objects.filter(pk=_to_confirm_row.pk).update(link_status=LinkStatus.TO_CONFIRM)
    AnswerFile.objects.create(department=_department("banks"), file_name="bad.csv", sha256="1" * 64,
                              status=FileStatus.REJECTED, area_code=f.TOWNSHIP, imported_by=s["officer"],
                              row_count=1, problems=[{"row": 2, "column": "balance", "reason": "negative amount"}])
    pks = sorted({*Household.objects.values_list("pk", flat=True), *AnswerFile.objects.values_list("pk", flat=True),
                  *Answer.objects.values_list("pk", flat=True)})
    secrets = ["王大明", "李秀兰", s["household"].number, "answer.csv", "bad.csv"]
    outsider = staff_client(f.user(Role.TOWNSHIP_APPROVER, f.OTHER_TOWNSHIP))
    routes = _routes()
    assert len(routes) >= 10
    problems = []
    for route, converters in routes:
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        choices = [[str(v) for v in pks] if isinstance(converters.get(p), IntConverter) else ["x"] for p in params]
        for values in itertools.product(*choices):
            url = "/" + route
            for value in values:
                url = re.sub(r"<(?:\w+:)?\w+>", value, url, count=1)
            for method in ("get", "post"):
                response = getattr(outsider, method)(url, {"x": "1"})
                body = response.content.decode(errors="replace")
                leaked = [secret for secret in secrets if secret in body]
                if leaked or response.status_code >= 500 or (
                        converters and response.status_code not in (403, 404, 405)):
                    problems.append(f"{method} {url}: {response.status_code} {leaked}")
    assert not problems, "\n".join(problems[:20])
