"""Consents now live in the verification app (a person's consent for a household, kept for
periodic re-verification); an intake lists the ones signed at the window. Data is copied
both ways so the migration reverses without loss."""

from django.db import migrations, models


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    OldConsent = apps.get_model("casework", "Consent")
    Consent = apps.get_model("verification", "Consent")
    Intake = apps.get_model("casework", "Intake")
    through = Intake.consents.through
    for old in OldConsent.objects.select_related("intake").order_by("pk"):
        new = Consent.objects.create(person_id=old.person_id, household_id=old.intake.household_id, scan=old.scan,
                                     signature=old.signature, given_on=old.given_on)
        through.objects.create(intake_id=old.intake_id, consent_id=new.pk)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    OldConsent = apps.get_model("casework", "Consent")
    Intake = apps.get_model("casework", "Intake")
    through = Intake.consents.through
    for row in through.objects.select_related("consent").order_by("pk"):
        consent = row.consent
        OldConsent.objects.get_or_create(intake_id=row.intake_id, person_id=consent.person_id, defaults={
            "scan": consent.scan, "signature": consent.signature, "given_on": consent.given_on})


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_consent_moves_out"), ("verification", "0003_consent_and_reference")]

    operations = [
        migrations.AddField(
            model_name="intake", name="consents",
            field=models.ManyToManyField(blank=True, related_name="intakes", to="verification.consent",
                                         verbose_name="consents to verification"),
        ),
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="Consent"),
    ]
