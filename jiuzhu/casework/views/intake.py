"""The intake wizard (一门受理): household, declared facts, programmes and consents.

What each step accepted is kept in the session and nothing is written until the last
step: then persons, household, facts and the intake are written in one transaction
through the registry and casework services, so an abandoned or refused intake leaves
no half-made household behind. A step with an error shows the page again with every
value typed and each message beside its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area
from jiuzhu.casework import services
from jiuzhu.casework.forms_intake import (
    AssetForm,
    ExpenseForm,
    HouseholdForm,
    IncomeForm,
    MemberForm,
    ProgrammesForm,
    Rows,
    SearchForm,
    check_unique,
    fact_row_state,
    member_row_state,
)
from jiuzhu.casework.models import Channel, Intake
from jiuzhu.casework.programmes import programmes_for
from jiuzhu.casework.selectors import applications_for
from jiuzhu.casework.views.intake_commit import commit_intake, villages_for
from jiuzhu.registry import selectors as registry_selectors
from jiuzhu.registry import services as registry
from jiuzhu.registry.choices import LABELS
from jiuzhu.registry.identity import check_resident_id, normalise_resident_id
from jiuzhu.registry.masking import mask_id_number
from jiuzhu.registry.models import Household, Person

SESSION_KEY = "intake_wizard"
FACT_GROUPS: tuple[tuple[str, type[IncomeForm] | type[AssetForm] | type[ExpenseForm]], ...] = (
    ("income", IncomeForm), ("assets", AssetForm), ("expenses", ExpenseForm))
#: The registry's fact category of each group of rows.


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _state(request: HttpRequest) -> dict[str, Any]:
    state = request.session.get(SESSION_KEY)
    return state if isinstance(state, dict) else {}


def _save_state(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state
    request.session.modified = True


def scoped_intake(user: User, pk: int) -> Intake:
    """An intake of a household in the user's area, or 404."""
    return get_object_or_404(Intake.objects.filter(household__in=registry_selectors.households_for(user))
                             .select_related("household", "household__area", "household__area__parent",
                                             "applicant", "entered_by"), pk=pk)


# -- step 1: find or create the household ----------------------------------------------------

@staff_required(Action.INTAKE)
@require_http_methods(["GET", "POST"])
def intake_start(request: HttpRequest) -> HttpResponse:
    """Step 1: an existing household found by name or ID number, or a new one with its members."""
    user = _user(request)
    villages = villages_for(user)
    search = SearchForm(request.GET or None)
    matches = []
    if search.is_valid() and search.cleaned_data["q"].strip():
        matches = list(registry_selectors.search(user, search.cleaned_data["q"], limit=30))
        for match in matches:
            match.masked_id = mask_id_number(match.person.id_number)  # type: ignore[attr-defined]
    state = _state(request)
    new = state.get("new") or {}
    if request.method == "GET":
        form = HouseholdForm(villages=villages, initial={k: new[k] for k in ("village", "area_type", "address")
                                                         if k in new})
        rows = Rows(MemberForm, "members", initial=new.get("members"), extra=1 if new.get("members") else 3)
        return _step1(request, form, rows, search, matches)

    if "use_household" in request.POST:
        return _use_household(request, user, request.POST.get("use_household", ""))
    form = HouseholdForm(request.POST, villages=villages)
    rows = Rows(MemberForm, "members", data=request.POST)
    if "add_row" in request.POST:
        unbound = HouseholdForm(villages=villages, initial=_raw(form))
        return _step1(request, unbound, rows.with_extra_row(), search, matches)
    members = _validate_new_household(user, form, rows)
    if members is None:
        return _step1(request, form, rows, search, matches, status=400)
    village = form.cleaned_data["village"]
    _save_state(request, {
        "new": {"village": village.code, "area_type": form.cleaned_data["area_type"],
                "address": form.cleaned_data["address"], "members": members},
        "area_code": village.code,
        "members": [_member_summary(f"r{i}", row) for i, row in enumerate(members)],
        "facts": state.get("facts") if state.get("new") else None,
    })
    return redirect("casework:intake_facts")


