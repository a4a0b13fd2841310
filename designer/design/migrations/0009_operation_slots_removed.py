"""The operation's source / transformation / target slots go: its steps are the one truth.

An operation that somehow still has slots and no steps gets them as steps first (as 0004 did)."""

from django.db import migrations


def slots_to_steps(apps, schema_editor):
    Operation = apps.get_model("design", "Operation")
    Step = apps.get_model("design", "Step")
    for op in Operation.objects.filter(steps__isnull=True).exclude(
        source__isnull=True, transformation__isnull=True, target__isnull=True
    ):
        chain = []
        if op.source_id:
            chain.append({"kind": "source", "activity_id": op.source_id})
        if op.transformation_id:
            chain.append({"kind": "transformation", "transformation_id": op.transformation_id})
        if op.target_id:
            chain.append({"kind": "target", "activity_id": op.target_id})
        Step.objects.bulk_create(
            Step(operation=op, position=i, config={}, **values) for i, values in enumerate(chain)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("design", "0008_global_endpoints_shared_with_all"),
    ]

    operations = [
        migrations.RunPython(slots_to_steps, migrations.RunPython.noop),
        migrations.RemoveField(model_name="operation", name="source"),
        migrations.RemoveField(model_name="operation", name="target"),
        migrations.RemoveField(model_name="operation", name="transformation"),
    ]
