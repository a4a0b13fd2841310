"""The agent's recent log: a bounded, redacted tail of the worker process's own log records,
kept in memory and sent with each heartbeat (the console's agent page shows it).

Bounded twice: a fixed number of lines, each truncated, so a chatty or failing worker can't
grow its heartbeat or its Agent row. Redacted before it is kept: log text can carry a token
from an echoed header or an error message, and it leaves the worker."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Sequence

from connectors.redaction import REDACTED, is_secret_name, redact_text

MAX_LINES = 200
MAX_LINE_CHARS = 500
_ELLIPSIS = "…"
# "password=hunter2", "client_secret: abc": a secret-named key followed by its value in free
# text (redact_text covers bearer credentials and URL query values, not these).
_ASSIGNMENT = re.compile(r"\b([A-Za-z][\w-]*)(\s*[=:]\s*)(['\"]?)([^\s'\",;&]+)")


def clean_line(text: str, *, max_chars: int = MAX_LINE_CHARS) -> str:
    """One line: secrets masked, newlines flattened, at most ``max_chars`` characters."""
    text = redact_text(str(text))
    text = _ASSIGNMENT.sub(
        lambda m: f"{m[1]}{m[2]}{m[3]}{REDACTED}" if is_secret_name(m[1]) else m[0], text
    )
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - len(_ELLIPSIS)] + _ELLIPSIS
    return text


def bounded_lines(lines: Sequence[str] | None) -> list[str]:
    """The last MAX_LINES lines, each cleaned: the server side does not trust the sender."""
    return [clean_line(line) for line in list(lines or [])[-MAX_LINES:]]


class RecentLogHandler(logging.Handler):
    """Keeps the last ``max_lines`` records at ``level`` and above as cleaned text lines."""

    def __init__(
        self,
        level: int = logging.INFO,
        *,
        max_lines: int = MAX_LINES,
        max_chars: int = MAX_LINE_CHARS,
    ) -> None:
        super().__init__(level)
        self.max_chars = max_chars
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # The message line only; a traceback is summarised by its last line (the error).
            line = self.formatter.format(record) if record.exc_info is None else None
            if line is None:
                saved = record.exc_info, record.exc_text
                record.exc_info, record.exc_text = None, None
                try:
                    line = self.formatter.format(record)
                finally:
                    record.exc_info, record.exc_text = saved
                error = record.exc_info[1] if record.exc_info else None
                if error is not None:
                    line += f" | {type(error).__name__}: {error}"
            cleaned = clean_line(line, max_chars=self.max_chars)
            with self._guard:
                self._lines.append(cleaned)
        except Exception:
            self.handleError(record)

    def lines(self) -> list[str]:
        """Oldest first."""
        with self._guard:
            return list(self._lines)