def _raw(form: HouseholdForm) -> dict[str, Any]:
    return {name: form[name].value() for name in form.fields}


def _step1(request: HttpRequest, form: HouseholdForm, rows: Rows, search: SearchForm, matches: list[Any],
           status: int = 200) -> HttpResponse:
    state = _state(request)
    return render(request, "casework/intake_household.html", {
        "form": form, "rows": rows, "search": search, "matches": matches, "step": 1,
        "chosen": _chosen_household(request, state),
    }, status=status)


def _chosen_household(request: HttpRequest, state: dict[str, Any]) -> Household | None:
    if not state.get("household_id"):
        return None
    return registry_selectors.households_for(_user(request)).filter(pk=state["household_id"]).first()


def _use_household(request: HttpRequest, user: User, raw_pk: str) -> HttpResponse:
    """Take an existing household (one household, one file): its members are read from the registry."""
    household = get_object_or_404(registry_selectors.households_for(user),
                                  pk=int(raw_pk) if raw_pk.isdigit() else 0)
    members = [m for m in household.memberships.select_related("person").order_by("start", "id")
               if m.end is None]
    if not members:
        messages.error(request, _("This household has no current members; add them in its file first."))
        return redirect("casework:intake_start")
    _save_state(request, {
        "household_id": household.pk, "area_code": household.area_id,
        "members": [{"key": f"p{m.person_id}", "name": m.person.name, "relation": m.relation,
                     "birth_date": m.person.birth_date.isoformat(), "counted": m.counted} for m in members],
        "facts": None,
    })
    return redirect("casework:intake_facts")


def _member_summary(key: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "name": row["name"], "relation": row["relation"], "birth_date": row["birth_date"],
            "counted": row["counted"] == "yes"}


def _validate_new_household(user: User, form: HouseholdForm, rows: Rows) -> list[dict[str, Any]] | None:
    """The member rows as the session keeps them, or None with every problem on the forms."""
    ok = form.is_valid() & rows.is_valid()
    filled = rows.filled()
    if not filled:
        form.add_error(None, _("Enter at least one member."))
        return None
    valid_rows = [(i, row) for i, row in filled if row.is_valid()]
    if valid_rows and sum(row.cleaned_data.get("relation") == "head" for _i, row in valid_rows) != 1:
        form.add_error(None, _("A household needs exactly one head of household."))
        ok = False
    check_unique(valid_rows, "id_number", _("this ID number is entered in another row too"))
    members: list[dict[str, Any]] = []
    for _index, row in valid_rows:
        if row.errors:
            continue
        member = _check_member(user, row)
        if member is not None:
            members.append(member)
    if not ok or any(row.errors for _i, row in filled):
        return None
    return members


def _check_member(user: User, row: Any) -> dict[str, Any] | None:
    """One member against the registry: a known ID number reuses its person (one ID, one person)."""
    data = row.cleaned_data
    number = normalise_resident_id(data["id_number"])
    row.cleaned_data["id_number"] = number
    existing = Person.objects.filter(id_number=number).first()
    if existing is not None:
        return _reuse_person(user, row, existing)
    check = check_resident_id(number)
    # Left blank, sex and birth date are read from a valid number. An invalid number is reported on
    # its own (nothing in it can be trusted), so the stand-ins below are never checked or kept.
    sex = data.get("sex") or check.sex or "male"
    birth_date = data.get("birth_date") or check.birth_date or dt.date(1900, 1, 1)
    problems = registry.check_person(registry.PersonData(
        id_number=number, name=data["name"], sex=sex, birth_date=birth_date, hukou_type=data["hukou_type"],
        disability_grade=data.get("disability_grade"), disability_type=data.get("disability_type") or ""))
    for field, errors in problems.items():
        for error in errors:
            row.add_error(field if field in row.fields else "id_number", error)
    if problems:
        return None
    return member_row_state(row, sex=sex, birth_date=birth_date, person_id=None)


