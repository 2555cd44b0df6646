"""核对: the staff pages of household economic-status verification (DOMAIN.md §8).

The township asks the departments about a household (only with consent), sends each
department its request file, imports the answers (strictly: one bad row rejects the file,
and the report says every bad row), confirms the rows linkage was unsure of, and reads
the household's verification report, where an officer may set a figure over the verified
one with a written reason. The views only read through the scoped selectors and call the
services; a service's refusal is shown on the form that caused it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Action
from jiuzhu.registry import selectors as registry_selectors
from jiuzhu.registry import services as registry_services
from jiuzhu.registry.choices import LABELS
from jiuzhu.registry.masking import mask_account, mask_id_number
from jiuzhu.registry.models import Household, Person, Source
from jiuzhu.verification import imports, online, selectors, services
from jiuzhu.verification.forms import (
    ConfirmForm,
    ExportForm,
    ImportForm,
    OverrideForm,
    RequestForm,
    link_reasons,
    target_label,
)
from jiuzhu.verification.models import Answer, AnswerFile, Department, FileStatus, LinkStatus, Status

RECENT_FILES = 20
OVERDUE_LIMIT = 100
CONFIRM_PAGE = 50
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PERSON_FIELDS = {"death_date": gettext_lazy("date of death"), "disability_grade": gettext_lazy("disability grade")}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _today() -> dt.date:
    return timezone.localdate()


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _household(user: User, pk: int) -> Household:
    household = registry_selectors.households_for(user).select_related("area").filter(pk=pk).first()
    if household is None:
        raise Http404(_("No such household in your area."))
    return household


def household_url(pk: int) -> str:
    """The household file's page, built by casework above this app ("" if it is not there)."""
    try:
        return reverse("casework:household", args=[pk])
    except NoReverseMatch:
        return ""


