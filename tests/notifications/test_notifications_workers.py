"""End to end on a real Celery worker: the agent finishing a run mails the notification
through the SMTP server configured in its environment."""

from __future__ import annotations

import pytest

from designer.notifications.models import NotificationRule
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
    make_operation,
    new_queue,
    wait_final,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("fake_connector")
def test_worker_mails_warning_and_error_runs_only(workers, project, smtp_server):  # noqa: F811
    queue = new_queue()
    workers.start(
        queue,
        extra_env={
            "EMAIL_HOST": smtp_server.host,
            "EMAIL_PORT": str(smtp_server.port),
            "EMAIL_USE_TLS": "0",
            "SITE_URL": "https://designer.example.org",
        },
    )
    project.agent_group = queue
    project.save()
    warning_op = make_operation(project, count=10, fail_every=4, name="Some fail")
    error_op = make_operation(project, count=5, mode="reconnect", name="Needs reconnect")
    fine_op = make_operation(project, count=5, name="All good")
    for operation in (warning_op, error_op, fine_op):
        rule = NotificationRule.objects.create(
            operation=operation, on_error=True, on_warning=True, addresses=["ops@example.org"]
        )
        assert rule.pk

    warning = wait_final(run_start(operation=warning_op, trigger=RunTrigger.MANUAL), timeout=60)
    assert warning.status == RunStatus.WARNING, warning.message
    mail = smtp_server.wait_for(1, timeout=30)[0]
    assert mail.subject == "[Acme sync] Some fail: Success with Warning"
    assert "Records read: 10; written: 7; failed: 3." in mail.body
    assert "- #4 r4@example.com: Email already exists for contact 4" in mail.body
    assert f"https://designer.example.org/projects/{project.pk}/runs/{warning.pk}/" in mail.body

    error = wait_final(run_start(operation=error_op, trigger=RunTrigger.MANUAL), timeout=60)
    assert error.status == RunStatus.ERROR
    mail = smtp_server.wait_for(2, timeout=30)[1]
    assert mail.subject == "[Acme sync] Needs reconnect: Error"
    assert "refresh token was revoked" in mail.body

    fine = wait_final(run_start(operation=fine_op, trigger=RunTrigger.MANUAL), timeout=60)
    assert fine.status == RunStatus.SUCCESS
    # The success sends nothing: a later warning is the third message, not a success one.
    wait_final(run_start(operation=warning_op, trigger=RunTrigger.MANUAL), timeout=60)
    assert smtp_server.wait_for(3, timeout=30)[2].subject.endswith("Success with Warning")
    assert len(smtp_server.messages) == 3
