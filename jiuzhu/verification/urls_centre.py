"""The verification centre's lists: findings and the department catalogue."""

from django.urls import path

from jiuzhu.verification import views_centre

app_name = "verification_centre"

urlpatterns = [
    path("findings/", views_centre.findings, name="findings"),
    path("findings/<int:pk>/dismiss/", views_centre.finding_dismiss, name="finding_dismiss"),
    path("departments/", views_centre.departments, name="departments"),
    path("departments/add/", views_centre.department_edit, name="department_add"),
    path("departments/<slug:code>/", views_centre.department_edit, name="department_edit"),
]
