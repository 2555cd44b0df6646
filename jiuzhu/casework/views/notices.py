"""公示 and 公布: publishing the village notice, printing it, recording objections (DOMAIN.md §10).

The printed notice carries only what the entry holds — masked name, household size,
amount, and for a first review the opinion — so nothing else can leak onto the wall.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiuzhu.accounts.decorators import denial_reason, staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import selectors, services
from jiuzhu.casework.forms_lists import NoticePublishForm, ObjectionForm
from jiuzhu.casework.models import Notice, NoticeEntry, NoticeKind, Objection, State
from jiuzhu.casework.programmes import programme_info
from jiuzhu.casework.views.queue import staff, today
from jiuzhu.registry.services import StaleVersion

#: An objection can be raised while the entry's application is in these states (workflow table).
OBJECTION_STATES = (State.NOTICE, State.RECHECK)


def _notice(user: User, pk: int) -> Notice:
    notice = selectors.notices_for(user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("No such notice in your area."))
    return notice


def _villages(ready: Any) -> list[tuple[Any, list[Any]]]:
    """The applications ready for a notice, grouped by village (the selector orders by village)."""
    return [(apps[0].household.area, apps) for _code, group in groupby(ready, key=lambda a: a.household.area_id)
            if (apps := list(group))]


def _list(request: HttpRequest, *, status: int = 200, form: NoticePublishForm | None = None,
          village: str = "") -> HttpResponse:
    user = staff(request)
    page = Paginator(selectors.notices_for(user), 50).get_page(request.GET.get("page"))
    can_publish = user.may(Action.PUBLISH_NOTICE)
    ready = list(selectors.ready_for_notice(user)) if can_publish else []
    approved = list(selectors.ready_for_announcement(user)) if can_publish else []
    return render(request, "casework/notices.html", {
        "page": page, "can_publish": can_publish, "villages": _villages(ready), "form": form,
        "approved_villages": _villages(approved),
        "failed_village": village, "chosen": set(request.POST.getlist("applications")) if form else set(),
    }, status=status)


@staff_required(Action.VIEW)
@require_GET
def notices(request: HttpRequest) -> HttpResponse:
    """The notices of my area, newest first, and per village the applications ready for one."""
    return _list(request)


@staff_required(Action.PUBLISH_NOTICE)
@require_POST
def notice_publish(request: HttpRequest) -> HttpResponse:
    """Publish a first-review notice (公示) or an approvals notice (公布) for the ticked
    applications of one village."""
    user = staff(request)
    kind = NoticeKind.APPROVAL if request.POST.get("kind") == NoticeKind.APPROVAL else NoticeKind.FIRST_REVIEW
    ready = selectors.ready_for_announcement(user) if kind == NoticeKind.APPROVAL else selectors.ready_for_notice(user)
    form = NoticePublishForm(request.POST, ready=ready)
    village = request.POST.get("village", "")[:12]
    if not form.is_valid():
        return _list(request, status=400, form=form, village=village)
    try:
        notice = services.notice_publish(by=user, applications=list(form.cleaned_data["applications"]),
                                         kind=kind, on=today())
    except StaleVersion as stale:
        form.add_error(None, str(stale))
        return _list(request, status=409, form=form, village=village)
    except ValidationError as error:
        add_service_errors(form, error)
        return _list(request, status=400, form=form, village=village)
    messages.success(request, _("The notice is published; print it and post it in the village."))
    return redirect("casework:notice", pk=notice.pk)


def _detail(request: HttpRequest, notice: Notice, *, status: int = 200,
            form: ObjectionForm | None = None) -> HttpResponse:
    user = staff(request)
    entries = list(NoticeEntry.objects.filter(notice=notice).select_related("application").order_by("id"))
    open_entries = NoticeEntry.objects.filter(notice=notice, application__state__in=OBJECTION_STATES)
    can_object = user.may(Action.RECORD_OBJECTION)
    objections = (Objection.objects.filter(notice_entry__notice=notice)
                  .select_related("notice_entry", "recorded_by").order_by("received_on", "id"))
    return render(request, "casework/notices_detail.html", {
        "notice": notice, "entries": entries, "objections": objections, "can_object": can_object,
        "form": form or (ObjectionForm(entries=open_entries, initial={"received_on": today()})
                         if can_object else None),
        "has_open_entries": any(e.application.state in OBJECTION_STATES for e in entries),
        "running": notice.ends_on >= today(),
    }, status=status)


@staff_required(Action.VIEW)
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _notice(staff(request), pk))


@staff_required(Action.RECORD_OBJECTION)
@require_POST
def notice_objection(request: HttpRequest, pk: int) -> HttpResponse:
    """异议: recorded against one entry; its application goes to re-check (§7)."""
    user = staff(request)
    notice = _notice(user, pk)
    entries = NoticeEntry.objects.filter(notice=notice, application__state__in=OBJECTION_STATES)
    form = ObjectionForm(request.POST, entries=entries)
    if not form.is_valid():
        return _detail(request, notice, status=400, form=form)
    data = form.cleaned_data
    try:
        services.objection_record(by=user, application=data["entry"].application, content=data["content"],
                                  raised_by=data["raised_by"], received_on=data["received_on"])
    except StaleVersion as stale:
        form.add_error(None, str(stale))
        return _detail(request, notice, status=409, form=form)
    except PermissionDenied as denied:
        form.add_error(None, str(denied) or denial_reason(user, Action.RECORD_OBJECTION))
        return _detail(request, notice, status=403, form=form)
    except ValidationError as error:
        add_service_errors(form, error)
        return _detail(request, notice, status=400, form=form)
    messages.success(request, _("The objection is recorded; the application goes to re-check."))
    return redirect("casework:notice", pk=notice.pk)


@staff_required(Action.VIEW)
@require_GET
def notice_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The page posted in the village: masked name, household size, amount (and the opinion)."""
    notice = _notice(staff(request), pk)
    entries = list(NoticeEntry.objects.filter(notice=notice).select_related("application").order_by("id"))
    programmes = {e.application.programme for e in entries}
    programme = ""
    if len(programmes) == 1:
        info = programme_info(notice.area_id, programmes.pop())
        programme = info.name if info else ""
    return render(request, "casework/notice_print.html", {
        "notice": notice, "entries": entries, "programme": programme,
        "township": notice.area.parent, "first_review": notice.kind == NoticeKind.FIRST_REVIEW,
    })
