"""URL patterns of the areas pages."""

from django.urls import URLPattern, path

from jiuzhu.areas import views

app_name = "areas"
urlpatterns: list[URLPattern] = [
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/day/", views.calendar_day, name="calendar_day"),
    path("calendar/year/", views.calendar_year, name="calendar_year"),
]
