"""URL patterns of the registry pages."""

from django.urls import URLPattern, path

from jiuzhu.registry import views

app_name = "registry"
urlpatterns: list[URLPattern] = [
    path("search/", views.search, name="search"),
    path("show/<str:kind>/<int:pk>/<str:field>/", views.show_sensitive, name="show_sensitive"),
]
