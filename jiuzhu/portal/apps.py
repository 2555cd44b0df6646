from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """门户: the public site — for now the means-test calculator."""

    name = "jiuzhu.portal"
    verbose_name = _("Portal")
