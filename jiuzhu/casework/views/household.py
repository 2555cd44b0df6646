"""一户一档: the household file — members, facts, casework and the history of every change —
and the few edits made on it (address, a member's death, a change report).

The page reads a fixed number of queries whatever the household's size (the selectors
prefetch; the history is one query over every object of the household), so a big family
or a long file does not slow the township PC down.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import AuditEntry, User
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import dynamic, selectors
from jiuzhu.casework.forms_lists import ChangeReportForm, DeathForm, HouseholdEditForm
from jiuzhu.casework.views.queue import staff, today
from jiuzhu.registry import selectors as registry_selectors
from jiuzhu.registry import services as registry_services
from jiuzhu.registry.models import Household, Membership
from jiuzhu.verification.views import household_section

HISTORY_LIMIT = 200


def _file(user: User, pk: int) -> Household:
    try:
        return registry_selectors.household_file(user, pk)
    except Household.DoesNotExist:
        raise Http404(_("No such household in your area.")) from None


def _scoped(user: User, pk: int) -> Household:
    household = registry_selectors.households_for(user).filter(pk=pk).first()
    if household is None:
        raise Http404(_("No such household in your area."))
    return household


def household_history(household: Household, casework: dict[str, Any], *,
                      limit: int = HISTORY_LIMIT) -> list[AuditEntry]:
    """The audit entries of the household and everything hanging off it, newest first, in one query.

    Presses of "show" are left out: they are reads, kept in the audit log, not changes."""
    memberships = list(household.memberships.all())
    applications = casework["applications"]
    objects: dict[str, set[int]] = {
        "registry.household": {household.pk},
        "registry.person": {m.person_id for m in memberships},
        "registry.membership": {m.pk for m in memberships},
        "registry.incomerecord": {f.pk for f in household.incomerecord_set.all()},
        "registry.assetrecord": {f.pk for f in household.assetrecord_set.all()},
        "registry.expenserecord": {f.pk for f in household.expenserecord_set.all()},
        "casework.application": {a.pk for a in applications},
        "casework.intake": {a.intake_id for a in applications},
        "casework.decision": {d.pk for d in casework["decisions"]},
        "casework.enrolment": {e.pk for e in casework["enrolments"]},
        "casework.changereport": {r.pk for r in casework["change_reports"]},
    }
    match = Q()
    for object_type, ids in objects.items():
        if ids:
            match |= Q(object_type=object_type, object_id__in=sorted(str(i) for i in ids))
    return list(AuditEntry.objects.filter(match).exclude(action="sensitive.show").order_by("-id")[:limit])


def _living_members(household: Household) -> Any:
    return Membership.objects.filter(household=household, end__isnull=True, person__death_date__isnull=True)


def _page(request: HttpRequest, pk: int, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = staff(request)
    household = _file(user, pk)
    casework: dict[str, Any] = selectors.household_casework(user, household.pk)
    prefetch_related_objects(casework["change_reports"], "recorded_by")
    on = today()
    memberships = list(household.memberships.all())
    rows: list[dict[str, Any]] = [
        {"membership": m, "person": m.person, "age": m.person.age_on(m.person.death_date or on)} for m in memberships]

    def facts(items: Any) -> list[Any]:
        return sorted(items, key=lambda f: (f.superseded, -f.recorded_at.timestamp()))

    context: dict[str, Any] = {
        "household": household,
        "members": [r for r in rows if r["membership"].end is None],
        "former_members": [r for r in rows if r["membership"].end is not None],
        "incomes": facts(household.incomerecord_set.all()),
        "assets": facts(household.assetrecord_set.all()),
        "expenses": facts(household.expenserecord_set.all()),
        **casework,
        "history": household_history(household, casework),
        "history_limit": HISTORY_LIMIT,
        "can_edit": user.may(Action.EDIT_HOUSEHOLD),
        "can_show": user.may(Action.SHOW_SENSITIVE),
        "today": on,
        "edit_form": HouseholdEditForm(prefix="edit", initial={
            "address": household.address, "area_type": household.area_type, "version": household.version}),
        "death_form": DeathForm(prefix="death", members=_living_members(household), initial={"on": on}),
        "change_form": ChangeReportForm(prefix="change", initial={"occurred_on": on}),
        **household_section(user, household, on),
    }
    context.update(forms)
    return render(request, "casework/household.html", context, status=status)


@staff_required(Action.VIEW)
@require_GET
def household(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk)


@staff_required(Action.EDIT_HOUSEHOLD)
@require_POST
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Address and urban/rural. A version older than the row's means someone saved in between:
    409, nothing written, the typed values kept beside the saved ones."""
    user = staff(request)
    household = _scoped(user, pk)
    form = HouseholdEditForm(request.POST, prefix="edit")
    if not form.is_valid():
        return _page(request, pk, status=400, edit_form=form)
    data = form.cleaned_data
    try:
        registry_services.household_update(
            by=user, household=household, expected_version=data["version"], reason=data["reason"],
            changes={"address": data["address"].strip(), "area_type": data["area_type"]})
    except registry_services.StaleVersion as stale:
        household.refresh_from_db()
        typed = request.POST.copy()
        typed["edit-version"] = str(household.version)  # a second, deliberate save goes through
        retry = HouseholdEditForm(typed, prefix="edit")
        retry.is_valid()
        return _page(request, pk, status=409, edit_form=retry, stale=str(stale))
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, pk, status=400, edit_form=form)
    messages.success(request, _("The household file is saved."))
    return redirect("casework:household", pk=pk)


@staff_required(Action.EDIT_HOUSEHOLD)
@require_POST
def household_death(request: HttpRequest, pk: int) -> HttpResponse:
    """A member died: the membership ends and the household's review is brought forward (§9)."""
    user = staff(request)
    household = _scoped(user, pk)
    form = DeathForm(request.POST, prefix="death", members=_living_members(household))
    if not form.is_valid():
        return _page(request, pk, status=400, death_form=form)
    membership: Membership = form.cleaned_data["member"]
    try:
        dynamic.member_died(by=user, person=membership.person, on=form.cleaned_data["on"], reported_on=today())
    except registry_services.StaleVersion as stale:
        form.add_error(None, str(stale))
        return _page(request, pk, status=409, death_form=form)
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, pk, status=400, death_form=form)
    messages.success(request, _("The death of %(name)s is recorded; the household's review is brought forward.")
                     % {"name": membership.person.name})
    return redirect("casework:household", pk=pk)


@staff_required(Action.EDIT_HOUSEHOLD)
@require_POST
def household_change(request: HttpRequest, pk: int) -> HttpResponse:
    """变更报告: a change the household reported, kept for the next review."""
    user = staff(request)
    household = _scoped(user, pk)
    form = ChangeReportForm(request.POST, prefix="change")
    if not form.is_valid():
        return _page(request, pk, status=400, change_form=form)
    data = form.cleaned_data
    try:
        dynamic.change_report(by=user, household=household, kind=data["kind"], occurred_on=data["occurred_on"],
                              description=data["description"], reported_on=today())
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, pk, status=400, change_form=form)
    messages.success(request, _("The change report is recorded."))
    return redirect("casework:household", pk=pk)
