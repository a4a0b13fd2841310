"""The default group and every group projects already name become AgentGroup rows."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    AgentGroup = apps.get_model("console", "AgentGroup")
    Project = apps.get_model("projects", "Project")
    names = {settings.CELERY_TASK_DEFAULT_QUEUE, "default"}
    names |= set(Project.objects.values_list("agent_group", flat=True).distinct())
    for name in sorted(n for n in names if n):
        AgentGroup.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_agent_groups"),
        ("projects", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
