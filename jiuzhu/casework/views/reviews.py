"""复核到期: the enrolments whose periodic or triggered review is due (DOMAIN.md §9).

Listing only; the reassessment and its decision are actions on the household's file."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import selectors
from jiuzhu.casework.views.queue import staff, today

REVIEWS_WITHIN_DAYS = 30


@staff_required(Action.VIEW)
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    """Enrolments whose review is due within the coming month, the most overdue first."""
    user = staff(request)
    due = selectors.reviews_due(user, today(), within_days=REVIEWS_WITHIN_DAYS)
    page = Paginator(due, 100).get_page(request.GET.get("page"))
    return render(request, "casework/reviews.html", {"page": page, "today": today(),
                                                     "within_days": REVIEWS_WITHIN_DAYS})
