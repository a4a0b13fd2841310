import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("design", "0004_existing_operations_into_workflows_and_steps"),
    ]

    operations = [
        migrations.AlterField(
            model_name="operation",
            name="workflow",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="operations",
                to="design.workflow",
            ),
        ),
    ]
