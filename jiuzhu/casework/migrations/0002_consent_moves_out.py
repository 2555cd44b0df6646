"""First step of moving consents to the verification app: the old model's reverse accessors
step aside so the new `verification.Consent` and `Intake.consents` can take the names."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial"), ("registry", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="consent", name="intake",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="casework.intake"),
        ),
        migrations.AlterField(
            model_name="consent", name="person",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="registry.person"),
        ),
    ]
