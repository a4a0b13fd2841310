"""A bulk import on a real worker: one bad row fails alone (issue 17.3).

The sandbox is strict (``strict_import``): one bad row refuses the whole import with a 400
that names no row, as the acceptance run's Constant Contact did. Rows with a column the
import does not have are failed before sending; rows only Constant Contact can judge (an
unknown custom field) are isolated by halving the refused chunk. The far side is read back
over HTTP.
"""

from __future__ import annotations

import pytest
import requests

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.reliability.conftest import log_of
from tests.runs.conftest import wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

COUNT = 60
UNKNOWN_COLUMN = (7, 31)
UNKNOWN_CUSTOM_FIELD = (12, 45)


def test_bad_rows_of_a_bulk_import_fail_alone_on_a_worker(cc_operation, cc_sandbox, project):
    cc_sandbox.configure(strict_import=True, activity_seconds=0.1, activity_polls=1)
    operation = cc_operation(count=COUNT, page=COUNT)
    transformation = operation.transformation
    transformation.mapping = [
        {"target": "email", "kind": "path", "value": "email"},
        {"target": "first_name", "kind": "path", "value": "name"},
        {
            "target": "favourite_colour",
            "kind": "expression",
            "value": f"'teal' if id in {list(UNKNOWN_COLUMN)} else ''",
        },
        {
            "target": "cf:nosuch",
            "kind": "expression",
            "value": f"'x' if id in {list(UNKNOWN_CUSTOM_FIELD)} else ''",
        },
    ]
    transformation.save()
    target = operation.target
    target.config = {
        "mode": "bulk",
        "create_source": "Account",
        "list_ids": [cc_sandbox.list_id("Customers")],
    }
    target.save()

    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=240)

    failures = dict(run.failures.values_list("key", "error_key"))
    assert run.status == RunStatus.WARNING, (run.message, failures, log_of(run)[-5:])
    bad = {f"r{i}@example.com" for i in (*UNKNOWN_COLUMN, *UNKNOWN_CUSTOM_FIELD)}
    assert set(failures) == bad
    assert {failures[f"r{i}@example.com"] for i in UNKNOWN_COLUMN} == {"validation"}
    answer = requests.get(cc_sandbox.url + "/_sandbox/contacts", timeout=10)
    held = {c["email_address"]["address"] for c in answer.json()["contacts"]}
    assert held == {f"r{i}@example.com" for i in range(COUNT)} - bad
    assert (run.target_records, run.failed_records) == (COUNT - 4, 4)
    log = log_of(run)
    assert any("refused" in line and "extra requests" in line for line in log), log[-10:]
    assert any("extra requests." in line for line in log), log[-10:]