def _when(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _percent(relative: Decimal | None) -> str:
    return "—" if relative is None else f"{relative * 100:+.1f} %"


def _items(department: Department, values: dict[str, Any]) -> list[tuple[str, str]]:
    """What a department said in one row, item by item in its words; account and ID numbers masked."""
    shown = []
    for item in department.items:
        if item["name"] not in values:
            continue
        value = str(values[item["name"]])
        if item["name"] == "account":
            value = mask_account(value)
        elif item["name"].endswith("id_number"):
            value = mask_id_number(value)
        label = item.get("description", {}).get("en" if _english() else "zh-hans") or item["name"]
        shown.append((label, value))
    return shown


# -- the household: its verification section and report ----------------------------------------


def discrepancy_rows(verification: selectors.HouseholdVerification) -> list[dict[str, Any]]:
    """Each discrepancy with its label, signed difference, relative size and the departments
    behind it (named from the requests and answers already read: no further query)."""
    names = {r.department.code: r.department.name for r in verification.requests}
    names.update({a.department.code: a.department.name for a in verification.answers})
    return [{"discrepancy": d, "label": target_label(d.record, d.kind), "target": f"{d.record}:{d.kind}",
             "difference": f"{d.difference:+.2f}", "relative": _percent(d.relative),
             "sources": (", " if _english() else "、").join(names.get(code, code) for code in d.sources)}
            for d in verification.discrepancies]


def finding_rows(verification: selectors.HouseholdVerification) -> list[dict[str, Any]]:
    return [{"finding": f, "field": PERSON_FIELDS.get(f.field, f.field)} for f in verification.person_findings]


def household_section(user: User, household: Household, on: dt.date) -> dict[str, Any]:
    """The verification section of the household file (the casework page includes it): consents,
    requests with the status shown today, discrepancies and person findings."""
    verification = selectors.household_verification(household, on)
    return {
        "verification": verification,
        "verification_requests": [(r, Status(r.status_on(on)).label) for r in verification.requests],
        "verification_discrepancies": discrepancy_rows(verification),
        "verification_findings": finding_rows(verification),
        "can_verify": user.may(Action.ASSESS),
    }


def _members(household: Household) -> QuerySet[Person]:
    return Person.objects.filter(memberships__household=household, memberships__end__isnull=True,
                                 memberships__counted=True).order_by("memberships__start", "pk")


def _overrides(household: Household) -> list[dict[str, Any]]:
    """The officers' figures of the household, newest first, the superseded ones too."""
    rows: list[dict[str, Any]] = []
    for record, facts in (("income", household.incomerecord_set), ("asset", household.assetrecord_set),
                          ("expense", household.expenserecord_set)):
        for fact in facts.filter(source=Source.OVERRIDE).select_related("person"):
            rows.append({"fact": fact, "label": target_label(record, fact.kind),
                         "figure": getattr(fact, "value" if record == "asset" else "amount")})
    return sorted(rows, key=lambda row: row["fact"].recorded_at, reverse=True)


def _report(request: HttpRequest, household: Household, *, bound: OverrideForm | None = None,
            status: int = 200) -> HttpResponse:
    user, on = _user(request), _today()
    verification = selectors.household_verification(household, on)
    members = _members(household)
    rows = discrepancy_rows(verification)
    for row in rows:
        if bound is not None and bound.data.get("target") == row["target"]:
            row["form"] = bound
        else:
            row["form"] = OverrideForm(discrepancies=verification.discrepancies, members=members,
                                       initial={"target": row["target"], "amount": row["discrepancy"].verified},
                                       auto_id=f"o-{row['target'].replace(':', '-')}-%s")
    answered: dict[int | None, list[Answer]] = defaultdict(list)
    for answer in verification.answers:
        answered[answer.request_id].append(answer)
    requests = [{"request": r, "status": Status(r.status_on(on)).label,
                 "answers": [{"answer": a, "items": _items(a.department, a.values)} for a in answered.get(r.pk, [])]}
                for r in verification.requests]
    unrequested = [{"answer": a, "items": _items(a.department, a.values)} for a in answered.get(None, [])]
    return render(request, "verification/report.html", {
        "household": household, "household_url": household_url(household.pk), "verification": verification,
        "requests": requests, "unrequested": unrequested, "discrepancies": rows,
        "findings": finding_rows(verification), "overrides": _overrides(household),
        "stray_form": bound if bound is not None and not any(r["form"] is bound for r in rows) else None,
        "can_override": user.may(Action.EDIT_HOUSEHOLD), "today": on}, status=status)


@staff_required(Action.ASSESS)
@require_GET
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """核对报告: what was asked, what came back, where it differs from the declaration, printable."""
    return _report(request, _household(_user(request), pk))


@staff_required(Action.ASSESS)
@require_POST
def override(request: HttpRequest, pk: int) -> HttpResponse:
    """An officer's figure over a verified one, with the written reason the service requires."""
    user = _user(request)
    household = _household(user, pk)
    verification = selectors.household_verification(household, _today())
    form = OverrideForm(request.POST, discrepancies=verification.discrepancies, members=_members(household))
    if form.is_valid():
        record, kind = form.chosen()
        try:
            registry_services.fact_override(by=user, household=household, category=record, kind=kind,
                                            amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"],
                                            person=form.cleaned_data["person"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The figure %(amount)s yuan is set for %(what)s; the means test uses it.")
                             % {"amount": form.cleaned_data["amount"], "what": target_label(record, kind)})
            return redirect("verification:report", pk=household.pk)
    return _report(request, household, bound=form, status=400)


@staff_required(Action.ASSESS)
@require_http_methods(["GET", "POST"])
def request_verification(request: HttpRequest, pk: int) -> HttpResponse:
    """发起核对 for one household: the departments chosen, the reason; refused whole when a
    consent is missing, each person named."""
    user = _user(request)
    household = _household(user, pk)
    departments = selectors.departments()
    form = RequestForm(request.POST if request.method == "POST" else None, departments=departments,
                       initial={"departments": list(departments)})
    missing_consents: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_verification(
                by=user, household=household, departments=form.cleaned_data["departments"],
                reason=form.cleaned_data["reason"], reference=f"household:{household.pk}")
        except ValidationError as error:
            problems = dict(error.message_dict) if hasattr(error, "error_dict") else {"__all__": error.messages}
            missing_consents = problems.pop("consents", [])
            if problems:
                add_service_errors(form, ValidationError(problems))
        else:
            if created:
                messages.success(request, _("%(count)d requests about household %(number)s are ready; they go out "
                                             "with the next request file of each department.")
                                 % {"count": len(created), "number": household.number})
            else:
                messages.info(request, _("Everyone in household %(number)s has an open request with these "
                                         "departments already; nothing new was requested.")
                              % {"number": household.number})
            return redirect("verification:index")
    status = 400 if request.method == "POST" else 200
    consents = list(household.consents.select_related("person").order_by("pk"))
    return render(request, "verification/request.html", {
        "household": household, "household_url": household_url(household.pk), "form": form,
        "missing_consents": missing_consents, "consents": consents}, status=status)


# -- the verification desk: requests out, answers in ----------------------------------------------


def _index(request: HttpRequest, *, export_form: ExportForm | None = None, import_form: ImportForm | None = None,
           status: int = 200) -> HttpResponse:
    user, on = _user(request), _today()
    departments = selectors.departments()
    formats = services.export_formats()
    bound_department = export_form.data.get("department") if export_form is not None else None
    rows = []
    for row in selectors.department_summary(user, on):
        department = row["department"]
        if export_form is not None and bound_department == str(department.pk):
            form = export_form
        else:
            chosen = department.exchange_format if department.exchange_format in formats else formats[0]
            form = ExportForm(departments=departments, formats=formats, auto_id=f"export-{department.code}-%s",
                              initial={"department": department.pk, "format": chosen})
        rows.append({**row, "form": form})
    stray = export_form if export_form is not None and not any(r["form"] is export_form for r in rows) else None
    return render(request, "verification/index.html", {
        "rows": rows, "stray_export_form": stray,
        "import_form": import_form or ImportForm(departments=departments),
        "files": list(selectors.answer_files(user)[:RECENT_FILES]),
        "waiting": selectors.answers_to_confirm(user).count(),
        "overdue": list(selectors.overdue_requests(user, on)[:OVERDUE_LIMIT]), "overdue_limit": OVERDUE_LIMIT,
        "today": on}, status=status)


@staff_required(Action.ASSESS)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@staff_required(Action.ASSESS)
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """The request file of one department as a download; its requests are now sent."""
    user = _user(request)
    form = ExportForm(request.POST, departments=selectors.departments(), formats=services.export_formats())
    if form.is_valid():
        fmt = form.cleaned_data["format"]
        try:
            batch, content = services.export_requests(by=user, department=form.cleaned_data["department"], fmt=fmt)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            response = HttpResponse(content, content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"))
            response["Content-Disposition"] = content_disposition_header(True, batch.file_name)
            return response
    return _index(request, export_form=form, status=400)


@staff_required(Action.ASSESS)
@require_POST
def ask_online(request: HttpRequest, code: str) -> HttpResponse:
    """Ask a department that runs a DCI registry now, instead of sending it a file."""
    department = selectors.departments().filter(code=code).first()
    if department is None:
        raise Http404(_("No such department."))
    try:
        result = online.ask_online(by=_user(request), department=department)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("verification:index")
    return redirect("verification:file", pk=result.file.pk)


@contextmanager
def _on_disk(upload: UploadedFile[Any]) -> Iterator[Path]:
    """The upload as a file path: large uploads are on disk already, small ones in memory."""
    temporary = getattr(upload, "temporary_file_path", None)
    if callable(temporary):
        yield Path(temporary())
        return
    with tempfile.TemporaryDirectory(prefix="jiuzhu-answers-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        yield path


@staff_required(Action.ASSESS)
@require_POST
def import_file(request: HttpRequest) -> HttpResponse:
    """An answer file or a department list; the result page follows, whatever the outcome."""
    user = _user(request)
    form = ImportForm(request.POST, request.FILES, departments=selectors.departments())
    if not form.is_valid():
        return _index(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    file_name = Path(upload.name or "upload").name
    try:
        with _on_disk(upload) as path:
            result = imports.import_answer_file(by=user, department=form.cleaned_data["department"], path=path,
                                                file_name=file_name, kind=form.cleaned_data["kind"])
    except ValidationError as error:
        add_service_errors(form, error)
        return _index(request, import_form=form, status=400)
    stored = result.file
    if result.duplicate:  # the page says when it was imported, and that nothing was added
        return redirect(f"{reverse('verification:file', args=[stored.pk])}?duplicate=1")
    if result.accepted:
        messages.success(request, _("“%(name)s” is imported.") % {"name": stored.file_name})
    else:
        messages.error(request, _("“%(name)s” is rejected: nothing was imported. Correct the rows below and "
                                  "import the whole file again.") % {"name": stored.file_name})
    return redirect("verification:file", pk=stored.pk)


def _scoped_file(user: User, pk: int) -> AnswerFile:
    stored = selectors.answer_files(user).filter(pk=pk).first()
    if stored is None:
        raise Http404(_("No such answer file in your area."))
    return stored


def _file_counts(stored: AnswerFile) -> dict[str, int]:
    """Rows per link status now, and the facts the import recorded (from its audit entry)."""
    counts = dict.fromkeys(LinkStatus.values, 0)
    counts.update(dict(stored.answers.values_list("link_status").annotate(n=Count("pk")).order_by()))
    entry = (AuditEntry.objects.filter(action="verification.answers_import", object_type="verification.answerfile",
                                       object_id=str(stored.pk)).only("after").first())
    counts["facts"] = int((entry.after or {}).get("facts", 0)) if entry is not None else 0
    return counts


@staff_required(Action.ASSESS)
@require_GET
def answer_file(request: HttpRequest, pk: int) -> HttpResponse:
    """What an import did: counts for an accepted file; every problem for a rejected one."""
    stored = _scoped_file(_user(request), pk)
    accepted = stored.status == FileStatus.ACCEPTED
    return render(request, "verification/file.html", {
        "file": stored, "accepted": accepted, "counts": _file_counts(stored) if accepted else {},
        "duplicate": request.GET.get("duplicate") == "1" and accepted,
        "imported_at": _when(stored.imported_at), "problems": stored.problems})


@staff_required(Action.ASSESS)
@require_GET
def problems_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejection report as CSV (row, column, reason), with a BOM so Excel reads the Chinese."""
    stored = _scoped_file(_user(request), pk)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["row", "column", "reason"])
    for problem in stored.problems:
        writer.writerow([problem.get("row", ""), problem.get("column", ""), problem.get("reason", "")])
    response = HttpResponse(text.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{Path(stored.file_name).stem}-problems.csv")
    return response


# -- rows to confirm --------------------------------------------------------------------------------


def _confirm_page(request: HttpRequest, *, bound: tuple[int, ConfirmForm] | None = None,
                  status: int = 200) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.answers_to_confirm(user), CONFIRM_PAGE).get_page(request.GET.get("page"))
    rows = []
    for answer in page:
        form = bound[1] if bound is not None and bound[0] == answer.pk else ConfirmForm(auto_id=f"a{answer.pk}-%s")
        candidate = answer.person
        rows.append({
            "answer": answer, "form": form, "id_number": mask_id_number(answer.id_number) if answer.id_number else "",
            "candidate": candidate, "candidate_id": mask_id_number(candidate.id_number) if candidate else "",
            "reasons": link_reasons(answer.link_reasons),
            "sex": LABELS.get(answer.sex, answer.sex), "candidate_sex": LABELS.get(candidate.sex, candidate.sex)
            if candidate else "",
            "probability": f"{answer.match_probability * 100:.1f} %" if answer.match_probability is not None else "—",
            "weight": f"{answer.match_weight:.2f}" if answer.match_weight is not None else "—"})
    return render(request, "verification/confirm.html", {"page": page, "rows": rows}, status=status)


@staff_required(Action.ASSESS)
@require_GET
def confirm_list(request: HttpRequest) -> HttpResponse:
    """The rows linkage was unsure of: what the department sent beside the registered person."""
    return _confirm_page(request)


@staff_required(Action.ASSESS)
@require_POST
def confirm_row(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    answer = selectors.answers_to_confirm(user).filter(pk=pk).first()
    if answer is None:
        raise Http404(_("No row waiting for confirmation with this number in your area."))
    form = ConfirmForm(request.POST, auto_id=f"a{answer.pk}-%s")
    if form.is_valid():
        same = form.cleaned_data["decision"] == "same"
        if same and answer.person is None:
            form.add_error("decision", _("There is no candidate person to confirm; choose “not this person”."))
        else:
            try:
                imports.confirm_link(by=user, answer=answer, person=answer.person if same else None,
                                     reason=form.cleaned_data["reason"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, (_("Row %(row)s of “%(file)s” is %(name)s's; its figures are in the "
                                             "household file.") if same else
                                           _("Row %(row)s of “%(file)s” is marked as not about %(name)s."))
                                 % {"row": answer.row, "file": answer.file.file_name,
                                    "name": answer.person.name if answer.person else "—"})
                return redirect("verification:confirm")
    return _confirm_page(request, bound=(answer.pk, form), status=400)
