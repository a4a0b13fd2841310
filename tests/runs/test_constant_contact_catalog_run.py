"""Issue 14 activities on a real worker process against the Constant Contact sandbox:
Query contacts -> Add contacts to lists, and Query lists -> Delete lists."""

from __future__ import annotations

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import ActivityFactory, OperationFactory, TransformationFactory
from tests.fixtures.sandbox import cc_connection
from tests.runs.conftest import new_queue, wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _operation(project, connection, source, target, mapping):
    return OperationFactory(
        project=project,
        source=ActivityFactory(connection=connection, **source),
        target=ActivityFactory(connection=connection, **target),
        transformation=TransformationFactory(
            project=project,
            mapping=[{"target": t, "kind": "path", "value": s} for t, s in mapping],
        ),
    )


def _succeeded(run) -> None:
    assert run.status == RunStatus.SUCCESS, (
        run.message,
        list(run.log_lines.values_list("message", flat=True)),
    )


def test_list_memberships_and_list_deletes_on_a_worker(project, workers, cc_sandbox, cc_tokens):
    cc_sandbox.configure(activity_seconds=0.2, activity_polls=2)
    cc_sandbox.seed_contacts(30, lists=["Customers"])
    events = cc_sandbox.list_id("Events")
    queue = new_queue()
    project.agent_group = queue
    project.save()
    connection = cc_connection(project, cc_sandbox, cc_tokens)
    add = _operation(
        project,
        connection,
        {"activity_type": "query", "config": {}},
        {"activity_type": "lists_add_contacts", "config": {"list_ids": [events]}},
        [("contact_id", "contact_id")],
    )
    delete = _operation(
        project,
        connection,
        {"activity_type": "lists_query", "config": {"name": "Prospects"}},
        {"activity_type": "lists_delete", "config": {}},
        [("list_id", "list_id")],
    )
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})

    run = wait_final(run_start(operation=add, trigger=RunTrigger.MANUAL), timeout=90)
    _succeeded(run)
    assert (run.source_records, run.target_records, run.failed_records) == (30, 30, 0)
    assert all(events in c["list_memberships"] for c in cc_sandbox.contacts)
    posts = [r for r in cc_sandbox.api_requests() if r.path.endswith("/add_list_memberships")]
    assert len(posts) == 1  # 30 contacts, one request

    run = wait_final(run_start(operation=delete, trigger=RunTrigger.MANUAL), timeout=90)
    _succeeded(run)
    assert (run.source_records, run.target_records) == (1, 1)
    assert "Prospects" not in {x["name"] for x in cc_sandbox.lists if not x.get("deleted_at")}


def test_export_mode_query_to_add_tags_on_a_worker(project, workers, cc_sandbox, cc_tokens):
    cc_sandbox.configure(activity_seconds=0.2, activity_polls=2)
    cc_sandbox.seed_contacts(25, lists=["Customers"])
    gold = cc_sandbox.service.catalog.add_tag("Gold")["tag_id"]
    queue = new_queue()
    project.agent_group = queue
    project.save()
    connection = cc_connection(project, cc_sandbox, cc_tokens)
    operation = _operation(
        project,
        connection,
        {"activity_type": "query", "config": {"mode": "export"}},
        {"activity_type": "tags_add_contacts", "config": {"tag_ids": [gold]}},
        [("contact_id", "contact_id")],
    )
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=90)
    _succeeded(run)
    assert (run.source_records, run.target_records, run.failed_records) == (25, 25, 0)
    assert all(gold in c["taggings"] for c in cc_sandbox.contacts)
    paths = [r.path for r in cc_sandbox.api_requests()]
    assert "/v3/activities/contact_exports" in paths
    assert sum(p.endswith("/contacts_taggings_add") for p in paths) == 1
