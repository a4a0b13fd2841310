"""Mail: sent by SMTP in production (EMAIL_HOST set), kept as files under var/mail otherwise.

The embedded default needs no mail server: ``OutboxBackend`` writes each message to its own
``.eml`` file, and the console's Outbox page reads them back, so an invitation link can be
followed in the demo.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

OUTBOX_LIMIT = 200  # the Outbox page shows the newest messages only


def outbox_dir() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


class OutboxBackend(BaseEmailBackend):
    """One ``.eml`` file per message, written atomically (temporary name, then rename)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes(linesep="\n"))
            os.replace(partial, folder / name)
            sent += 1
        return sent


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    sent_at: datetime
    sender: str
    to: str
    subject: str
    body: str


def outbox_messages(limit: int = OUTBOX_LIMIT) -> list[OutboxMessage]:
    """The newest messages written by OutboxBackend, newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    names = sorted((p for p in folder.glob("*.eml")), key=lambda p: p.name, reverse=True)
    found = []
    for path in names[:limit]:
        try:
            parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        except OSError:  # deleted while listing
            continue
        part = parsed.get_body(preferencelist=("plain",))
        found.append(
            OutboxMessage(
                name=path.name,
                sent_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                sender=str(parsed.get("From", "")),
                to=str(parsed.get("To", "")),
                subject=str(parsed.get("Subject", "")),
                body=part.get_content() if part is not None else "",
            )
        )
    return found


class MailError(Exception):
    """A message could not be handed to the mail server; the text says why (no secrets)."""


def send_templated(*, template: str, to: Sequence[str], context: dict) -> None:
    """Render ``<template>_subject.txt`` and ``<template>_body.txt`` and send them.

    Raises MailError with the server's reason; callers decide whether that stops them.
    """
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    message = EmailMessage(subject=subject, body=body, to=list(to))
    try:
        message.send(fail_silently=False)
    except Exception as error:  # smtplib, socket and TLS errors alike
        # The message carries a link with a token: log who and why, never the body.
        logger.warning("Mail %r to %s not sent: %s", template, ", ".join(to), error)
        raise MailError(f"{type(error).__name__}: {error}"[:300]) from error


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
