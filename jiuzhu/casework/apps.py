from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "jiuzhu.casework"
    verbose_name = _("Casework")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from jiuzhu.areas.models import CalendarYear
        from jiuzhu.casework.deadlines import calendar_saved

        # Whether a deadline is provisional depends only on which years are entered.
        post_save.connect(calendar_saved, sender=CalendarYear, dispatch_uid="casework-deadlines-year-saved")
        post_delete.connect(calendar_saved, sender=CalendarYear, dispatch_uid="casework-deadlines-year-deleted")
