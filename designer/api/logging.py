"""Keep trigger URL keys out of the logs: Django logs request paths (``django.request`` for
4xx/5xx answers, ``django.server`` for every request under runserver), and a secret URL's
path is its secret."""

from __future__ import annotations

import logging
import re

_HOOK_KEY = re.compile(r"(/api/v1/hooks/)([A-Za-z0-9_-]{6})[A-Za-z0-9_-]*")


def redact_hook_keys(text: str) -> str:
    return _HOOK_KEY.sub(r"\1\2…", text)


class RedactHookKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hooks/" in message:
            record.msg, record.args = redact_hook_keys(message), ()
        return True


def install() -> None:
    for name in ("django.request", "django.server", "designer.api.problems"):
        logging.getLogger(name).addFilter(RedactHookKeys())