def _reuse_person(user: User, row: Any, person: Person) -> dict[str, Any] | None:
    data = row.cleaned_data
    if person.name != data["name"].strip():
        row.add_error("id_number", _("This ID number is registered for a person with another name: check the "
                                     "number and the name."))
        return None
    current = person.memberships.filter(end__isnull=True).select_related("household").first()
    if current is not None:
        visible = registry_selectors.households_for(user).filter(pk=current.household_id).exists()
        row.add_error("id_number", _("%(name)s already belongs to household %(number)s: search for it above and "
                                     "use that household.") % {"name": person.name, "number": current.household.number}
                      if visible else _("This person already belongs to a household outside your area."))
        return None
    if data.get("sex") and data["sex"] != person.sex:
        row.add_error("sex", _("does not match the registered person"))
    if data.get("birth_date") and data["birth_date"] != person.birth_date:
        row.add_error("birth_date", _("does not match the registered person"))
    if row.errors:
        return None
    return member_row_state(row, sex=person.sex, birth_date=person.birth_date, person_id=person.pk)


# -- step 2: declared facts -------------------------------------------------------------------

def _require_household(request: HttpRequest) -> dict[str, Any] | None:
    state = _state(request)
    return state if state.get("members") and state.get("area_code") else None


def _member_choices(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["key"], m["name"]) for m in state["members"]]


@staff_required(Action.INTAKE)
@require_http_methods(["GET", "POST"])
def intake_facts(request: HttpRequest) -> HttpResponse:
    """Step 2: what the household declares it earns, owns and must spend."""
    state = _require_household(request)
    if state is None:
        return redirect("casework:intake_start")
    choices = _member_choices(state)
    saved = state.get("facts") or {}
    if request.method == "GET":
        groups = {name: Rows(form, name, initial=saved.get(name), extra=1, members=choices)
                  for name, form in FACT_GROUPS}
        return _step2(request, state, groups)
    groups = {name: Rows(form, name, data=request.POST, members=choices) for name, form in FACT_GROUPS}
    adding = request.POST.get("add_row")
    if adding in groups:
        groups = {name: rows.with_extra_row() if name == adding else _unbound(rows)
                  for name, rows in groups.items()}
        return _step2(request, state, groups)
    if not all([rows.is_valid() for rows in groups.values()]):
        return _step2(request, state, groups, status=400)
    state["facts"] = {name: [fact_row_state(form) for _i, form in rows.filled()] for name, rows in groups.items()}
    _save_state(request, state)
    if "back" in request.POST:
        return redirect("casework:intake_start")
    return redirect("casework:intake_programmes")


def _unbound(rows: Rows) -> Rows:
    """The rows again showing what was typed, without judging them yet (an "add a row" press)."""
    return Rows(rows.form_class, rows.prefix, initial=[f.raw_values() for f in rows.forms], extra=0,
                **rows.form_kwargs)


def _step2(request: HttpRequest, state: dict[str, Any], groups: dict[str, Rows], status: int = 200) -> HttpResponse:
    return render(request, "casework/intake_facts.html", {
        "state": state, "groups": groups, "step": 2, "household": _chosen_household(request, state)},
        status=status)


# -- step 3: programmes, consents, promise, missing items ---------------------------------------

def _adults(state: dict[str, Any], on: dt.date) -> list[dict[str, Any]]:
    """Counted members aged 18 or over: each must consent to verification."""
    found = []
    for member in state["members"]:
        born = dt.date.fromisoformat(member["birth_date"])
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        if member["counted"] and age >= 18:
            found.append(member)
    return found


def _programmes_form(request: HttpRequest, state: dict[str, Any], user: User) -> ProgrammesForm:
    on = services.today()
    kwargs: dict[str, Any] = {
        "programmes": [(p.id, p.name) for p in programmes_for(state["area_code"])],
        "members": state["members"], "adults": _adults(state, on)}
    if request.method == "POST":
        return ProgrammesForm(request.POST, request.FILES, **kwargs)
    channel = Channel.VILLAGE if user.area_id and len(user.area_id) == 12 else Channel.TOWNSHIP
    return ProgrammesForm(initial={"channel": channel}, **kwargs)


