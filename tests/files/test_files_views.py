"""A Files connection's folder in the UI: upload (streamed, limited), list, download, delete."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from designer.files.storage import connection_extras, connection_folder
from tests.factories import ConnectionFactory


@pytest.fixture
def files_connection(project):
    return ConnectionFactory(project=project, connector_key="files", name="Drop")


def base(conn) -> str:
    return f"/projects/{conn.project_id}/files/{conn.pk}/"


def test_upload_list_download_delete(client_for, files_connection):
    client = client_for("editor")
    upload = SimpleUploadedFile("contacts.csv", b"email\na@example.com\n", "text/csv")
    response = client.post(base(files_connection) + "upload/", {"file": upload}, follow=True)
    assert "Uploaded contacts.csv" in response.content.decode()
    folder = connection_folder(files_connection)
    assert (folder / "contacts.csv").read_bytes() == b"email\na@example.com\n"
    assert [p.name for p in folder.iterdir()] == ["contacts.csv"]  # no temp file left
    page = client_for("viewer").get(base(files_connection)).content.decode()
    assert "contacts.csv" in page and "Upload a file" not in page
    download = client_for("viewer").get(base(files_connection) + "download/contacts.csv")
    assert b"".join(download.streaming_content) == b"email\na@example.com\n"
    assert 'attachment; filename="contacts.csv"' in download["Content-Disposition"]
    client.post(base(files_connection) + "delete/contacts.csv")
    assert not (folder / "contacts.csv").exists()


def test_upload_over_the_limit_is_refused_and_leaves_nothing(
    client_for, files_connection, settings
):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    client = client_for("editor")
    # Small enough to pass the Content-Length check, big enough to pass the limit mid-stream.
    upload = SimpleUploadedFile("big.csv", b"x" * 1500, "text/csv")
    response = client.post(base(files_connection) + "upload/", {"file": upload}, follow=True)
    assert "The file is too large: uploads are limited to 1,000 bytes." in response.content.decode()
    folder = connection_folder(files_connection)
    assert not folder.exists() or os.listdir(folder) == []
    huge = SimpleUploadedFile("huge.csv", b"x" * 200_000, "text/csv")
    response = client.post(base(files_connection) + "upload/", {"file": huge}, follow=True)
    assert "too large" in response.content.decode()


def test_upload_names_that_would_leave_the_folder_are_refused(client_for, files_connection):
    client = client_for("editor")
    upload = SimpleUploadedFile("ok.csv", b"a\n1\n", "text/csv")
    response = client.post(
        base(files_connection) + "upload/", {"file": upload, "name": "../escape.csv"}, follow=True
    )
    assert "can&#x27;t contain folders" in response.content.decode()
    folder = connection_folder(files_connection)
    assert not (folder.parent / "escape.csv").exists()
    assert os.listdir(folder) == []


def test_download_and_delete_refuse_traversal_and_symlinks(client_for, files_connection, tmp_path):
    folder = connection_folder(files_connection)
    folder.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.symlink(outside, folder / "link.txt")
    client = client_for("editor")
    assert client.get(base(files_connection) + "download/link.txt").status_code == 404
    assert client.get(base(files_connection) + "download/..%2Foutside.txt").status_code == 404
    assert client.post(base(files_connection) + "delete/link.txt").status_code == 404
    assert outside.exists()
    assert "link.txt" not in client.get(base(files_connection)).content.decode()


def test_only_files_connections_have_a_folder_page(client_for, project):
    cc = ConnectionFactory(project=project, connector_key="constant_contact")
    assert client_for("viewer").get(base(cc)).status_code == 404


def test_extras_point_the_connector_at_the_folder(files_connection, files_root):
    extras = connection_extras(files_connection)
    assert extras["folder"] == str(files_root / str(files_connection.pk))


@pytest.mark.django_db(transaction=True)
def test_deleting_a_files_connection_or_its_project_removes_its_folder(project):
    kept = ConnectionFactory(project=project, connector_key="files", name="Kept")
    gone = ConnectionFactory(project=project, connector_key="files", name="Gone")
    for conn in (kept, gone):
        connection_folder(conn).mkdir(parents=True)
        (connection_folder(conn) / "a.csv").write_text("a\n1\n")
    gone.delete()
    assert not connection_folder(gone).exists() and connection_folder(kept).exists()
    project.delete()
    assert not connection_folder(kept).exists()
