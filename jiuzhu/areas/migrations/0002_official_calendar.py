"""The State Council holiday schedules from the `chinese_calendar` package, so a new
database computes working days correctly from the start.

The logic is a copy of `jiuzhu.areas.calendar.load_official_calendar` on historical
models: a migration must keep doing what it did when it was written.
"""

from django.db import migrations

SOURCE_PREFIX = "chinese-calendar "


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    import chinese_calendar

    CalendarDay = apps.get_model("areas", "CalendarDay")
    CalendarYear = apps.get_model("areas", "CalendarYear")
    source = f"{SOURCE_PREFIX}{chinese_calendar.__version__}"
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    years = sorted({d.year for d in chinese_calendar.holidays})
    days = [
        CalendarDay(date=d, is_working_day=False, name=names.get(name, name), source=source)
        for d, name in chinese_calendar.holidays.items() if d.weekday() < 5
    ] + [
        CalendarDay(date=d, is_working_day=True, name=f"{names.get(name, name)}调休", source=source)
        for d, name in chinese_calendar.workdays.items() if d.year in years and d.weekday() >= 5
    ]
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)
    CalendarYear.objects.bulk_create([CalendarYear(year=y, source=source) for y in years], ignore_conflicts=True)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("areas", "CalendarDay").objects.filter(source__startswith=SOURCE_PREFIX).delete()
    apps.get_model("areas", "CalendarYear").objects.filter(source__startswith=SOURCE_PREFIX).delete()


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
