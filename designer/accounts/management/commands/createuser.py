"""``manage.py createuser alice --email a@x.test [--staff] [--password-stdin | --send-link]``"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from designer.accounts.services import AccountError, user_create


class Command(BaseCommand):
    help = (
        "Create a user. The password is read from stdin (--password-stdin) or, without it, "
        "the user is mailed a link to set one. Pending project invitations for the email "
        "are granted. Django's password validators apply."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--staff", action="store_true", help="may use the whole console")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin (kept out of the shell history)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                raise CommandError("No password on stdin.")
        try:
            user = user_create(
                username=options["username"],
                email=options["email"],
                password=password,
                is_staff=options["staff"],
                actor=None,
            )
        except AccountError as error:
            raise CommandError(str(error)) from None
        note = f"User {user.get_username()} created"
        if password is None:
            note += f"; a link to set the password was mailed to {user.email}"
        memberships = user.memberships.select_related("project")
        if memberships:
            joined = ", ".join(f"{m.project.name} ({m.get_role_display()})" for m in memberships)
            note += f"; joined {joined}"
        self.stdout.write(note + ".")
