"""Paths inside a connection's folder, and nothing outside it.

A connection's files live flat in one folder the app manages. Every name a user or a
configuration supplies goes through ``safe_path``: no separators, no "..", no absolute paths,
no hidden files, and the resolved path (after symlinks) must still be inside the folder.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError

# Letters (any script), digits, space, and . _ - ( ) + ,  — enough for real file names,
# nothing that means something to a shell or a path.
_NAME = re.compile(r"^[\w .()+,\-]+$")
_PATTERN = re.compile(r"^[\w .()+,\-*?\[\]]+$")
MAX_NAME_LENGTH = 200


class UnsafePath(ConnectorError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True, key="unsafe_path")


def check_name(name: str, *, pattern: bool = False) -> str:
    """The name, stripped, or UnsafePath with a reason a person can act on."""
    name = (name or "").strip()
    if not name:
        raise UnsafePath("A file name is required.")
    if len(name) > MAX_NAME_LENGTH:
        raise UnsafePath(f"File names are limited to {MAX_NAME_LENGTH} characters.")
    if "/" in name or "\\" in name or "\x00" in name:
        raise UnsafePath(f"{name!r}: file names can't contain folders (no “/” or “\\”).")
    if name in {".", ".."} or name.startswith("."):
        raise UnsafePath(f"{name!r}: file names can't start with a dot.")
    if not (_PATTERN if pattern else _NAME).match(name):
        raise UnsafePath(
            f"{name!r}: use letters, digits, spaces and . _ - ( ) + , only"
            + (" (and * ? [ ] as wildcards)." if pattern else ".")
        )
    return name


def folder_of(extras: Mapping[str, Any]) -> Path:
    """The connection's folder, created if missing."""
    folder = extras.get("folder")
    if not folder:
        raise ConnectorError(
            "This Files connection has no storage folder (the app sets it).",
            permanent=True,
            key="no_folder",
        )
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def safe_path(folder: Path, name: str) -> Path:
    """``folder / name``, refusing anything that would leave the folder."""
    name = check_name(name)
    root = folder.resolve()
    candidate = root / name
    # A symlink planted in the folder must not lead outside it.
    if not candidate.resolve().is_relative_to(root):
        raise UnsafePath(f"{name!r} points outside this connection's folder.")
    return candidate


def matching_files(folder: Path, pattern: str) -> list[Path]:
    """Regular files in the folder matching a name or wildcard pattern, in name order."""
    pattern = check_name(pattern, pattern=True)
    root = folder.resolve()
    found = []
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not fnmatch.fnmatchcase(entry.name, pattern):
                continue
            path = Path(entry.path)
            if not path.resolve().is_relative_to(root) or not path.is_file():
                continue  # symlinks out of the folder and sub-folders are ignored
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def list_files(folder: Path) -> list[tuple[str, int, float]]:
    """(name, size, mtime) of the folder's visible regular files, by name."""
    root = folder.resolve()
    rows: list[tuple[str, int, float]] = []
    if not root.exists():
        return rows
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if not path.resolve().is_relative_to(root) or not path.is_file():
                continue
            stat = path.stat()
            rows.append((entry.name, stat.st_size, stat.st_mtime))
    return sorted(rows)
