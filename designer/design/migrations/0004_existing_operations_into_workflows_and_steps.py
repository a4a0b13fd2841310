"""Existing projects get one workflow, "Workflow 1", holding all their operations; each
operation's source / transformation / target slots become its steps [source,
transformation?, target] (issue 11)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    Workflow = apps.get_model("design", "Workflow")
    Operation = apps.get_model("design", "Operation")
    Step = apps.get_model("design", "Step")
    for project in Project.objects.all().iterator():
        workflow, _ = Workflow.objects.get_or_create(
            project=project, name="Workflow 1", defaults={"order": 0}
        )
        Operation.objects.filter(project=project, workflow__isnull=True).update(workflow=workflow)
    steps = []
    for op in Operation.objects.all().iterator():
        if Step.objects.filter(operation=op).exists():
            continue
        chain = []
        if op.source_id:
            chain.append({"kind": "source", "activity_id": op.source_id})
        if op.transformation_id:
            chain.append({"kind": "transformation", "transformation_id": op.transformation_id})
        if op.target_id:
            chain.append({"kind": "target", "activity_id": op.target_id})
        for position, fields in enumerate(chain):
            steps.append(Step(operation=op, position=position, branch="", config={}, **fields))
    Step.objects.bulk_create(steps)


def backwards(apps, schema_editor):
    # The old slots are still there and were kept in step with the steps: nothing to undo.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("design", "0003_workflows_and_steps"),
        ("projects", "0002_variables"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
