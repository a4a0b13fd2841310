"""The agent's recent log: bounded in lines and characters, redacted, and stored with the
heartbeat."""

from __future__ import annotations

import logging

import pytest

from designer.runs.agent_log import MAX_LINE_CHARS, MAX_LINES, RecentLogHandler, clean_line
from designer.runs.models import Agent
from designer.runs.services import agent_heartbeat


def logger_with(handler: RecentLogHandler, name: str = "tests.agent_log") -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [handler]
    return logger


def test_handler_keeps_only_the_last_lines_at_info_and_above_oldest_first():
    handler = RecentLogHandler(max_lines=5, max_chars=80)
    log = logger_with(handler)
    log.debug("not kept")
    for i in range(12):
        log.info("line %d", i)
    lines = handler.lines()
    assert len(lines) == 5
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["7", "8", "9", "10", "11"]
    assert all("INFO tests.agent_log line" in line for line in lines)
    assert not any("not kept" in line for line in lines)


def test_handler_truncates_and_flattens_each_line():
    handler = RecentLogHandler(max_lines=3, max_chars=100)
    log = logger_with(handler)
    log.warning("first\nsecond " + "x" * 500)
    (line,) = handler.lines()
    assert len(line) == 100 and line.endswith("…")
    assert "\n" not in line and "first second" in line


def test_handler_redacts_secrets_in_messages_and_errors():
    handler = RecentLogHandler()
    log = logger_with(handler)
    log.info("GET /v3/contacts?access_token=tok-SECRET-1&limit=5")
    log.info("Sent Authorization: Bearer abc.DEF-secret2 to the API")
    log.info("client_secret=hunter2-secret3 password: 'pw-secret4' count=7")
    try:
        raise ValueError("refused refresh_token=rt-secret5")
    except ValueError:
        log.exception("Refresh failed")
    text = "\n".join(handler.lines())
    for secret in (
        "tok-SECRET-1",
        "abc.DEF-secret2",
        "hunter2-secret3",
        "pw-secret4",
        "rt-secret5",
    ):
        assert secret not in text
    assert "limit=5" in text and "count=7" in text  # ordinary values stay
    assert "Refresh failed | ValueError: refused refresh_token=[redacted]" in text
    assert "Traceback" not in text  # one line per record


def test_a_failing_format_does_not_break_logging(capsys):
    handler = RecentLogHandler()
    log = logger_with(handler)
    log.info("%d items", "not a number")  # a bad call is the caller's bug, not the worker's
    assert handler.lines() == []


@pytest.mark.django_db
def test_heartbeat_stores_the_log_bounded_and_keeps_it_when_none_is_sent():
    sent = [f"line {i} password=pw{i}xyz" for i in range(MAX_LINES + 50)]
    sent[-1] = "y" * (MAX_LINE_CHARS * 3)
    agent_heartbeat(name="w1@host", log_lines=sent)
    stored = Agent.objects.get(name="w1@host").recent_log
    assert len(stored) == MAX_LINES
    assert stored[0] == "line 50 password=[redacted]"
    assert len(stored[-1]) == MAX_LINE_CHARS
    agent_heartbeat(name="w1@host")  # a sender without a log leaves the last one shown
    assert Agent.objects.get(name="w1@host").recent_log == stored


def test_clean_line_leaves_plain_text_alone():
    assert clean_line("Run 12 finished: 40 records, 2 failed") == (
        "Run 12 finished: 40 records, 2 failed"
    )
