"""The agent's recent log: a bounded, redacted tail of the worker's log records, kept in memory
and sent with each heartbeat (the console's agent page shows it).

Bounded twice: a fixed number of lines, each truncated, so a chatty or failing worker can't
grow its heartbeat or its Agent row. Redacted before it is kept: log text can carry a token
from an echoed header or an error message, and it leaves the worker.

With the prefork pool, runs execute in pool processes, not in the main process that sends the
heartbeat. Each pool process keeps its own tail and rewrites it, shortly after each new line,
to its own file in a private folder the main process made before the pool started (a local
folder: the pool always shares the main process's host). The heartbeat merges the main
process's tail with those files by time (``pool_tail``). Files, not a pipe or a queue: a pool
process killed mid-write (time limit, OOM) can't wedge the main process, its last lines stay
readable, and only cleaned lines ever reach the disk."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from connectors.redaction import REDACTED, is_secret_name, redact_text

MAX_LINES = 200
MAX_LINE_CHARS = 500
_ELLIPSIS = "…"
# A pool process writes its file this long after a new line: a burst of lines is one write.
SHARE_DELAY = 0.2
# The pool files the main process reads: the newest ones (a pool replaced after max tasks
# per child or a crash leaves its file; older ones are deleted).
MAX_POOL_FILES = 16
_FOLDER_PREFIX = "designer-agent-log-"
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
    """Keeps the last ``max_lines`` records at ``level`` and above as cleaned text lines; in a
    pool process (``share_to``), also in a file for the main process's heartbeat."""

    def __init__(
        self,
        level: int = logging.INFO,
        *,
        max_lines: int = MAX_LINES,
        max_chars: int = MAX_LINE_CHARS,
    ) -> None:
        super().__init__(level)
        self.max_chars = max_chars
        self._entries: deque[tuple[float, str]] = deque(maxlen=max_lines)
        self._guard = threading.Lock()
        self._file: Path | None = None
        self._dirty = threading.Event()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        _handlers.add(self)

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
                self._entries.append((record.created, cleaned))
            if self._file is not None:
                self._dirty.set()
        except Exception:
            self.handleError(record)

    def entries(self) -> list[tuple[float, str]]:
        """(time logged, line), oldest first."""
        with self._guard:
            return list(self._entries)

    def lines(self) -> list[str]:
        """Oldest first."""
        return [line for _, line in self.entries()]

    # ------------------------------------------------------------------ in a pool process
    def share_to(self, path: Path) -> None:
        """Keep this process's tail in ``path`` too, for the main process to read. Called in a
        pool process just after the fork: what it inherited is the main process's tail (sent
        by the main process itself), so it starts empty."""
        with self._guard:
            self._entries.clear()
        self._file = Path(path)
        self._dirty = threading.Event()
        threading.Thread(target=self._share_loop, name="agent-log-share", daemon=True).start()

    def save(self) -> None:
        """Write the tail to the shared file now (atomically: a reader never sees half)."""
        if self._file is None:
            return
        data = json.dumps(self.entries()).encode()
        # One partial file per writing thread (the writer, the process's exit hook).
        partial = self._file.with_name(f"{self._file.name}.{threading.get_ident()}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(partial, self._file)

    def _share_loop(self) -> None:
        while True:
            self._dirty.wait()
            time.sleep(SHARE_DELAY)
            self._dirty.clear()
            # Nothing is logged from here: the record would come back to this handler.
            with contextlib.suppress(OSError):
                self.save()

    def _after_fork(self) -> None:
        # A lock held by another thread of the parent at fork time stays held in the child.
        self._guard = threading.Lock()


_handlers: weakref.WeakSet[RecentLogHandler] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for handler in list(_handlers):
        handler._after_fork()


os.register_at_fork(after_in_child=_reinit_after_fork)


# ------------------------------------------------------------------ in the main process
def pool_folder() -> Path:
    """A new private folder (0700) for this worker's pool processes' files; made by the main
    process before its pool starts, so every pool process (also a replaced one) inherits it.
    Folders left by workers that were killed (their pid gone) are removed first."""
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{_FOLDER_PREFIX}*-*"):
        pid = stale.name[len(_FOLDER_PREFIX) :].split("-", 1)[0]
        with contextlib.suppress(OSError, ValueError):
            if stale.stat().st_uid == os.getuid() and not _alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pool_file(folder: Path, pid: int) -> Path:
    return Path(folder) / f"{pid}.json"


def _read_pool_files(folder: Path) -> list[tuple[float, str]]:
    files = []
    for path in Path(folder).glob("*.json"):
        with contextlib.suppress(OSError):
            files.append((path.stat().st_mtime, path))
    files.sort(reverse=True)
    for _, path in files[MAX_POOL_FILES:]:
        with contextlib.suppress(OSError):
            path.unlink()
    entries: list[tuple[float, str]] = []
    for _, path in files[:MAX_POOL_FILES]:
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        for item in data[-MAX_LINES:] if isinstance(data, list) else ():
            with contextlib.suppress(TypeError, ValueError):
                logged, line = item
                entries.append((float(logged), str(line)))
    return entries


def pool_tail(handler: RecentLogHandler, folder: Path | None) -> list[str]:
    """The main process's tail and its pool processes' tails, merged by time: the last
    MAX_LINES lines, oldest first."""
    entries = handler.entries()
    if folder is not None:
        entries += _read_pool_files(folder)
    entries.sort(key=lambda entry: entry[0])
    return [line for _, line in entries[-MAX_LINES:]]


def remove_pool_folder(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
