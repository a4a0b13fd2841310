"""Create (or refresh) the demo user and the demo project for `make run`.

The password is generated on every call and printed once: there is no fixed demo password.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from designer.transfer.demo import demo_project_ensure


class Command(BaseCommand):
    help = "Create the demo user and project and print how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8765")

    def handle(self, *args, username: str, url: str, sandbox_url: str, **options) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.set_password(password)
        user.is_staff = True  # the demo user may open the management console
        user.save()
        project = demo_project_ensure(owner=user, sandbox_url=sandbox_url)
        line = "-" * 64
        self.stdout.write(
            f"\n{line}\n"
            f"  Integration Designer: {url}/\n"
            f"  Log in as      {username}\n"
            f"  with password  {password}\n"
            f"  Demo project:  {url}/projects/{project.pk}/\n"
            f"  Constant Contact sandbox: {sandbox_url}\n"
            f"{line}\n"
        )
