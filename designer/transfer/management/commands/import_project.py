"""manage.py import_project FILE --user USERNAME [--name NAME]: a new project from an export."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from designer.transfer.services import project_import
from designer.transfer.validation import ProjectImportError, parse_document


class Command(BaseCommand):
    help = "Create a project from an export file; USERNAME becomes its Admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="Username of the new project's Admin.")
        parser.add_argument("--name", default="", help="Project name (default: the exported one).")

    def handle(self, *args, file: str, user: str, name: str, **options) -> None:
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user “{user}”.")
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CommandError(f"Can't read {file}: {error}") from None
        try:
            project = project_import(document=parse_document(data), actor=owner, name=name)
        except ProjectImportError as error:
            raise CommandError(f"Nothing was imported. {error}") from None
        count = project.connections.count()
        self.stdout.write(
            f"Imported “{project.name}” (id {project.pk}); enter the credentials of its "
            f"{count} endpoint(s) again, then Test."
        )
