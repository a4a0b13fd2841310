"""Fault injection, random errors and latency: what a resilient connector must survive."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID, CC_CLIENT_SECRET
from tests.fixtures.waiting import wait_for
from tests.sandbox.helpers import Api, error_keys


def test_injected_status_answers_the_next_n_calls_then_stops(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(503, count=2)
    first, second, third = (api.get("/account/summary") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert error_keys(first) == ["service_unavailable"]


def test_injection_can_target_a_path_prefix(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(500, count=1, path_prefix="/contacts")
    assert api.get("/account/summary").status_code == 200  # not under the prefix
    assert api.get("/contacts").status_code == 500
    assert api.get("/contacts").status_code == 200


def test_injected_429_looks_like_throttling(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(429, count=1)
    response = api.get("/contacts")
    assert response.status_code == 429
    assert error_keys(response) == ["throttled"]


def test_injected_delay_slows_the_call_but_answers_normally(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(0, count=1, delay=0.3)
    assert len(cc_sandbox.stats()["faults"]) == 1
    started = time.perf_counter()
    response = api.get("/account/summary")
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3  # a lower bound: a loaded machine only adds
    assert cc_sandbox.stats()["faults"] == []  # used up: the next call is not delayed


def test_delay_lets_a_client_timeout_fire(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(0, count=1, delay=0.5)
    try:
        api.session.get(cc_sandbox.api_base_url + "/contacts", timeout=0.1)
    except requests.Timeout:
        pass
    else:
        raise AssertionError("the delayed call should have timed out")


def test_faults_can_hit_the_token_endpoint(cc_sandbox: Sandbox) -> None:
    refresh_token = cc_sandbox.issue_tokens(CC_CLIENT_ID)["refresh_token"]
    cc_sandbox.inject(503, count=1, path_prefix="/oauth2/default/v1/token")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    auth = (CC_CLIENT_ID, CC_CLIENT_SECRET)
    failed = requests.post(cc_sandbox.token_url, data=form, auth=auth, timeout=5)
    assert failed.status_code == 503
    # The refresh token was not consumed by the failed attempt.
    assert requests.post(cc_sandbox.token_url, data=form, auth=auth, timeout=5).status_code == 200


def test_api_faults_do_not_hit_oauth_by_default(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(500, count=1)
    refresh_token = cc_sandbox.issue_tokens(CC_CLIENT_ID)["refresh_token"]
    response = requests.post(
        cc_sandbox.token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(CC_CLIENT_ID, CC_CLIENT_SECRET),
        timeout=5,
    )
    assert response.status_code == 200
    assert api.get("/contacts").status_code == 500


def test_error_rate_is_random_but_reproducible(cc_sandbox: Sandbox, api: Api) -> None:
    def run() -> list[int]:
        cc_sandbox.reset()  # reseeds the RNG
        cc_sandbox.configure(rate_limit=0, error_rate=0.3)
        cc_sandbox.register_app(CC_CLIENT_ID, CC_CLIENT_SECRET)
        session = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"])
        return [session.get("/account/summary").status_code for _ in range(60)]

    first, second = run(), run()
    assert first == second
    failures = [s for s in first if s != 200]
    assert set(failures) <= {500, 503}
    assert 6 <= len(failures) <= 36  # 30% of 60, give or take


def test_latency_knob_adds_to_every_api_call(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.configure(latency=0.15)
    started = time.perf_counter()
    api.get("/account/summary")
    api.get("/contacts")
    assert time.perf_counter() - started >= 0.3


def test_slow_calls_do_not_block_other_clients(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(0, count=1, path_prefix="/contacts", delay=10.0)
    slow = threading.Thread(target=api.session.get, args=(cc_sandbox.api_base_url + "/contacts",))
    slow.start()
    wait_for(lambda: cc_sandbox.stats()["faults"] == [], timeout=10)  # the slow call is waiting
    other = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"])
    assert other.get("/account/summary").status_code == 200
    assert slow.is_alive()  # answered while the slow call still waits: not behind it
    slow.join()


def test_a_call_in_flight_across_a_reset_leaves_no_trace(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(0, count=1, delay=0.4)
    answers: list[int] = []
    late = threading.Thread(
        target=lambda: answers.append(api.get("/contacts").status_code), daemon=True
    )
    late.start()
    wait_for(lambda: cc_sandbox.stats()["faults"] == [], timeout=10)  # the call is waiting
    cc_sandbox.reset()  # the next test starts here
    late.join()
    assert answers == [503]
    assert cc_sandbox.requests == []


def _post_contact(api: Api, address: str) -> requests.Response:
    body = {"email_address": {"address": address}, "create_source": "Account"}
    return api.post("/contacts", json=body)


def test_a_fault_before_the_state_change_leaves_nothing_done(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.inject(503, count=1, path_prefix="/contacts", when="before")
    assert _post_contact(api, "before@example.com").status_code == 503
    assert cc_sandbox.contact_by_email("before@example.com") is None
    assert [r.fault for r in cc_sandbox.api_requests()] == ["before"]


def test_a_fault_after_the_state_change_loses_only_the_answer(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.inject(504, count=1, path_prefix="/contacts", when="after")
    lost = _post_contact(api, "after@example.com")
    assert lost.status_code == 504
    assert error_keys(lost) == ["gateway_timeout"] and "contact_id" not in lost.text
    assert cc_sandbox.contact_by_email("after@example.com") is not None  # it was created
    retried = _post_contact(api, "after@example.com")
    assert retried.status_code == 409 and "Email already exists" in retried.text
    assert [r.fault for r in cc_sandbox.api_requests()] == ["after", ""]


def test_fault_timing_over_the_control_api(cc_sandbox: Sandbox, api: Api) -> None:
    answer = requests.post(
        cc_sandbox.url + "/_sandbox/faults",
        json={"status": 500, "path_prefix": "/contacts", "when": "after"},
        timeout=5,
    )
    assert answer.status_code == 201 and answer.json()["faults"][0]["when"] == "after"
    refused = requests.post(
        cc_sandbox.url + "/_sandbox/faults", json={"status": 500, "when": "later"}, timeout=5
    )
    assert refused.status_code == 400 and "before" in refused.json()["error"]
    assert _post_contact(api, "viahttp@example.com").status_code == 500
    assert cc_sandbox.contact_by_email("viahttp@example.com") is not None


def test_random_errors_split_before_and_after_the_state_change(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.configure(error_rate=0.5, error_after_share=0.5)
    statuses = [_post_contact(api, f"r{i}@example.com").status_code for i in range(60)]
    logged = cc_sandbox.api_requests()
    faults = [r.fault for r in logged]
    assert faults.count("before") >= 5 and faults.count("after") >= 5
    assert sum(1 for s in statuses if s in (500, 503)) == faults.count("before") + faults.count(
        "after"
    )
    for entry in logged:
        created = cc_sandbox.contact_by_email(entry.json["email_address"]["address"])
        # Answered 201, or failed after the change: the contact exists; failed before: it does not.
        assert (created is not None) == (entry.fault != "before"), entry


def test_a_dropped_connection_before_or_after_the_state_change(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.inject(0, count=1, path_prefix="/contacts", when="before", drop=True)
    with pytest.raises(requests.ConnectionError):
        _post_contact(api, "dropped-before@example.com")
    assert cc_sandbox.contact_by_email("dropped-before@example.com") is None
    cc_sandbox.inject(0, count=1, path_prefix="/contacts", when="after", drop=True)
    with pytest.raises(requests.ConnectionError):
        _post_contact(api, "dropped-after@example.com")
    assert cc_sandbox.contact_by_email("dropped-after@example.com") is not None
    assert [(r.status, r.fault) for r in cc_sandbox.api_requests()] == [
        (0, "before"),
        (0, "after"),
    ]
    assert _post_contact(api, "fine@example.com").status_code == 201  # a new connection
