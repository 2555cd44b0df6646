"""Top-level URLs: each app brings its own urls module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("jiuzhu.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("jiuzhu.accounts.urls")),
    path("work/", include("jiuzhu.casework.urls")),
    path("registry/", include("jiuzhu.registry.urls")),
    path("verification/centre/", include("jiuzhu.verification.urls_centre")),
    path("verification/", include("jiuzhu.verification.urls")),
    path("areas/", include("jiuzhu.areas.urls")),
    path("data-sharing/", include("jiuzhu.api.dci.urls_pages")),
    path("api/v1/", include("jiuzhu.api.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "jiuzhu.accounts.views.permission_denied"
handler404 = "jiuzhu.accounts.views.page_not_found"
