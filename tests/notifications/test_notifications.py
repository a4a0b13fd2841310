"""Operation notifications: configured beside On Success / On Fail; a run ending in Error or
Success with Warning mails the chosen members and addresses (through a real SMTP server)
with the summary, the first failures and a link to the run."""

from __future__ import annotations

from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.notifications.models import NotificationRule
from designer.runs.models import OperationRun, RecordFailure, RunLogLine, RunStatus
from designer.runs.signals import run_finished
from tests.factories import OperationFactory, UserFactory


def finished(operation, status, **fields) -> OperationRun:
    run = OperationRun.objects.create(
        project=operation.project,
        operation=operation,
        status=status,
        trigger="manual",
        queue="default",
        **fields,
    )
    run_finished.send(sender=OperationRun, run=run)
    return run


def test_form_on_the_run_settings_page_saves_and_is_audited(client_for, project, personas):
    operation = OperationFactory(project=project, name="Nightly sync")
    editor = client_for("editor")
    settings_page = editor.get(reverse("runs:settings", args=[project.pk, operation.pk]))
    html = settings_page.content.decode()
    assert 'id="notifications"' in html and "When a run ends in Error" in html
    assert "operator (operator@example.com)" in html  # members to choose from
    url = reverse("notifications:edit", args=[project.pk, operation.pk])
    response = editor.post(
        url,
        {
            "on_error": "on",
            "members": [personas["operator"].pk],
            "addresses": "ops@example.org, oncall@example.org",
        },
    )
    assert response.status_code == 302
    rule = NotificationRule.objects.get(operation=operation)
    assert rule.on_error and not rule.on_warning
    assert rule.addresses == ["ops@example.org", "oncall@example.org"]
    assert list(rule.members.values_list("username", flat=True)) == ["operator"]
    entry = AuditEntry.objects.get(project=project, component_kind="notifications")
    assert entry.after["addresses"] == ["ops@example.org", "oncall@example.org"]
    again = editor.get(reverse("runs:settings", args=[project.pk, operation.pk])).content.decode()
    assert "ops@example.org\noncall@example.org" in again


def test_bad_input_is_refused_and_kept(client_for, project):
    operation = OperationFactory(project=project)
    url = reverse("notifications:edit", args=[project.pk, operation.pk])
    response = client_for("editor").post(url, {"on_warning": "on", "addresses": "ops@, b@x.org"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Not email addresses: ops@." in html and "ops@, b@x.org" in html
    nobody = client_for("editor").post(url, {"on_error": "on"})
    assert nobody.status_code == 422
    assert "Choose members or enter addresses" in nobody.content.decode()
    assert not NotificationRule.objects.exists()
    # Only project members can be chosen.
    outsider = UserFactory(username="stranger")
    forged = client_for("editor").post(url, {"on_error": "on", "members": [outsider.pk]})
    assert forged.status_code == 422 and not NotificationRule.objects.exists()


def test_error_run_mails_the_summary_first_failures_and_link(
    project, personas, smtp_server, settings
):
    settings.SITE_URL = "https://designer.example.org"
    operation = OperationFactory(project=project, name="Push contacts")
    rule = NotificationRule.objects.create(
        operation=operation, on_error=True, addresses=["ops@example.org"]
    )
    rule.members.set([personas["viewer"]])
    run = OperationRun.objects.create(
        project=project,
        operation=operation,
        status=RunStatus.ERROR,
        trigger="manual",
        queue="default",
        source_records=30,
        target_records=0,
        failed_records=30,
        message="All 30 records failed",
    )
    for i in range(12):
        RecordFailure.objects.create(
            run=run, index=i, key=f"c{i}@x.test", error_message=f"Bad email number {i}"
        )
    run_finished.send(sender=OperationRun, run=run)

    mail = smtp_server.wait_for(1)[0]
    assert sorted(mail.envelope_to) == ["ops@example.org", "viewer@example.com"]
    assert mail.subject == "[Acme sync] Push contacts: Error"
    body = mail.body
    assert "All 30 records failed" in body and "failed: 30" in body
    assert "#0 c0@x.test: Bad email number 0" in body and "#9 c9@x.test" in body
    assert "#10 " not in body and "and 20 more" in body
    assert f"https://designer.example.org/projects/{project.pk}/runs/{run.pk}/" in body
    assert RunLogLine.objects.filter(run=run, message__startswith="Notification sent to").exists()


def test_which_outcomes_notify(project, personas, smtp_server):
    operation = OperationFactory(project=project)
    rule = NotificationRule.objects.create(operation=operation, on_warning=True)
    rule.members.set([personas["admin"], personas["editor"]])
    finished(operation, RunStatus.SUCCESS)
    finished(operation, RunStatus.ERROR)  # on_error is off
    finished(operation, RunStatus.CANCELED)
    assert smtp_server.messages == []
    finished(operation, RunStatus.WARNING, failed_records=1)
    mail = smtp_server.wait_for(1)[0]
    assert "Success with Warning" in mail.subject
    assert sorted(mail.envelope_to) == ["admin@example.com", "editor@example.com"]
    # A member who left the project, or was deactivated, is not mailed any more.
    personas["editor"].memberships.all().delete()
    personas["admin"].is_active = False
    personas["admin"].save()
    rule.addresses = ["ops@example.org"]
    rule.save()
    finished(operation, RunStatus.WARNING, failed_records=1)
    assert smtp_server.wait_for(2)[1].envelope_to == ["ops@example.org"]


def test_mail_failure_is_logged_on_the_run_not_raised(project, settings):
    from tests.accounts.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        free_port(),
        False,
    )
    operation = OperationFactory(project=project)
    NotificationRule.objects.create(operation=operation, on_error=True, addresses=["o@x.org"])
    run = finished(operation, RunStatus.ERROR)
    line = RunLogLine.objects.get(run=run, message__startswith="Notification not sent")
    assert "ConnectionRefusedError" in line.message and line.level == "warning"
