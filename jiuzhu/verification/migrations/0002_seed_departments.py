"""Seed the departments of the shipped YAML catalogue, so a new database can send requests
at once. Later changes to the files are applied by `services.sync_departments()`."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from jiuzhu.verification.catalogue import load_departments

    Department = apps.get_model("verification", "Department")
    for spec in load_departments().values():
        Department.objects.get_or_create(code=spec.id, defaults={
            "name_zh": spec.name_zh, "name_en": spec.name_en, "legal_basis": spec.legal_basis,
            "exchange_format": spec.exchange_format, "answer_working_days": spec.answer_working_days,
            "asks_about": spec.asks_about, "items": [item.as_dict() for item in spec.items]})


class Migration(migrations.Migration):
    dependencies = [("verification", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
