"""URL patterns of the application side: intake wizard, application page, its steps, documents."""

from django.urls import URLPattern, path

from jiuzhu.casework.views import application, documents, intake
from jiuzhu.casework.views.application_steps import STEPS

urlpatterns: list[URLPattern] = [
    path("intake/", intake.intake_start, name="intake_start"),
    path("intake/facts/", intake.intake_facts, name="intake_facts"),
    path("intake/programmes/", intake.intake_programmes, name="intake_programmes"),
    path("intake/reset/", intake.intake_reset, name="intake_reset"),
    path("intakes/<int:pk>/", intake.intake_summary, name="intake_summary"),
    path("intakes/<int:pk>/slip/", documents.missing_items_slip, name="missing_items_slip"),
    path("applications/<int:pk>/", application.application_page, name="application"),
    *[path(f"applications/<int:pk>/{step.slug}/", application.STEP_VIEWS[step.name], name=step.url_name)
      for step in STEPS],
    path("applications/<int:pk>/certificate/", documents.certificate, name="certificate"),
    path("applications/<int:pk>/refusal-notice/", documents.refusal_notice, name="refusal_notice"),
]
