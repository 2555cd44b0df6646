"""URL patterns of the list side of the staff app: queue, household file, notices, reports."""

from django.urls import URLPattern, path

from jiuzhu.casework.views import household, notices, queue, relatives, reviews

urlpatterns: list[URLPattern] = [
    path("", queue.queue, name="queue"),
    path("households/<int:pk>/", household.household, name="household"),
    path("households/<int:pk>/edit/", household.household_edit, name="household_edit"),
    path("households/<int:pk>/death/", household.household_death, name="household_death"),
    path("households/<int:pk>/changes/", household.household_change, name="household_change"),
    path("notices/", notices.notices, name="notices"),
    path("notices/publish/", notices.notice_publish, name="notice_publish"),
    path("notices/<int:pk>/", notices.notice_detail, name="notice"),
    path("notices/<int:pk>/print/", notices.notice_print, name="notice_print"),
    path("notices/<int:pk>/objections/", notices.notice_objection, name="notice_objection"),
    path("overdue/", queue.overdue, name="overdue"),
    path("relatives/", relatives.relatives, name="relatives"),
    path("reviews/", reviews.reviews, name="reviews"),
]
