"""核对 pages: the desk (requests out, answers in), rows to confirm, and per household the
request form and the report."""

from django.urls import path

from jiuzhu.verification import views

app_name = "verification"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("online/<slug:code>/", views.ask_online, name="ask_online"),
    path("import/", views.import_file, name="import"),
    path("files/<int:pk>/", views.answer_file, name="file"),
    path("files/<int:pk>/problems.csv", views.problems_csv, name="problems_csv"),
    path("confirm/", views.confirm_list, name="confirm"),
    path("confirm/<int:pk>/", views.confirm_row, name="confirm_row"),
    path("households/<int:pk>/request/", views.request_verification, name="request"),
    path("households/<int:pk>/report/", views.report, name="report"),
    path("households/<int:pk>/override/", views.override, name="override"),
]
