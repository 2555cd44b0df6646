"""The county admin's pages of data-sharing agreements."""

from django.urls import path

from jiuzhu.api.dci import pages

app_name = "dci_pages"

urlpatterns = [
    path("", pages.agreements, name="agreements"),
    path("add/", pages.agreement_edit, name="agreement_add"),
    path("<int:pk>/", pages.agreement_edit, name="agreement_edit"),
]
