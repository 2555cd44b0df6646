"""Registry pages: search (查询) and the logged "show" of a masked field (DOMAIN.md §10).

Both read through the scoped selectors: a person or household outside the user's area
is not found, and its existence is not told.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts import services as account_services
from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Level
from jiuzhu.registry import selectors, services
from jiuzhu.registry.models import Membership, Person

SEARCH_LIMIT = 100

#: The fields that are masked on screen, per kind of record, with their labels.
SENSITIVE_FIELDS: dict[str, dict[str, Any]] = {
    "person": {"id_number": gettext_lazy("ID number"), "phone": gettext_lazy("Phone")},
    "household": {"bank_account": gettext_lazy("Bank account")},
}


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name, ID number or file number"), max_length=50, required=False,
                        help_text=gettext_lazy("An ID number or file number may be given by its first digits."))
    area = forms.ChoiceField(label=gettext_lazy("Area"), required=False)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", gettext_lazy("all of my area")), *areas]  # type: ignore[attr-defined]


def _area_choices(user: User) -> list[tuple[str, str]]:
    """Townships and villages inside the user's area, as `code name` choices, indented by level."""
    areas = (account_services.areas_for(user).filter(level__in=[Level.TOWNSHIP, Level.VILLAGE])
             .only("code", "name_zh", "level"))
    return [(a.code, ("\u2003" if a.level == Level.VILLAGE else "") + f"{a.name_zh} ({a.code})") for a in areas]


@staff_required(Action.VIEW)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """查询: current members by name, ID number (whole or start) or file number, within an area.

    The query is posted, not put in the address: an ID number typed here would otherwise
    stay in the browser history, the server's access log and any proxy's (DOMAIN.md §10)."""
    user = _staff(request)
    form = SearchForm(request.POST if request.method == "POST" else None, areas=_area_choices(user))
    results: list[Membership] = []
    searched = False
    if form.is_bound and form.is_valid():
        query, area = form.cleaned_data["q"].strip(), form.cleaned_data["area"]
        if query or area:
            searched = True
            results = list(selectors.search(user, query, area_code=area, limit=SEARCH_LIMIT))
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "registry/search.html", {
        "form": form, "results": results, "searched": searched, "limit": SEARCH_LIMIT,
        "full": len(results) >= SEARCH_LIMIT}, status=status)


def _area_of_person(user: User, person: Person) -> str:
    """The area of the person's household inside the user's scope (the current one first)."""
    membership = (Membership.objects.filter(person=person, household__area__code__startswith=user.scope_code)
                  .select_related("household").order_by(F("end").desc(nulls_first=True), "-start").first())
    if membership is None:
        raise Http404(_("No such person in your area."))
    return membership.household.area_id


@staff_required(Action.SHOW_SENSITIVE)
@require_POST
def show_sensitive(request: HttpRequest, kind: str, pk: int, field: str) -> HttpResponse:
    """Show one masked field unmasked, after logging who saw it (a SensitiveView and an audit entry).

    htmx swaps the returned fragment in place of the masked value; without JavaScript a
    small page shows the value with a way back."""
    user = _staff(request)
    if field not in SENSITIVE_FIELDS.get(kind, {}):
        raise Http404(_("No such field."))
    if kind == "person":
        person = selectors.persons_for(user).filter(pk=pk).first()
        if person is None:
            raise Http404(_("No such person in your area."))
        services.sensitive_shown(by=user, field=field, area_code=_area_of_person(user, person), person=person)
        value = getattr(person, field)
        back_household = None
    else:
        household = selectors.households_for(user).filter(pk=pk).first()
        if household is None:
            raise Http404(_("No such household in your area."))
        services.sensitive_shown(by=user, field=field, area_code=household.area_id, household=household)
        value = getattr(household, field)
        back_household = household.pk
    context = {"value": value, "label": SENSITIVE_FIELDS[kind][field], "kind": kind, "pk": pk, "field": field}
    if request.headers.get("HX-Request"):
        response = render(request, "registry/_shown.html", context)
    else:
        wanted = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure())
        response = render(request, "registry/shown.html", {**context, "next": wanted if safe else "",
                                                           "back_household": back_household})
    response["Cache-Control"] = "no-store"
    return response
