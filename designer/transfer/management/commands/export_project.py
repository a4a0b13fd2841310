"""manage.py export_project <project id> [-o FILE]: the project's JSON export (no secrets)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from designer.projects.models import Project
from designer.transfer.services import project_export


class Command(BaseCommand):
    help = "Write a project's export (docs/EXPORT_FORMAT.md) to a file or standard output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project_id", type=int)
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")

    def handle(self, *args, project_id: int, output: str | None, **options) -> None:
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"No project with id {project_id}.")
        text = json.dumps(project_export(project=project), indent=2, ensure_ascii=False) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Exported “{project.name}” to {output}.")
        else:
            sys.stdout.write(text)
