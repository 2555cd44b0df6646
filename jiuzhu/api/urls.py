"""API URL patterns: the whole NinjaAPI, mounted at /api/v1/ by jiuzhu/urls.py."""

from django.urls import URLPattern, URLResolver, include, path

from jiuzhu.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("dci/", include("jiuzhu.api.dci.urls")),
    path("", api.urls),
]
