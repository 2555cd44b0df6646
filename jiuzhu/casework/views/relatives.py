"""近亲属备案: the relatives register of staff and village cadres (DOMAIN.md §7, 人情保).

A declaration flags the open applications of the relative's household at once; the
flagged ones are listed here so the county can plan its visits.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiuzhu.accounts import services as account_services
from jiuzhu.accounts.decorators import denial_reason, staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Level
from jiuzhu.casework import selectors, services
from jiuzhu.casework.forms_lists import RelativeForm
from jiuzhu.casework.views.queue import staff


def _form(user: User, data: object = None) -> RelativeForm:
    return RelativeForm(
        data, prefix="relative",
        staff=account_services.users_for(user).filter(is_active=True).order_by("area_id", "username"),
        areas=account_services.areas_for(user).filter(level__in=[Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]),
        initial={"area": user.area_id})


@staff_required(Action.VIEW)
@require_http_methods(["GET", "POST"])
def relatives(request: HttpRequest) -> HttpResponse:
    """The register of my area, the applications it flagged, and (for those who keep it) the form."""
    user = staff(request)
    can_declare = user.may(Action.DECLARE_RELATIVES)
    form = _form(user, request.POST if request.method == "POST" else None) if can_declare else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(denial_reason(user, Action.DECLARE_RELATIVES))
        if form.is_valid():
            data = form.cleaned_data
            try:
                declaration = services.relative_declare(
                    by=user, area_code=data["area"].code, declarant=data["declarant"],
                    declarant_name=data["declarant_name"].strip(), declarant_post=data["declarant_post"].strip(),
                    relative_name=data["relative_name"].strip(), relative_id_number=data["relative_id_number"],
                    relation=data["relation"].strip())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("%(name)s is in the register.") % {"name": declaration.relative_name})
                return redirect("casework:relatives")
        status = 400
    page = Paginator(selectors.relatives_for(user), 100).get_page(request.GET.get("page"))
    flagged = (selectors.open_applications_for(user).filter(relative_flag=True)
               .select_related("household", "household__area", "intake__applicant").order_by("step_deadline", "pk"))
    return render(request, "casework/relatives.html", {
        "page": page, "form": form, "flagged": flagged}, status=status)
