from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "jiuzhu.areas"
    verbose_name = _("Areas and calendar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Any write to the calendar tables, from a service, the admin or a shell, drops the
        # working-day cache (jiuzhu/areas/calendar.py).
        from jiuzhu.areas.calendar import calendar_changed
        from jiuzhu.areas.models import CalendarDay, CalendarYear

        for model in (CalendarDay, CalendarYear):
            post_save.connect(calendar_changed, sender=model, dispatch_uid=f"calendar_changed_save_{model.__name__}")
            post_delete.connect(calendar_changed, sender=model,
                                dispatch_uid=f"calendar_changed_delete_{model.__name__}")
