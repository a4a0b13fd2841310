"""The Files writer keeps within the project's quota the app hands over in the extras."""

from __future__ import annotations

import pytest


@pytest.fixture
def write(files):
    return files.activity_type("write")


def test_records_past_the_quota_fail_alone_and_a_replaced_file_frees_its_size(
    write, context, folder, tmp_path
):
    other = tmp_path / "other"
    other.mkdir()
    (other / "big.csv").write_bytes(b"x" * 300)
    quota = {"project_quota_bytes": 400, "project_folders": [str(folder), str(other)]}
    ctx = context(run_id="1", **quota)
    records = [{"email": f"u{i}@x.io"} for i in range(20)]  # "u0@x.io\r\n": 9-10 bytes each
    results = write.write(ctx, {"file_name": "out.csv"}, records)
    size = (folder / "out.csv").stat().st_size
    assert size + 300 <= 400
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    assert done and failed and len(done) + len(failed) == 20
    assert failed[0].error_key == "files_quota"
    assert "over the project's Files quota of 400 bytes" in failed[0].error_message
    # A new run replacing out.csv may use the room that file took.
    again = write.write(context(run_id="2", **quota), {"file_name": "out.csv"}, records[:5])
    assert all(r.ok for r in again)


def test_without_a_quota_nothing_is_counted(write, context, folder):
    results = write.write(context(run_id="1"), {"file_name": "out.csv"}, [{"a": "1"}] * 50)
    assert all(r.ok for r in results)
