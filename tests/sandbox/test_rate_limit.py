"""Throttling per API key: 4 requests/s with a burst of 4 (or strictly, on a sliding
second), the daily quota, and what the sandbox measured of it.

The sandbox's clock is frozen and moved on by the tests (``cc_sandbox.clock``): the verdicts
don't depend on how fast a loaded machine sends the calls."""

from __future__ import annotations

import requests

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api, error_keys


def test_a_burst_above_4_per_second_is_throttled(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(rate_limit=4)
    statuses = [api.get("/account/summary").status_code for _ in range(10)]
    assert statuses == [200] * 4 + [429] * 6
    throttled = api.get("/account/summary")
    assert throttled.status_code == 429
    assert error_keys(throttled) == ["throttled"]


def test_4_per_second_evenly_spaced_is_never_throttled(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(rate_limit=4)
    statuses = []
    for _ in range(12):
        statuses.append(api.get("/account/summary").status_code)
        cc_sandbox.clock.advance(0.25)
    assert statuses == [200] * 12


def test_the_bucket_refills(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(rate_limit=4)
    while api.get("/account/summary").status_code != 429:
        pass
    cc_sandbox.clock.advance(0.2)
    assert api.get("/account/summary").status_code == 429  # not quite a token yet
    cc_sandbox.clock.advance(0.06)  # one token back after 0.25 s
    assert api.get("/account/summary").status_code == 200
    assert api.get("/account/summary").status_code == 429


def test_limits_are_per_api_key(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()  # no refill mid-test
    cc_sandbox.configure(rate_limit=4)
    cc_sandbox.register_app("other-client", "other-secret")
    other = Api(cc_sandbox, cc_sandbox.issue_tokens("other-client")["access_token"])
    while api.get("/account/summary").status_code != 429:
        pass
    assert other.get("/account/summary").status_code == 200
    # A second token of the same app shares the first one's bucket.
    same_app = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"])
    assert same_app.get("/account/summary").status_code == 429


def test_daily_quota_answers_quota_exceeded(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.configure(daily_quota=3)
    assert [api.get("/account/summary").status_code for _ in range(3)] == [200] * 3
    exhausted = api.get("/account/summary")
    assert exhausted.status_code == 429
    assert error_keys(exhausted) == ["quota_exceeded"]


def test_rate_limit_zero_disables_throttling(cc_sandbox: Sandbox, api: Api) -> None:
    assert cc_sandbox.knobs["rate_limit"] == 0  # the fixture's default
    assert all(api.get("/account/summary").status_code == 200 for _ in range(20))


def _measured(cc_sandbox: Sandbox) -> dict:
    """The sandbox's own figures, over its HTTP control API as other processes read them."""
    answer = requests.get(cc_sandbox.url + "/_sandbox/rate", timeout=10)
    assert answer.status_code == 200
    return answer.json()["keys"][CC_CLIENT_ID]


def test_the_strict_sliding_window_refuses_what_a_bucket_lets_through(
    cc_sandbox: Sandbox, api: Api
) -> None:
    """4 at once, then a fifth 0.3 s later: a refilled bucket token lets it in, but that
    second already saw 4 calls (the strict reading of "4 per second")."""
    for sliding, expected in ((False, 200), (True, 429)):
        cc_sandbox.reset()
        cc_sandbox.clock.freeze()
        cc_sandbox.configure(rate_limit=4, sliding_window=sliding)
        cc_sandbox.register_app(CC_CLIENT_ID, "test-secret")
        api.session.headers["Authorization"] = (
            "Bearer " + cc_sandbox.issue_tokens(CC_CLIENT_ID)["access_token"]
        )
        assert [api.get("/account/summary").status_code for _ in range(4)] == [200] * 4
        cc_sandbox.clock.advance(0.3)
        assert api.get("/account/summary").status_code == expected, sliding


def test_rate_measures_calls_the_busiest_second_and_429s(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    statuses = [api.get("/account/summary").status_code for _ in range(6)]
    assert statuses == [200] * 4 + [429] * 2
    measured = _measured(cc_sandbox)
    assert measured["calls"] == 6
    assert measured["http_429"] == measured["throttled"] == 2
    assert measured["max_in_any_second"] == 6  # every arrival counts, refused or not
    assert cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID] == measured
    cc_sandbox.clock.advance(1.05)
    assert api.get("/account/summary").status_code == 200  # the window slid on


def test_rate_measures_quota_refusals_and_resets(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.configure(daily_quota=2)
    assert [api.get("/account/summary").status_code for _ in range(3)] == [200, 200, 429]
    measured = _measured(cc_sandbox)
    assert (measured["calls"], measured["quota_exceeded"], measured["http_429"]) == (3, 1, 1)
    cc_sandbox.reset()
    assert requests.get(cc_sandbox.url + "/_sandbox/rate", timeout=10).json()["keys"] == {}
