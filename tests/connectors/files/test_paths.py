"""Paths never leave the connection's folder."""

from __future__ import annotations

import os

import pytest

from connectors.base import ConnectorError
from connectors.files.paths import UnsafePath, matching_files, safe_path
from tests.connectors.files.conftest import read_all


@pytest.mark.parametrize(
    "name",
    [
        "../x.csv",
        "/etc/passwd",
        "..",
        ".hidden",
        "a/b.csv",
        "a\\b.csv",
        "x\x00.csv",
        "",
        "a;rm.csv",
    ],
)
def test_unsafe_names_are_refused(folder, name):
    with pytest.raises(UnsafePath):
        safe_path(folder, name)


def test_a_symlink_out_of_the_folder_is_refused_and_not_listed(folder, tmp_path, files, context):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    os.symlink(secret, folder / "link.csv")
    with pytest.raises(UnsafePath, match="outside"):
        safe_path(folder, "link.csv")
    assert matching_files(folder, "*.csv") == []
    with pytest.raises(ConnectorError, match="No file matches"):
        read_all(files.activity_type("read"), context(), {"file_name": "link.csv"})


def test_write_refuses_a_template_that_renders_a_path(files, context):
    write = files.activity_type("write")
    assert "folders" in write.validate_config({"file_name": "../{run_id}.csv"})["file_name"]
    assert (
        "{user} is not a template field"
        in write.validate_config({"file_name": "{user}.csv"})["file_name"]
    )
    with pytest.raises(UnsafePath):
        write.write(context(), {"file_name": "../out.csv"}, [{"a": 1}])


def test_without_a_folder_the_connector_says_so(files):
    from connectors.base import MemoryConnection, RunContext

    ctx = RunContext(connection=MemoryConnection())
    with pytest.raises(ConnectorError, match="no storage folder"):
        read_all(files.activity_type("read"), ctx, {"file_name": "a.csv"})
    assert not files.test(MemoryConnection()).ok


def test_connection_test_reports_the_folder(files, folder):
    from connectors.base import MemoryConnection

    (folder / "a.csv").write_text("x\n1\n")
    result = files.test(MemoryConnection(extras={"folder": str(folder)}))
    assert result.ok and "1 file(s)" in result.message
