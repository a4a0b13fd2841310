"""The pool processes' log files (designer/runs/agent_log.py), without a worker: what a pool
process writes (cleaned lines only), and how the main process merges and bounds them."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest

from designer.runs.agent_log import (
    MAX_LINES,
    MAX_POOL_FILES,
    SHARE_DELAY,
    RecentLogHandler,
    pool_file,
    pool_folder,
    pool_tail,
    remove_pool_folder,
)
from tests.fixtures.waiting import wait_for


def logger_with(handler: RecentLogHandler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [handler]
    return logger


@pytest.fixture
def folder():
    made = pool_folder()
    yield made
    remove_pool_folder(made)


def test_the_folder_is_private_and_removed(folder):
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
    remove_pool_folder(folder)
    assert not folder.exists()


def test_a_folder_left_by_a_killed_worker_is_removed_by_the_next_one(folder, tmp_path):
    dead = folder.with_name(f"designer-agent-log-{2**22 + 12345}-abc")  # no such pid
    dead.mkdir()
    mine = folder.with_name(f"designer-agent-log-{os.getpid()}-xyz")  # alive: kept
    mine.mkdir()
    try:
        remove_pool_folder(pool_folder())
        assert not dead.exists() and mine.exists()
    finally:
        remove_pool_folder(dead)
        remove_pool_folder(mine)


def test_a_pool_process_writes_only_cleaned_lines_and_starts_empty(folder):
    handler = RecentLogHandler(max_lines=5, max_chars=100)
    log = logger_with(handler, "tests.agent_log.pool")
    log.info("inherited from the main process")
    path = pool_file(folder, 4242)
    handler.share_to(path)
    for i in range(8):
        log.info("line %d token=tk-secret-%d Bearer abc.def%d", i, i, i)
    log.info("y" * 300)

    def written():
        return path.exists() and json.loads(path.read_text())

    wait_for(lambda: written() and len(written()) == 5, timeout=5, what="the pool file")
    text = path.read_text()
    assert "secret" not in text and "abc.def" not in text and "inherited" not in text
    lines = [line for _, line in json.loads(text)]
    assert [line.split(" ")[5] for line in lines[:-1]] == ["4", "5", "6", "7"]
    assert len(lines[-1]) == 100 and lines[-1].endswith("…")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert not list(folder.glob("*.partial"))


def test_a_burst_of_lines_is_one_write(folder):
    handler = RecentLogHandler()
    log = logger_with(handler, "tests.agent_log.burst")
    path = pool_file(folder, 4343)
    handler.share_to(path)
    for i in range(100):
        log.info("burst %d", i)
    wait_for(path.exists, timeout=5, what="the pool file")
    first = path.stat().st_mtime_ns
    time.sleep(SHARE_DELAY * 3)
    assert path.stat().st_mtime_ns == first
    assert len(json.loads(path.read_text())) == 100


def test_the_main_process_merges_its_lines_with_the_pool_files_by_time_bounded(folder):
    main = RecentLogHandler()
    log = logger_with(main, "tests.agent_log.main")
    log.info("main-1")
    now = time.time()
    pool_file(folder, 1).write_text(json.dumps([[now - 5, "pool1-old"], [now + 1, "pool1-new"]]))
    pool_file(folder, 2).write_text(json.dumps([[now - 1, "pool2"]]))
    (folder / "3.json").write_text("{not json")  # unreadable: skipped
    (folder / "4.json").write_text(json.dumps([["x", "bad"], [1.0], "junk", [now - 9, 7]]))
    lines = pool_tail(main, folder)
    assert [line.rsplit(" ", 1)[-1] for line in lines] == [
        "7",
        "pool1-old",
        "pool2",
        "main-1",
        "pool1-new",
    ]
    many = [[now + i, f"flood {i}"] for i in range(MAX_LINES * 3)]
    pool_file(folder, 5).write_text(json.dumps(many))
    lines = pool_tail(main, folder)
    assert len(lines) == MAX_LINES and lines[-1] == f"flood {MAX_LINES * 3 - 1}"
    assert pool_tail(main, None) == main.lines()


def test_only_the_newest_pool_files_are_kept(folder):
    for pid in range(MAX_POOL_FILES + 4):
        path = pool_file(folder, pid)
        path.write_text(json.dumps([[float(pid), f"pool {pid}"]]))
        os.utime(path, (1000 + pid, 1000 + pid))
    lines = pool_tail(RecentLogHandler(), folder)
    assert lines == [f"pool {pid}" for pid in range(4, MAX_POOL_FILES + 4)]
    assert len(list(folder.glob("*.json"))) == MAX_POOL_FILES
