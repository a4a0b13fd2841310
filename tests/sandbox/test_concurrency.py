"""Many clients at once: the one lock keeps the store consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api


def test_concurrent_creates_of_the_same_emails_yield_one_contact_each(cc_sandbox: Sandbox) -> None:
    emails = [f"race{i}@example.com" for i in range(20)]

    def worker(_: int) -> list[int]:
        api = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"])
        body = {"create_source": "Account"}
        return [
            api.post("/contacts", json={**body, "email_address": {"address": e}}).status_code
            for e in emails
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for result in pool.map(worker, range(8)) for s in result]
    assert statuses.count(201) == len(emails)
    assert statuses.count(409) == len(emails) * 7
    assert sorted(c["email_address"]["address"] for c in cc_sandbox.contacts) == sorted(emails)


def test_paging_while_another_client_imports(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(1000)
    cc_sandbox.configure(activity_polls=1)
    newsletter = cc_sandbox.list_id("Newsletter")
    rows = [{"email": f"bg{i}@example.com"} for i in range(2000)]

    def importer() -> str:
        other = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"])
        activity = other.post(
            "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [newsletter]}
        ).json()
        return other.get(f"/activities/{activity['activity_id']}").json()["state"]

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(importer)
        seen = api.all_contacts({"limit": 100})
        assert running.result() == "completed"
    ids = [c["contact_id"] for c in seen]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 1000  # every seeded contact; imported ones only if they landed in time
    assert len(cc_sandbox.contacts) == 3000
