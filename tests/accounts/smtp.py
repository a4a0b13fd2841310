"""A real SMTP server (aiosmtpd) for the test, and Django pointed at it.

``smtp_server`` starts it on a free loopback port and switches Django's mail settings to the
SMTP backend, so the code under test goes through smtplib exactly as in production; the test
reads what the server received (``smtp_server.messages``, newest last).
"""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.body)


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} message(s) expected, {len(self.messages)} came")
            time.sleep(0.02)
        return self.messages

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]

    def last_to(self, address: str) -> Received:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m.envelope_to for m in self.messages]}"
        return found[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    # The test server's own protocol log (it echoes message bodies) is not the app's log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = "http://testserver"
    try:
        yield server
    finally:
        controller.stop()


def path_of(url: str) -> str:
    """The path of an absolute link from a mail, for the test client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
