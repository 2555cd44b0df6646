from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The API layer; its models are the DCI exchange's agreements, messages and outbox."""

    name = "jiuzhu.api"
    label = "api"
    verbose_name = _("API and data exchange")
    default_auto_field = "django.db.models.BigAutoField"
