"""Pages of dynamic management (§9): review an enrolment (change reports and deaths are
recorded on the household file)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import dynamic
from jiuzhu.casework.forms_dynamic import ReviewDecisionForm
from jiuzhu.casework.models import Assessment, DecisionKind, Enrolment


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _enrolment(request: HttpRequest, pk: int) -> Enrolment:
    scope = _user(request).scope_code
    return get_object_or_404(Enrolment.objects.select_related("household", "application", "household__area"),
                             pk=pk, household__area__code__startswith=scope)


def _review_page(request: HttpRequest, enrolment: Enrolment, form: ReviewDecisionForm | None = None,
                 status: int = 200) -> HttpResponse:
    latest = enrolment.application.assessments.select_related("ran_by").first()
    proposed = DecisionKind(dynamic.proposed_kind(enrolment, latest)).label if latest else None
    initial = {"assessment": latest.pk} if latest else {}
    return render(request, "casework/review.html", {
        "enrolment": enrolment, "assessment": latest, "proposed": proposed,
        "form": form or ReviewDecisionForm(initial=initial),
        "decisions": enrolment.application.decisions.select_related("decided_by"),
    }, status=status)


@staff_required(Action.VIEW)
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, _enrolment(request, pk))


@require_POST
@staff_required(Action.REVIEW)
def reassess(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    try:
        dynamic.reassess(by=_user(request), enrolment=enrolment)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _review_page(request, enrolment, status=400)
    messages.success(request, _("The household was reassessed with the rules in force today."))
    return redirect("casework:review", pk=pk)


@require_POST
@staff_required(Action.DECIDE)
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    form = ReviewDecisionForm(request.POST)
    if form.is_valid():
        assessment = Assessment.objects.filter(pk=form.cleaned_data["assessment"],
                                               application=enrolment.application).first()
        if assessment is None:
            form.add_error("assessment", _("Reassess the household first."))
        else:
            try:
                dynamic.review_decide(by=_user(request), enrolment=enrolment, assessment=assessment,
                                      reasons=form.cleaned_data["reasons"],
                                      employment=form.cleaned_data["employment"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The review decision is recorded."))
                return redirect("casework:review", pk=pk)
    return _review_page(request, enrolment, form=form, status=400)


urlpatterns = [
    path("enrolments/<int:pk>/review/", review, name="review"),
    path("enrolments/<int:pk>/review/reassess/", reassess, name="reassess"),
    path("enrolments/<int:pk>/review/decide/", review_decide, name="review_decide"),
]
