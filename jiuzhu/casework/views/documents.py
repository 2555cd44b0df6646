"""Printable documents: the approval certificate (低保证 / 救助证明), the refusal notice with its
written reasons (不予批准通知书), and the missing-items slip (一次性告知书).

Each is a page of its own without the staff navigation, laid out for A4 paper, in
Chinese by default and in English when the page language is English. A document exists
only when the case is in the state it certifies: otherwise the page answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area
from jiuzhu.casework.models import Application, Decision, DecisionKind, State
from jiuzhu.casework.programmes import DIBAO, programme_info
from jiuzhu.casework.selectors import applications_for
from jiuzhu.casework.views.application import area_name, english
from jiuzhu.casework.views.intake import scoped_intake
from jiuzhu.registry.models import Household, Membership
from jiuzhu.rules.parameters import NotInForce, ParameterContext, default_tree


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _application(user: User, pk: int) -> Application:
    found = (applications_for(user).select_related("household", "household__area", "household__area__parent",
                                                   "household__area__parent__parent", "intake__applicant")
             .filter(pk=pk).first())
    if found is None:
        raise Http404(_("No such application in your area."))
    return found


def _decision(application: Application, kind: str) -> Decision:
    decision = application.decisions.filter(kind=kind).select_related("decided_by").first()
    if decision is None:
        raise Http404(_("There is no such decision for this application."))
    return decision


def _members(household: Household) -> list[Membership]:
    return list(household.memberships.filter(end__isnull=True).select_related("person").order_by("start", "id"))


def _township(household: Household) -> Area | None:
    return household.area.parent


def _programme_name(application: Application) -> str:
    info = programme_info(application.area_code, application.programme)
    return info.name if info else application.programme


def _paid_monthly(application: Application) -> bool:
    """A benefit paid every month (dibao, tekun) shows its monthly amount; a one-off aid its sum."""
    info = programme_info(application.area_code, application.programme)
    return info is None or info.monthly


def _base(application: Application) -> dict[str, Any]:
    household = application.household
    members = _members(household)
    township = _township(household)
    head = next((m.person for m in members if m.relation == "head"), application.intake.applicant)
    return {
        "application": application, "household": household, "members": members,
        "counted": [m for m in members if m.counted], "head": head,
        "programme_name": _programme_name(application), "village_name": area_name(household.area),
        "township_name": area_name(township),
        "county_name": area_name(township.parent if township is not None else None),
        "printed_on": timezone.localdate(),
    }


@staff_required(Action.VIEW)
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """低保证 for dibao, 救助证明 for the other programmes: only once approved."""
    application = _application(_user(request), pk)
    if application.state not in (State.APPROVED, State.ENROLLED):
        raise Http404(_("A certificate exists only for an approved application."))
    decision = _decision(application, DecisionKind.APPROVE)
    context = _base(application)
    context.update({
        "decision": decision, "decided_on": timezone.localdate(decision.decided_at),
        "is_dibao": application.programme == DIBAO,
        "monthly": _paid_monthly(application),
        "certificate_number": f"{application.household.number}-{application.pk}",
    })
    return render(request, "casework/documents/certificate.html", context)


def appeal_limits(area_code: str, on: dt.date) -> dict[str, int | None]:
    """Days for administrative reconsideration and months for litigation, when the parameters
    hold them (`procedure.reconsideration_days`, `procedure.litigation_months`); the notice
    names the right without a period otherwise, rather than print a figure from code."""
    p = ParameterContext(default_tree(), area_code, on, "rural")
    limits: dict[str, int | None] = {}
    for key, name in (("reconsideration_days", "procedure.reconsideration_days"),
                      ("litigation_months", "procedure.litigation_months")):
        try:
            limits[key] = int(p.number(name))
        except NotInForce:
            limits[key] = None
    return limits


@staff_required(Action.VIEW)
def refusal_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """不予批准通知书: the written reasons and the right of appeal (§9), only for a refusal."""
    application = _application(_user(request), pk)
    if application.state != State.REFUSED:
        raise Http404(_("A refusal notice exists only for a refused application."))
    decision = _decision(application, DecisionKind.REFUSE)
    decided_on = timezone.localdate(decision.decided_at)
    context = _base(application)
    context.update({
        "decision": decision, "decided_on": decided_on,
        "reasons": [line.strip() for line in decision.reasons.splitlines() if line.strip()],
        "explanation": decision.explanation_en if english() else decision.explanation_zh,
        "authority_name": context["township_name"] if application.delegated else context["county_name"],
        **appeal_limits(application.area_code, decided_on),
    })
    return render(request, "casework/documents/refusal_notice.html", context)


@staff_required(Action.VIEW)
def missing_items_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """一次性告知书: every item still to bring, listed once, so the applicant comes back once."""
    user = _user(request)
    intake = scoped_intake(user, pk)
    household = intake.household
    applications = list(applications_for(user).filter(intake=intake).order_by("pk"))
    return render(request, "casework/documents/missing_items_slip.html", {
        "intake": intake, "household": household, "applications": applications,
        "programme_names": [_programme_name(a) for a in applications],
        "items": list(intake.missing_items.order_by("pk")),
        "village_name": area_name(household.area), "township_name": area_name(_township(household)),
        "entered_on": timezone.localdate(intake.entered_at), "printed_on": timezone.localdate(),
    })
