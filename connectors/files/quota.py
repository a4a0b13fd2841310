"""A project's Files quota: the bytes all its Files connections' folders may hold together.

The app passes ``project_quota_bytes`` (0 or absent: no quota) and ``project_folders`` (every
Files folder of the project) in the connection's extras; the writer asks how much room is left
before each batch and fails the records that would not fit, each with the same clear message.
Hidden in-progress uploads (``.upload-*``) are not counted: they are either renamed into place
(and then counted) or removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

UPLOAD_PREFIX = ".upload-"


def folder_bytes(folder: str | Path) -> int:
    """The size of the regular files in a folder (not following symlinks), 0 if it is absent."""
    total = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.name.startswith(UPLOAD_PREFIX):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:  # removed meanwhile
            continue
    return total


def bytes_used(folders: Iterable[str | Path]) -> int:
    return sum(folder_bytes(folder) for folder in folders)


def quota_of(extras: Mapping[str, Any]) -> int:
    return int(extras.get("project_quota_bytes") or 0)


def room_left(extras: Mapping[str, Any], *, freed: int = 0) -> tuple[int | None, str]:
    """Bytes the project may still add (``freed``: a file about to be replaced) and the message
    for a record that would not fit, from one scan of its folders; (None, ""): no quota."""
    quota = quota_of(extras)
    if quota <= 0:
        return None, ""
    used = bytes_used(extras.get("project_folders") or ())
    message = (
        f"The file would grow over the project's Files quota of {quota:,} bytes "
        f"({used:,} in use); delete files, then re-run the failed records."
    )
    return max(0, quota - used + freed), message
