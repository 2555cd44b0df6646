"""API URL patterns: the whole NinjaAPI, mounted at /api/v1/ by jiuzhu/urls.py."""

from django.urls import URLPattern, URLResolver, path

from jiuzhu.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
]
