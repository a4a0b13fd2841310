"""Files connections' storage: one folder per connection, managed by the app.

The folder is FILES_ROOT/<connection id>. Uploads stream into a hidden temporary
file in that folder and are renamed into place only when complete and within the size limit,
so a half-received upload never appears as a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction

from connectors.files import quota
from connectors.files.paths import list_files, safe_path
from designer.design.models import Connection

FILES_CONNECTOR = "files"


def connection_folder(connection: Connection) -> Path:
    # FILES_ROOT/<connection id>: the folder the run engine hands to the connector too
    # (designer.runs.engine); connection ids are unique across projects.
    return Path(settings.FILES_ROOT) / str(connection.pk)


def connection_extras(connection: Connection) -> dict[str, Any]:
    """What a Files connection needs in ``ConnectionContext.extras``."""
    return {
        "folder": str(connection_folder(connection)),
        "max_file_bytes": settings.FILES_MAX_FILE_BYTES,
        "max_rows": settings.FILES_MAX_ROWS,
        "project_id": connection.project_id,
        "connection_id": connection.pk,
        # The project's Files quota covers every Files connection of the project.
        "project_quota_bytes": settings.FILES_PROJECT_QUOTA_BYTES,
        "project_folders": project_folders(connection.project_id),
    }


def project_folders(project_id: int) -> list[str]:
    ids = Connection.objects.filter(
        project_id=project_id, connector_key=FILES_CONNECTOR
    ).values_list("pk", flat=True)
    return [str(Path(settings.FILES_ROOT) / str(pk)) for pk in sorted(ids)]


@dataclass(frozen=True)
class QuotaUse:
    used: int
    quota: int  # 0: no quota

    def over_with(self, added: int) -> bool:
        return self.quota > 0 and self.used + added > self.quota


def quota_use(*, project_id: int) -> QuotaUse:
    """Bytes the project's Files folders hold, and its quota."""
    return QuotaUse(
        used=quota.bytes_used(project_folders(project_id)),
        quota=settings.FILES_PROJECT_QUOTA_BYTES,
    )


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    modified: datetime


def files_list(*, connection: Connection) -> list[StoredFile]:
    return [
        StoredFile(name, size, datetime.fromtimestamp(mtime, tz=UTC))
        for name, size, mtime in list_files(connection_folder(connection))
    ]


def file_path(*, connection: Connection, name: str) -> Path:
    """The path of an existing file; UnsafePath for bad names, FileNotFoundError if absent."""
    path = safe_path(connection_folder(connection), name)
    if not path.is_file():
        raise FileNotFoundError(name)
    return path


def file_delete(*, connection: Connection, name: str) -> None:
    file_path(connection=connection, name=name).unlink()


def file_store(*, connection: Connection, name: str, upload: UploadedFile) -> Path:
    """Move a completed upload into the connection's folder under ``name`` (replacing)."""
    folder = connection_folder(connection)
    folder.mkdir(parents=True, exist_ok=True)
    path = safe_path(folder, name)
    temp = getattr(upload, "temporary_file_path", None)
    if temp is not None and Path(temp()).parent == folder:
        upload.file.flush()
        os.replace(temp(), path)
        os.chmod(path, 0o640)
        return path
    with tempfile.NamedTemporaryFile(dir=folder, prefix=quota.UPLOAD_PREFIX, delete=False) as out:
        for chunk in upload.chunks():
            out.write(chunk)
    os.replace(out.name, path)
    return path


class FolderUploadFile(UploadedFile):
    """An upload written straight into a hidden temporary file in the target folder."""

    def __init__(self, folder: Path, name: str, content_type: str, charset: str | None):
        folder.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed
            dir=folder, prefix=quota.UPLOAD_PREFIX, delete=False
        )
        super().__init__(handle, name, content_type, 0, charset)

    def temporary_file_path(self) -> str:
        return self.file.name

    def discard(self) -> None:
        self.file.close()
        Path(self.file.name).unlink(missing_ok=True)


class LimitedUploadHandler(FileUploadHandler):
    """Streams the upload to the folder and stops as soon as it passes ``limit`` bytes."""

    def __init__(self, request=None, *, folder: Path, limit: int) -> None:
        super().__init__(request)
        self.folder = folder
        self.limit = limit
        self.received = 0
        self.too_large = False
        self.file: FolderUploadFile | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.file is not None:  # one file per upload request
            raise StopUpload(connection_reset=False)
        self.file = FolderUploadFile(self.folder, self.file_name, self.content_type, self.charset)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            if self.file is not None:
                self.file.discard()
            raise StopUpload(connection_reset=False)
        assert self.file is not None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.file is None or self.too_large:
            return None
        self.file.file.flush()
        self.file.size = file_size
        self.file.seek(0)
        return self.file

    def upload_interrupted(self) -> None:
        if self.file is not None:
            self.file.discard()


def folder_remove_on_delete(sender: Any, instance: Connection, **kwargs: Any) -> None:
    """post_delete of a Connection: a Files connection's folder goes with it, once committed."""
    if instance.connector_key != FILES_CONNECTOR:
        return
    folder = connection_folder(instance)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
