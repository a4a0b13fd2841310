"""On a real prefork worker (two pool processes): lines logged inside a pool child, where runs
execute, reach the agent's heartbeat and the console's agent page too, bounded and redacted
like the worker's own lines.

The worker runs this module's ``ChattyConnector`` (the fake connector whose source logs through
Python logging while it reads), registered in its environment as the ``fake`` connector."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from connectors.base import RunContext
from designer.celery import worker_command
from designer.runs.agent_log import MAX_LINE_CHARS, MAX_LINES
from designer.runs.models import Agent, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    SECRET,
    Worker,
    fake_connector,
    make_operation,
    new_queue,
    wait_final,
    wait_for,
    worker_env,
    workers,
)
from tests.runs.fake_connector import FakeConnector, Generate

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

chatty_log = logging.getLogger("tests.agent_log.chatty")
FILLER = 250  # more lines than an agent sends: the bound must hold over the child's lines
LONG = 3 * MAX_LINE_CHARS


class ChattyGenerate(Generate):
    """``generate`` that first logs, in the process running the run: ``chatter`` filler lines,
    a line carrying the connection's secret three ways, an over-long line, then the last line
    (the run's ``tag`` and this process's pid in each marker)."""

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        tag, pid = config.get("tag", ""), os.getpid()
        secret = context.connection.secrets().get("api_key", "")
        for index in range(int(config.get("chatter", 0))):
            chatty_log.info("chatty-filler %s %s", tag, index)
        chatty_log.warning(
            "chatty-secret %s calling https://api.test/x?api_key=%s with Authorization: "
            "Bearer %s and password=%s",
            tag,
            secret,
            secret,
            secret,
        )
        chatty_log.info("chatty-long %s %s", tag, "x" * LONG)
        chatty_log.info("chatty-last %s pid=%s", tag, pid)
        yield from super().read(context, config)


class ChattyConnector(FakeConnector):
    activity_types = {**FakeConnector.activity_types, "generate": ChattyGenerate()}


def start_prefork(workers, queue: str, *options: str, concurrency: int = 2) -> Worker:  # noqa: F811
    """A prefork worker with ``concurrency`` pool processes (and Celery ``options``), stopped
    with the other workers."""
    short = f"w{uuid.uuid4().hex[:8]}"
    name = f"{short}@{socket.gethostname()}"
    log_path = workers.folder / f"{short}.log"
    env = {**workers.env, "EXTRA_CONNECTORS": f"fake={__name__}.ChattyConnector"}
    process = subprocess.Popen(
        [
            *worker_command(queue=queue, name=name, pool="prefork", concurrency=concurrency),
            *options,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = Worker(name=name, queue=queue, process=process, log_path=log_path)
    workers.started.append(worker)
    workers.wait_ready(worker)
    return worker


def test_a_pool_childs_log_lines_reach_the_agent_page_bounded_and_redacted(
    workers,  # noqa: F811
    console_client,
    project,
):
    queue = new_queue()
    project.agent_group = queue
    project.save(update_fields=["agent_group"])
    worker = start_prefork(workers, queue)
    operation = make_operation(project, count=3)
    tag = uuid.uuid4().hex[:8]
    operation.source.config.update(chatter=FILLER, tag=tag)
    operation.source.save(update_fields=["config"])

    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
    assert run.status == RunStatus.SUCCESS, run.message

    def child_lines():
        lines = Agent.objects.get(name=worker.name).recent_log
        return lines if any(f"chatty-last {tag}" in line for line in lines) else None

    lines = wait_for(child_lines, timeout=20, interval=0.2, what="the pool child's last line")
    (last,) = [line for line in lines if f"chatty-last {tag}" in line]
    # Logged in a pool process, not in the worker's main process.
    child_pid = int(last.rsplit("pid=", 1)[1])
    assert child_pid != worker.process.pid
    assert child_pid in worker.children()

    # Bounded: the agent's line count and each line's length, over the child's lines too.
    assert len(lines) == MAX_LINES
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    (long_line,) = [line for line in lines if f"chatty-long {tag}" in line]
    assert len(long_line) == MAX_LINE_CHARS and long_line.endswith("…")
    # Oldest first: the child's lines in the order logged, the newest filler kept.
    assert lines.index(long_line) < lines.index(last)
    assert any(line.endswith(f"chatty-filler {tag} {FILLER - 1}") for line in lines)

    # Redacted: the line is kept, its secret (query value, bearer, password=) is not.
    (secret_line,) = [line for line in lines if f"chatty-secret {tag}" in line]
    assert " WARNING " in secret_line and "api_key=" in secret_line
    assert SECRET not in secret_line
    assert not any(SECRET in line for line in lines)

    agent = Agent.objects.get(name=worker.name)
    html = console_client("staff").get(reverse("console:agent", args=[agent.pk])).content.decode()
    assert 'id="agent-log"' in html
    assert f"chatty-last {tag} pid={child_pid}" in html
    assert SECRET not in html


def test_a_replaced_pool_process_sends_its_own_lines_once_and_the_old_ones_stay(
    workers,  # noqa: F811
    project,
):
    """With one task per pool process, each run's process exits and is replaced by a fork made
    after the worker was ready (it inherits the main process's tail): every line arrives once,
    and the exited process's lines stay until newer ones push them out."""
    queue = new_queue()
    project.agent_group = queue
    project.save(update_fields=["agent_group"])
    worker = start_prefork(workers, queue, "--max-tasks-per-child=1")
    tags = []
    for _ in range(3):
        operation = make_operation(project, count=2)
        tags.append(uuid.uuid4().hex[:8])
        operation.source.config.update(tag=tags[-1])
        operation.source.save(update_fields=["config"])
        run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
        assert run.status == RunStatus.SUCCESS, run.message

    def all_runs_logged():
        lines = Agent.objects.get(name=worker.name).recent_log
        last = [line for line in lines if "chatty-last" in line]
        return lines if all(any(tag in line for line in last) for tag in tags) else None

    lines = wait_for(all_runs_logged, timeout=20, interval=0.2, what="every run's last line")
    assert len(set(lines)) == len(lines), "a line was sent twice"
    pids = {int(line.rsplit("pid=", 1)[1]) for line in lines if "chatty-last" in line}
    assert len(pids) == 3 and worker.process.pid not in pids  # three pool processes
