"""The verification centre's lists: what the cross-checks found, and the department catalogue.

- Findings (核查发现): open ones first, by check; the township sees the illness warnings of
  the night's run, the village worker the people to invite ("start application"); an
  officer dismisses a finding with a reason. Enrolled households' findings already opened
  a review and say so.
- Departments: a county admin adds or changes a department without code; the items are
  written as in the YAML catalogue and checked by the same parser.
"""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.verification import catalogue, selectors, services
from jiuzhu.verification.models import Check, Department, FindingStatus


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class FindingFilter(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Check"), required=False,
                             choices=[("", gettext_lazy("all checks")), *Check.choices])
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("all")), *FindingStatus.choices])


class DismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is it dismissed?"), widget=forms.Textarea(attrs={"rows": 2}))


@staff_required(Action.VIEW)
@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    chosen = FindingFilter(request.GET or {"status": FindingStatus.OPEN})
    rows = selectors.findings_for(user).select_related("household", "household__area", "person", "handled_by")
    status = 200
    if chosen.is_valid():
        if chosen.cleaned_data["kind"]:
            rows = rows.filter(kind=chosen.cleaned_data["kind"])
        if chosen.cleaned_data["status"]:
            rows = rows.filter(status=chosen.cleaned_data["status"])
    else:
        rows, status = rows.none(), 400
    counts = selectors.open_finding_counts(user)
    page = Paginator(rows.order_by("-found_on", "kind", "pk"), 100).get_page(request.GET.get("page"))
    return render(request, "verification/findings.html", {
        "filter": chosen, "page": page, "open_counts": [(c.label, counts.get(c.value, 0), c.value) for c in Check],
        "dismiss": DismissForm(), "may_handle": user.may(Action.REVIEW)}, status=status)


@staff_required(Action.REVIEW)
@require_POST
def finding_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    finding = selectors.findings_for(user).filter(pk=pk).first()
    if finding is None:
        raise Http404(_("No such finding in your area."))
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.finding_handle(by=user, finding=finding, status=FindingStatus.DISMISSED,
                                    reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The finding is dismissed."))
            return redirect("verification_centre:findings")
    return render(request, "verification/finding_dismiss.html", {"finding": finding, "form": form}, status=400)


class DepartmentForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=40,
                           help_text=gettext_lazy("Lower-case letters and _, e.g. housing_fund"))
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=100)
    legal_basis = forms.CharField(label=gettext_lazy("Legal basis"), widget=forms.Textarea(attrs={"rows": 2}))
    exchange_format = forms.ChoiceField(label=gettext_lazy("Exchange format"),
                                        choices=[(f, f.upper()) for f in catalogue.FORMATS])
    answer_working_days = forms.IntegerField(label=gettext_lazy("Answer time limit (working days)"), min_value=1,
                                             max_value=60)
    asks_about = forms.ChoiceField(label=gettext_lazy("Asks about"), choices=[
        ("adults", gettext_lazy("adult members")), ("members", gettext_lazy("every member"))])
    items = forms.CharField(
        label=gettext_lazy("Items answered (YAML)"), widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        help_text=gettext_lazy("A list as in the catalogue files: name, type (text, number, date, money), "
                               "description {zh-hans, en}, and optionally fact (e.g. asset.deposit)."))

    dci_url = forms.URLField(label=gettext_lazy("DCI registry address (asked online)"), required=False,
                             help_text=gettext_lazy("Only for a department that runs a DCI social registry."))
    dci_server_id = forms.CharField(label=gettext_lazy("DCI sender id of the department"), required=False,
                                    max_length=100)
    dci_public_key = forms.CharField(label=gettext_lazy("The department's Ed25519 public key (PEM)"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}))

    def clean_items(self) -> Any:
        try:
            return yaml.safe_load(self.cleaned_data["items"])
        except yaml.YAMLError as exc:
            raise ValidationError(_("not readable YAML: %(error)s") % {"error": str(exc).splitlines()[0]}) from exc


def _initial(department: Department) -> dict[str, Any]:
    return {"code": department.code, "name_zh": department.name_zh, "name_en": department.name_en,
            "legal_basis": department.legal_basis, "exchange_format": department.exchange_format,
            "answer_working_days": department.answer_working_days, "asks_about": department.asks_about,
            "items": yaml.safe_dump(department.items, allow_unicode=True, sort_keys=False),
            "dci_url": department.dci_url, "dci_server_id": department.dci_server_id,
            "dci_public_key": department.dci_public_key}


@staff_required(Action.VIEW)
@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    return render(request, "verification/departments.html", {
        "departments": Department.objects.order_by("code"), "may_edit": _user(request).may(Action.ADMIN_DEPARTMENTS)})


@staff_required(Action.ADMIN_DEPARTMENTS)
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    user = _user(request)
    department = Department.objects.filter(code=code).first() if code else None
    if code and department is None:
        raise Http404(_("No such department."))
    if request.method == "GET":
        form = DepartmentForm(initial=_initial(department) if department else {"exchange_format": "csv",
                                                                                 "answer_working_days": 10})
        return render(request, "verification/department_edit.html", {"form": form, "department": department})
    posted = request.POST.copy()
    if department is not None:
        posted["code"] = department.code  # the code of a department in use does not change
    form = DepartmentForm(posted)
    if form.is_valid():
        data = form.cleaned_data
        raw = {"name": {"zh-hans": data["name_zh"], "en": data["name_en"]}, "legal_basis": data["legal_basis"],
               "exchange_format": data["exchange_format"], "answer_working_days": data["answer_working_days"],
               "asks_about": data["asks_about"], "items": data["items"]}
        try:
            saved = services.department_save(by=user, code=str(data["code"]), raw=raw, department=department,
                                             online={k: data[k] for k in ("dci_url", "dci_server_id",
                                                                          "dci_public_key")})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return redirect("verification_centre:departments")
    return render(request, "verification/department_edit.html", {"form": form, "department": department},
                  status=400)
