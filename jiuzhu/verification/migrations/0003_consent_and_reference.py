"""Consents move here from casework (see casework 0002/0003), and a request names its case
instead of linking to casework's Application, which sits above this app."""

import django.db.models.deletion
from django.db import migrations, models


def reference_forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    Request = apps.get_model("verification", "VerificationRequest")
    for request in Request.objects.filter(application__isnull=False):
        request.reference = f"application:{request.application_id}"
        request.save(update_fields=["reference"])


def reference_backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    Request = apps.get_model("verification", "VerificationRequest")
    for request in Request.objects.filter(reference__startswith="application:"):
        request.application_id = int(request.reference.split(":", 1)[1])
        request.save(update_fields=["application"])


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0001_initial'),
        ('verification', '0002_seed_departments'),
        ('casework', '0002_consent_moves_out'),
    ]

    operations = [
        migrations.AddField(
            model_name='verificationrequest',
            name='reference',
            field=models.CharField(blank=True, db_index=True, max_length=40, verbose_name='case reference'),
        ),
        migrations.RunPython(reference_forward, reference_backward),
        migrations.RemoveField(
            model_name='verificationrequest',
            name='application',
        ),
        migrations.CreateModel(
            name='Consent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scan', models.FileField(blank=True, upload_to='consents/%Y/%m/', verbose_name='scan')),
                ('signature', models.TextField(blank=True, verbose_name='recorded signature')),
                ('given_on', models.DateField(verbose_name='given on')),
                ('withdrawn_on', models.DateField(blank=True, null=True, verbose_name='withdrawn on')),
                ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='registry.household', verbose_name='household')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='registry.person', verbose_name='person')),
            ],
            options={
                'verbose_name': 'consent to verification',
                'verbose_name_plural': 'consents to verification',
                'indexes': [models.Index(fields=['household', 'person'], name='verificatio_househo_99c911_idx')],
            },
        ),
    ]