@staff_required(Action.INTAKE)
@require_http_methods(["GET", "POST"])
def intake_programmes(request: HttpRequest) -> HttpResponse:
    """Step 3, the last: on success everything is written at once and the summary is shown."""
    user = _user(request)
    state = _require_household(request)
    if state is None:
        return redirect("casework:intake_start")
    if state.get("facts") is None:
        return redirect("casework:intake_facts")
    form = _programmes_form(request, state, user)
    if request.method == "GET":
        return _step3(request, state, form)
    if "back" in request.POST:
        return redirect("casework:intake_facts")
    if not form.is_valid():
        return _step3(request, state, form, status=400)
    try:
        intake = commit_intake(user, state, form)
    except ValidationError as exc:
        _put_problems(form, exc)
        return _step3(request, state, form, status=400)
    request.session.pop(SESSION_KEY, None)
    count = intake.applications.count()
    messages.success(request, _("The intake is recorded: %(count)s application(s).") % {"count": count})
    return redirect("casework:intake_summary", pk=intake.pk)


def _step3(request: HttpRequest, state: dict[str, Any], form: ProgrammesForm, status: int = 200) -> HttpResponse:
    return render(request, "casework/intake_programmes.html", {
        "state": state, "form": form, "step": 3, "household": _chosen_household(request, state),
        "village": Area.objects.filter(code=state["area_code"]).first(),
        "fact_lines": _fact_lines(state),
        "with_scans": bool(request.FILES)}, status=status)


def _fact_lines(state: dict[str, Any]) -> list[str]:
    """The declared facts of step 2 in words, for the summary above step 3."""
    names = {m["key"]: m["name"] for m in state["members"]}
    lines = []
    for rows in (state.get("facts") or {}).values():
        for row in rows:
            kind = str(LABELS.get(row["kind"], row["kind"]))
            if row["kind"] == "imputed_wage":
                figure = f"{row.get('monthly_reference')} × {row.get('months')}"
            else:
                figure = str(row.get("amount", row.get("value", "")))
            who = names.get(row.get("member") or "")
            lines.append(f"{kind} {figure}" + (f" ({who})" if who else ""))
    return lines


STEP3_FIELDS = ("programmes", "channel", "applicant", "truth_promise", "missing_items")


def _put_problems(form: ProgrammesForm, exc: ValidationError) -> None:
    """The services' problems beside the step-3 field they concern; the others (a member or a
    fact that changed in the registry since steps 1 and 2) on top, with their path."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for path, errors in exc.message_dict.items():
        for message in errors:
            if path in STEP3_FIELDS:
                form.add_error(path, message)
            elif path == "consents":
                form.add_error(None, message)
            else:
                form.add_error(None, f"{path}: {message}")


@staff_required(Action.INTAKE)
@require_POST
def intake_reset(request: HttpRequest) -> HttpResponse:
    """Start over: forget what the wizard kept (nothing was written yet)."""
    request.session.pop(SESSION_KEY, None)
    return redirect("casework:intake_start")


# -- after the intake ------------------------------------------------------------------------

@staff_required(Action.VIEW)
def intake_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """What was recorded: the applications, consents and missing items, with the slip to print."""
    user = _user(request)
    intake = scoped_intake(user, pk)
    names = {p.id: p.name for p in programmes_for(intake.household.area_id)}
    return render(request, "casework/intake_summary.html", {
        "intake": intake,
        "applications": [(a, names.get(a.programme, a.programme))
                         for a in applications_for(user).filter(intake=intake).order_by("pk")],
        "consents": intake.consents.select_related("person").order_by("pk"),
        "missing_items": intake.missing_items.order_by("pk"),
    })
