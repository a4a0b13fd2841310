"""Pure helpers: redaction, backoff, status mapping, URL checks, chunking, pacing."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time

import pytest

from connectors import config as connector_config
from connectors.constant_contact.activities.bulk import (
    RowRef,
    activity_results,
    chunk_ids,
    chunk_rows,
    import_envelope_size,
    match_errors,
)
from connectors.constant_contact.api import conflicting_contact_id, merged_put_body
from connectors.http import (
    ResponseAction,
    RetryPolicy,
    origin,
    resolve_status,
    sample,
    url_allowed,
)
from connectors.quota import DailyQuota, QuotaExhausted
from connectors.ratelimit import LocalTokenBucket, Pace, WindowLimiter, shared_limiter
from connectors.redaction import REDACTED, redact
from connectors.sharedstate import (
    GRANTED,
    POLL_SECONDS,
    RedisStore,
    SqliteStore,
    StoreUnavailable,
    decide,
)
from tests.connectors.constant_contact.conftest import free_port


def test_redact_masks_secret_names_at_any_depth_and_known_values_in_text() -> None:
    body = {
        "access_token": "at-123456",
        "Authorization": "Bearer at-123456",
        "nested": [{"client_secret": "s3cr3t", "refresh_token": "rt-999999"}],
        "password": "hunter2",
        "note": "echo of at-123456 in text",
        "email_address": {"address": "a@example.com"},
        "code_verifier": "v" * 43,
    }
    safe = redact(body, ("at-123456",))
    assert safe["access_token"] == REDACTED
    assert safe["Authorization"] == REDACTED
    assert safe["nested"][0] == {"client_secret": REDACTED, "refresh_token": REDACTED}
    assert safe["password"] == REDACTED
    assert safe["note"] == f"echo of {REDACTED} in text"
    assert safe["email_address"] == {"address": "a@example.com"}
    assert safe["code_verifier"] == REDACTED
    assert body["access_token"] == "at-123456"  # the original is untouched


def test_backoff_grows_exponentially_with_jitter_and_respects_both_limits() -> None:
    policy = RetryPolicy(max_tries=6, base_delay=1.0, max_delay=8.0, max_total_wait=100.0)
    waits = policy.schedule(random.Random(7))
    assert len(waits) == 5  # tries - 1
    for retry, wait in enumerate(waits, start=1):
        step = min(8.0, 2 ** (retry - 1))
        assert step / 2 <= wait <= step
    assert len({round(w, 6) for w in policy.schedule(random.Random(8))} - set(waits)) > 0
    short = RetryPolicy(max_tries=10, base_delay=1.0, max_delay=8.0, max_total_wait=5.0)
    assert sum(short.schedule(random.Random(1))) <= 5.0
    assert len(short.schedule(random.Random(1))) < 9


@pytest.mark.parametrize(
    ("status", "action", "permanent"),
    [
        (200, ResponseAction.SUCCESS, False),
        (401, ResponseAction.REFRESH_AND_RETRY, True),
        (400, ResponseAction.FAIL, True),
        (404, ResponseAction.FAIL, True),
        (409, ResponseAction.FAIL, True),
        (429, ResponseAction.RETRY, False),
        (500, ResponseAction.RETRY, False),
        (503, ResponseAction.RETRY, False),
        (599, ResponseAction.RETRY, False),
        (418, ResponseAction.FAIL, True),
    ],
)
def test_status_mapping(status: int, action: ResponseAction, permanent: bool) -> None:
    resolution = resolve_status(status)
    assert resolution.action is action
    assert resolution.permanent is permanent


def test_origins_and_allow_list() -> None:
    assert origin("HTTPS://Api.CC.email:443/v3/contacts") == "https://api.cc.email"
    assert origin("http://127.0.0.1:8123/v3") == "http://127.0.0.1:8123"
    assert origin("ftp://example.com") == ""
    assert origin("https://user:pw@api.cc.email/v3") == ""  # credentials smuggling
    allowed = ("https://api.cc.email", "http://127.0.0.1:8123/")
    assert url_allowed("https://api.cc.email/v3", allowed)
    assert url_allowed("http://127.0.0.1:8123/anything", allowed)
    assert not url_allowed("http://127.0.0.1:8124/v3", allowed)
    assert not url_allowed("https://api.cc.email.evil.test/v3", allowed)
    assert not url_allowed("http://api.cc.email/v3", allowed)  # scheme matters
    assert not url_allowed("http://169.254.169.254/latest/meta-data", allowed)


def test_chunk_rows_splits_by_size_and_by_count() -> None:
    rows = [{"email": f"person{i}@example.com", "first_name": "x" * 40} for i in range(100)]
    list_ids = ["07936f78-662a-11eb-af0a-fa163e56c9b0"]
    row_size = len(json.dumps(rows[0]))
    limit = import_envelope_size(list_ids) + 10 * (row_size + 2)
    chunks = list(chunk_rows(rows, list_ids=list_ids, max_bytes=limit))
    assert [i for c in chunks for i in c] == list(range(100))  # all, in order, once
    for chunk in chunks:
        body = {"import_data": [rows[i] for i in chunk], "list_ids": list_ids}
        assert len(json.dumps(body)) < limit  # the exact bytes that will be sent
        if chunk.stop < 100:  # and as full as the limit allows
            body["import_data"].append(rows[chunk.stop])
            assert len(json.dumps(body)) >= limit
    assert [len(c) for c in chunk_rows(rows, list_ids=list_ids, max_rows=40)] == [40, 40, 20]
    # A row too big on its own gets its own chunk rather than being dropped.
    huge = [{"email": "a@example.com"}, {"email": "b@example.com", "notes": "y" * 500}]
    assert [len(c) for c in chunk_rows(huge, list_ids=list_ids, max_bytes=200)] == [1, 1]
    assert [len(c) for c in chunk_ids(1201)] == [500, 500, 201]


def test_activity_errors_are_matched_to_rows_by_line_email_or_id() -> None:
    rows = [
        RowRef(key="a@example.com", email="a@example.com"),
        RowRef(key="b@example.com", email="b@example.com"),
        RowRef(key="c@example.com", email="c@example.com"),
        RowRef(key="id-4", contact_id="1618ae62-4752-11e9-9c8a-fa163e6b01c1"),
    ]
    errors = [
        "Line 2: invalid email address 'b@example'",
        "C@example.com could not be added",
        "Contact 1618ae62-4752-11e9-9c8a-fa163e6b01c1 not found",
        "Something about nobody",
    ]
    assert match_errors(errors, rows) == {1: errors[0], 2: errors[1], 3: errors[2]}
    results = activity_results(
        {"state": "completed", "activity_errors": errors},
        rows,
        action="imported",
        error_key="import_error",
    )
    assert [r.ok for r in results] == [True, False, False, False]
    failed = activity_results(
        {"state": "failed", "activity_id": "x"}, rows, action="imported", error_key="import_error"
    )
    assert all(not r.ok and r.error_key == "activity_failed" for r in failed)


def test_conflict_message_and_merge_body() -> None:
    cid = "1618ae62-4752-11e9-9c8a-fa163e6b01c1"
    assert conflicting_contact_id(f"Email already exists for contact {cid}") == cid
    assert conflicting_contact_id("Conflict") == ""
    existing = {
        "contact_id": cid,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "created_at": "2020-01-01T00:00:00Z",
        "email_address": {
            "address": "ada@example.com",
            "permission_to_send": "implicit",
            "opt_in_source": "Account",
            "created_at": "2020-01-01T00:00:00Z",
        },
    }
    body = merged_put_body(existing, {"last_name": "King"}, update_source="Account")
    assert body == {
        "first_name": "Ada",
        "last_name": "King",
        "email_address": {"address": "ada@example.com", "permission_to_send": "implicit"},
        "update_source": "Account",
    }


def test_local_bucket_reserves_evenly_spaced_slots() -> None:
    now = [100.0]
    bucket = LocalTokenBucket(rate=4, clock=lambda: now[0])
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]  # no burst
    now[0] += 2.0  # idle: the bucket refills to its capacity of one slot, not more
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.25)


def test_local_bucket_is_thread_safe() -> None:
    bucket = LocalTokenBucket(rate=50)  # one slot every 20 ms
    delays: list[float] = []
    lock = threading.Lock()
    began = time.monotonic()

    def worker() -> None:
        for _ in range(5):
            delay = bucket.acquire()
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    delays.sort()
    assert len(delays) == 20 and delays[0] == 0
    # 20 reservations, each its own slot: the last is 19 slots after the first.
    assert delays[-1] + elapsed >= 19 / 50 - 1e-6
    assert all(b > a for a, b in itertools.pairwise(delays))


def test_redis_window_is_shared_between_limiters(redis_url: str) -> None:
    connector_config.configure(redis_url=redis_url)
    pace = Pace(calls=2, window=0.2, spacing=0.05, hold=5.0)
    try:
        first = shared_limiter("test", "api-key-1", pace=pace)
        second = shared_limiter("test", "api-key-1", pace=pace)
        other_key = shared_limiter("test", "api-key-2", pace=pace)
        assert isinstance(first.store, RedisStore)
        began = time.monotonic()
        starts = []
        for limiter in (first, second, first, second):
            with limiter.slot():
                starts.append(time.monotonic() - began)
        # One window: 2 calls, then the third waits a window after the first's answer.
        assert starts[1] >= 0.05 - 0.01
        assert starts[2] >= starts[0] + 0.2 - 0.01 and starts[3] >= starts[1] + 0.2 - 0.01
        with other_key.slot():  # keyed by API key: no wait
            assert other_key.waited == 0
        assert "api-key-1" not in first.key  # the API key never appears in Redis
    finally:
        connector_config.configure(redis_url="")


def test_redis_outage_falls_back_to_local_pacing() -> None:
    connector_config.configure(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    pace = Pace(calls=1, window=0.1, spacing=0.05, hold=5.0)
    try:
        limiter = shared_limiter("test", "api-key-3", pace=pace)
        began = time.monotonic()
        with limiter.slot():
            pass
        with limiter.slot():
            second = time.monotonic() - began
        assert second >= 0.1 - 0.01  # still paced, in this process
    finally:
        connector_config.configure(redis_url="")


def test_decide_waits_for_the_place_that_frees_first() -> None:
    pace = Pace(calls=2, window=1.0, spacing=0.25, hold=60.0)
    assert decide(10.0, [], 0.0, pace).status == GRANTED
    assert decide(10.0, [10.5], 10.2, pace).wait == pytest.approx(0.2)  # spacing
    # Two places held: answered ones (ends within a window) give an exact wait...
    assert decide(10.0, [10.4, 10.9], 0.0, pace).wait == pytest.approx(0.4)
    # ...a call still in flight (ends at send + hold) can only be polled for.
    assert decide(10.0, [69.0, 70.0], 0.0, pace).wait == POLL_SECONDS


def test_sqlite_store_shares_places_and_counts(tmp_path) -> None:
    pace = Pace(calls=1, window=0.5, spacing=0.0, hold=60.0)
    one, two = SqliteStore(tmp_path / "s.sqlite3"), SqliteStore(tmp_path / "s.sqlite3")
    assert one.acquire("k", "a", pace).status == GRANTED
    assert two.acquire("k", "b", pace).wait == POLL_SECONDS  # "a" is in flight
    one.release("k", "a", pace)
    assert 0.4 < two.acquire("k", "b", pace).wait <= 0.5  # a window after a's answer
    assert two.acquire("other", "c", pace).status == GRANTED
    assert [one.count_call("k", "2026-01-01", 2) for _ in range(3)] == [
        (True, 1),
        (True, 2),
        (False, 2),
    ]
    assert two.calls_on("k", "2026-01-01") == 2 and two.calls_on("k", "2026-01-02") == 0


def test_a_broken_state_file_falls_back_to_pacing_this_process(tmp_path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"s.sqlite3{suffix}").unlink(missing_ok=True)
    (tmp_path / "s.sqlite3").write_bytes(b"not a database" * 100)  # e.g. a bad disk
    limiter = WindowLimiter("k", Pace(calls=1, window=0.1, spacing=0.0, hold=5.0), store)
    quota = DailyQuota("k", 1, store)
    seen: dict[str, object] = {}

    def work() -> None:  # a thread of its own opens the file afresh, as a new worker would
        try:
            seen["direct"] = store.acquire("k", "x", Pace())
        except StoreUnavailable as exc:
            seen["direct"] = exc
        began = time.monotonic()
        with limiter.slot():
            pass
        with limiter.slot():  # still paced, in this process: a window after the first answer
            seen["second_after"] = time.monotonic() - began
        seen["first_call"] = quota.take()  # counted in this process meanwhile
        try:
            quota.take()
        except QuotaExhausted as exc:
            seen["refused"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert isinstance(seen["direct"], StoreUnavailable)
    assert seen["second_after"] >= 0.1 - 0.01
    assert seen["first_call"] == 1 and isinstance(seen["refused"], QuotaExhausted)


def test_debug_samples_cut_long_lists() -> None:
    body = {"import_data": [{"email": f"a{i}@example.com"} for i in range(100)], "list_ids": ["x"]}
    cut = sample(body, max_items=3)
    assert cut["import_data"][:3] == body["import_data"][:3]
    assert cut["import_data"][3] == "... 97 more" and len(cut["import_data"]) == 4
    assert cut["list_ids"] == ["x"]
