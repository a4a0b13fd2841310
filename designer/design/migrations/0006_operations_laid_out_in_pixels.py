"""The canvas is a free layout in pixels now (issue 11): operations that sat in rows (their
position_y was a row number) are laid out one under another in their workflow."""

from django.db import migrations

LEFT, TOP, ROW = 40, 40, 220


def forwards(apps, schema_editor):
    Operation = apps.get_model("design", "Operation")
    Workflow = apps.get_model("design", "Workflow")
    for workflow in Workflow.objects.all().iterator():
        ops = list(
            Operation.objects.filter(workflow=workflow).order_by("position_y", "position_x", "id")
        )
        for i, op in enumerate(ops):
            op.position_x, op.position_y = LEFT, TOP + i * ROW
        Operation.objects.bulk_update(ops, ["position_x", "position_y"])


class Migration(migrations.Migration):
    dependencies = [("design", "0005_operation_workflow_required")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
