"""A Files connection's folder: list, upload (streamed, size-limited), download, delete."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from connectors.files import quota
from connectors.files.paths import UnsafePath, check_name
from designer.design.models import Connection
from designer.files import storage
from designer.projects.access import Capability, ProjectAccess, project_view

# Multipart overhead allowed on top of the file itself before refusing by Content-Length.
ENVELOPE = 64 * 1024


def _connection(access: ProjectAccess, connection_id: int) -> Connection:
    return get_object_or_404(
        Connection,
        pk=connection_id,
        project=access.project,
        connector_key=storage.FILES_CONNECTOR,
    )


def _quota_note(use: storage.QuotaUse) -> str:
    if use.quota <= 0:
        return ""
    return f"{_size(use.used)} of the project's {_size(use.quota)} Files quota in use."


def _over_quota(use: storage.QuotaUse, after: int) -> str:
    return (
        f"Not uploaded: the project's files would use {_size(after)}, over its Files quota of "
        f"{_size(use.quota)} (all its Files connections together). Delete files first."
    )


def _size(value: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


@project_view(Capability.VIEW)
@require_GET
def files(request: HttpRequest, access: ProjectAccess, connection_id: int) -> HttpResponse:
    connection = _connection(access, connection_id)
    return render(
        request,
        "files/files.html",
        {
            "access": access,
            "project": access.project,
            "connection": connection,
            "files": storage.files_list(connection=connection),
            "limit": _size(settings.FILES_MAX_UPLOAD_BYTES),
            "quota": _quota_note(storage.quota_use(project_id=access.project.pk)),
        },
    )


@project_view(Capability.DESIGN)
@csrf_exempt  # checked below, after the streaming upload handler is in place
@require_POST
def upload(request: HttpRequest, access: ProjectAccess, connection_id: int) -> HttpResponse:
    connection = _connection(access, connection_id)
    limit = settings.FILES_MAX_UPLOAD_BYTES
    back = redirect("files:list", access.project.pk, connection.pk)
    use = storage.quota_use(project_id=access.project.pk)
    folder = storage.connection_folder(connection)
    if use.quota > 0:
        # Stop streaming once even replacing every file of this folder could not make room.
        limit = min(limit, max(0, use.quota - use.used) + quota.folder_bytes(folder))
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > limit + ENVELOPE:
        messages.error(request, _too_large(use, declared, limit))
        return back
    handler = storage.LimitedUploadHandler(request, folder=folder, limit=limit)
    request.upload_handlers = [handler]
    try:
        return _store_upload(request, connection, handler, back, use)
    finally:
        # Refused (a CSRF failure, an unsafe name, the quota) or stored: the hidden temporary
        # file is gone either way (a stored upload was renamed into place: this finds nothing).
        if handler.file is not None:
            handler.file.discard()


def _too_large(use: storage.QuotaUse, received: int, limit: int) -> str:
    if limit < settings.FILES_MAX_UPLOAD_BYTES:  # the quota is the tighter limit
        return _over_quota(use, use.used + received)
    return f"The file is too large: uploads are limited to {_size(limit)}."


@csrf_protect
def _store_upload(request, connection, handler, back, use: storage.QuotaUse) -> HttpResponse:
    upload = request.FILES.get("file")
    if handler.too_large:
        messages.error(request, _too_large(use, handler.received, handler.limit))
        return back
    if upload is None:
        messages.error(request, "Choose a file to upload.")
        return back
    try:
        name = check_name(request.POST.get("name") or upload.name or "")
        target = storage.connection_folder(connection) / name
        existed = target.exists()
        replaced = target.stat().st_size if existed and target.is_file() else 0
        if use.over_with(upload.size - replaced):
            messages.error(request, _over_quota(use, use.used + upload.size - replaced))
            return back
        storage.file_store(connection=connection, name=name, upload=upload)
    except UnsafePath as exc:
        if hasattr(upload, "discard"):
            upload.discard()
        messages.error(request, exc.message)
        return back
    verb = "Replaced" if existed else "Uploaded"
    messages.success(request, f"{verb} {name} ({_size(upload.size)}).")
    return back


@project_view(Capability.VIEW)
@require_GET
def download(
    request: HttpRequest, access: ProjectAccess, connection_id: int, name: str
) -> FileResponse:
    connection = _connection(access, connection_id)
    try:
        path = storage.file_path(connection=connection, name=name)
    except (UnsafePath, FileNotFoundError):
        raise Http404("No such file") from None
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)


@project_view(Capability.DESIGN)
@require_POST
def delete(request: HttpRequest, access: ProjectAccess, connection_id: int, name: str):
    connection = _connection(access, connection_id)
    try:
        storage.file_delete(connection=connection, name=name)
    except (UnsafePath, FileNotFoundError):
        raise Http404("No such file") from None
    messages.success(request, f"Deleted {name}.")
    return redirect("files:list", access.project.pk, connection.pk)
