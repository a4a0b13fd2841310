"""Saving an operation's notification rule, and mailing when a run ends in Error or Success
with Warning (a receiver of ``designer.runs.signals.run_finished``)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.urls import reverse

from designer.accounts.mail import MailError, absolute_url, send_templated
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.design.models import Operation
from designer.notifications.models import NotificationRule
from designer.runs.models import OperationRun, RunStatus

logger = logging.getLogger(__name__)

FIRST_FAILURES = 10


def _state(rule: NotificationRule | None) -> dict[str, Any]:
    if rule is None:
        return {"on_error": False, "on_warning": False, "members": [], "addresses": []}
    return {
        "on_error": rule.on_error,
        "on_warning": rule.on_warning,
        "members": sorted(u.get_username() for u in rule.members.all()),
        "addresses": list(rule.addresses),
    }


@transaction.atomic
def notification_rule_save(
    *,
    operation: Operation,
    on_error: bool,
    on_warning: bool,
    members: list[Any],
    addresses: list[str],
    actor: Any,
) -> NotificationRule:
    rule = NotificationRule.objects.select_for_update().filter(operation=operation).first()
    before = _state(rule)
    if rule is None:
        rule = NotificationRule(operation=operation)
    rule.on_error, rule.on_warning = on_error, on_warning
    rule.addresses = addresses
    rule.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    rule.save()
    member_ids = set(operation.project.memberships.values_list("user_id", flat=True))
    rule.members.set([m for m in members if m.pk in member_ids])
    after = _state(rule)
    if after != before:
        audit_record(
            project=operation.project,
            actor=actor,
            action=AuditAction.UPDATE,
            kind="notifications",
            name=operation.name,
            before=before,
            after=after,
        )
    return rule


def recipients(rule: NotificationRule) -> list[str]:
    """Members still in the project, active and with an email; then the other addresses."""
    members = rule.members.filter(
        is_active=True, memberships__project_id=rule.operation.project_id
    ).exclude(email="")
    found: list[str] = []
    for address in [*members.values_list("email", flat=True), *rule.addresses]:
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return found


def _wanted(rule: NotificationRule, status: str) -> bool:
    return (status == RunStatus.ERROR and rule.on_error) or (
        status == RunStatus.WARNING and rule.on_warning
    )


def notify_run_finished(sender: Any, run: OperationRun, **_: Any) -> None:
    rule = (
        NotificationRule.objects.select_related("operation__project")
        .filter(operation_id=run.operation_id)
        .first()
    )
    if rule is None or not _wanted(rule, run.status):
        return
    to = recipients(rule)
    if not to:
        return
    from designer.runs.services import run_log

    context = {
        "run": run,
        "project": rule.operation.project,
        "operation": rule.operation,
        "failures": list(run.failures.order_by("index")[:FIRST_FAILURES]),
        "more_failures": max(0, run.failed_records - FIRST_FAILURES),
        "link": absolute_url(reverse("runs:detail", args=[run.project_id, run.pk])),
    }
    try:
        send_templated(template="notifications/mail/run_finished", to=to, context=context)
    except MailError as error:
        run_log(run_id=run.pk, message=f"Notification not sent: {error}", level="warning")
        return
    run_log(run_id=run.pk, message=f"Notification sent to {', '.join(to)}.")
