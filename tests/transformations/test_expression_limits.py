"""Issue 17.8: a user-written expression can't stall the process that evaluates it.

Each hostile expression is refused with a clear message, quickly (measured as this thread's
CPU time, which other engineers' load on the machine does not inflate); a slow one stops at
its deadline; and in a live, threaded server another user's request is answered while one
user's preview is busy.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests
from django.test import Client

from designer.transformations.mapping import MappingError, compile_mapping

HOSTILE = [
    # (expression, what the refusal says)
    ("((9**1000)**1000)**1000", "the number would be too large"),
    ("(['a'*100000]*100000)|join", "the result would be too large"),
    ("('a'*100000)|replace('', 'b'*100000)", "the result would be too large"),
    ("'a'|center(1000000000)", "the result would be too large"),
    ("'%01000000000d'|format(1)", "the result would be too large"),
    ("'{:>1000000000}'.format(1)", "the result would be too large"),
    ("lipsum(100000000)", "the result would be too large"),
    # The same tricks by other roads.
    ("'%01000000000d' % 1", "the result would be too large"),
    ("'%*d' % (1000000000, 1)", "'\\*' width or precision is not allowed"),
    ("'{:>{}}'.format(1, 1000000000)", "the result would be too large"),
    ("'a'.center(1000000000)", "the result would be too large"),
    ("('a'*100000).replace('', 'b'*100000)", "the result would be too large"),
    ("''.join(['a'*100000]*100000)", "the result would be too large"),
    ("'x' ~ (['a'*100000]*100000)", "the result would be too large"),
    ("[[1]]*1000000000", "the result would be too large"),
    ("(9**10000)*(9**10000)*(9**10000)", "the number would be too large"),
    ("'a'|indent(1000000000)", "the result would be too large"),
    ("('a'*100000)|wordwrap(1, wrapstring='b'*100000)", "the result would be too large"),
    ("[1]|batch(1000000000, 'x')|list", "the result would be too large"),
    ("[1]|slice(1000000000)|list", "the result would be too large"),
    ("[1, 2]|tojson(1000000000)", "indent is limited"),
    ("range(100000)|map(attribute='x', default='a'*100000)|join", "too large|took longer"),
    ("range(100000)|map('center', 1000)|join", "builds too much data|took longer"),
    ("(1).to_bytes(1000000000)", "unsafe"),
    ("'a\tb'.expandtabs(1000000000)", "unsafe"),
    ("('a'*100000).translate({97: 'b'*100000})", "unsafe"),
]
# Small but slow: many cheap steps, each within every size limit; only the deadline stops it.
SLOW = "range(100000)" + "|map('abs')" * 40 + "|sum"
SLOW_LIST_SUM = "(('a'*100000)|list|map('list')|sum(start=[]))|length"


def _apply(source: str, record: dict | None = None) -> dict:
    return compile_mapping([{"target": "t", "kind": "expression", "value": source}]).apply(
        record or {}
    )


@pytest.mark.parametrize(("source", "message"), HOSTILE, ids=[s for s, _ in HOSTILE])
def test_hostile_expressions_are_refused_at_once_with_a_clear_message(source, message):
    started = time.thread_time()
    with pytest.raises(MappingError) as info:
        _apply(source)
    assert time.thread_time() - started < 1.0
    assert info.value.target == "t"
    assert "not allowed" in info.value.message and re.search(message, info.value.message)


@pytest.mark.parametrize("source", [SLOW, SLOW_LIST_SUM])
def test_a_slow_expression_stops_at_its_deadline(source, settings):
    settings.EXPRESSION_TIME_LIMIT = 0.3
    started = time.thread_time()
    with pytest.raises(MappingError, match=r"not allowed: the expression took longer than 0.3 s"):
        _apply(source)
    assert time.thread_time() - started < 1.0


def test_with_several_expressions_the_slow_one_is_named(settings):
    settings.EXPRESSION_TIME_LIMIT = 0.3
    rules = [
        {"target": "a", "kind": "expression", "value": "first | upper"},
        {"target": "b", "kind": "expression", "value": SLOW},
    ]
    with pytest.raises(MappingError) as info:
        compile_mapping(rules).apply({"first": "ann"})
    assert info.value.target == "b" and "took longer" in info.value.message


def test_ordinary_expressions_still_work():
    record = {"first": "Ann", "last": "Lee", "n": "7", "tags": "a;b"}
    for source, expected in (
        ("first ~ ' ' ~ last", "Ann Lee"),
        ("'%s-%03d' % (first, n|int)", "Ann-007"),
        ("'{} {}'.format(first, last)", "Ann Lee"),
        ("'{:>5}'.format(n)", "    7"),
        ("(first * 3)|center(11)", " AnnAnnAnn "),
        ("last.replace('e', 'ee')", "Leeee"),
        ("tags|split(';')|join(', ')", "a, b"),
        ("2 ** 10 * 3", 3072),
        ("range(5)|sum", 10),
        ("[[1], [2]]|sum(start=[])", [1, 2]),
        ("(lipsum(1, false)|length) > 10", True),
        ("first.rjust(5, '*')", "**Ann"),
        ("range(1000)|map('string')|join(',')|length", 3889),
    ):
        assert _apply(source, record) == {"t": expected}, source


def test_a_huge_source_or_nesting_is_a_compile_error_not_a_crash():
    with pytest.raises(MappingError, match="longer than 4,000 characters"):
        _apply("1" + " + 1" * 2000)
    with pytest.raises(MappingError, match=r"nested too deeply|not allowed"):
        _apply("(" * 990 + "1" + ")" * 990)


# ------------------------------------------------------------------ in a live, threaded server
def _session(live_server, user) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


@pytest.mark.django_db(transaction=True)
def test_a_busy_preview_does_not_hold_up_another_users_page(
    live_server, personas, operation, settings
):
    """The editor's preview of slow and hostile expressions runs in one server thread; the
    viewer's pages, asked meanwhile, come back while it is still busy, and the preview answers
    with the refusal."""
    settings.MAPPING_PREVIEW_TIME_LIMIT = 1.0
    base = live_server.url
    project_id, transformation_id = operation.project_id, operation.transformation_id
    editor = _session(live_server, personas["editor"])
    page = editor.get(f"{base}/projects/{project_id}/transformations/{transformation_id}/")
    assert page.status_code == 200
    token = editor.cookies.get("csrftoken")
    viewer = _session(live_server, personas["viewer"])
    preview_url = f"{base}/projects/{project_id}/transformations/{transformation_id}/preview/"

    def preview(source: str) -> tuple[requests.Response, float]:
        rules = [
            {"target": "email_address.address", "kind": "path", "value": "Email"},
            {"target": "first_name", "kind": "expression", "value": source},
        ]
        started = time.monotonic()
        response = editor.post(
            preview_url,
            data=json.dumps({"rules": rules}),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
            timeout=60,
        )
        return response, time.monotonic() - started

    for source, message in [(SLOW, "the expression took longer than"), *HOSTILE[:7]]:
        answer: dict = {}
        worker = threading.Thread(target=lambda s=source, a=answer: a.update(result=preview(s)))
        worker.start()
        other = []
        while worker.is_alive() or not other:
            started = time.monotonic()
            response = viewer.get(f"{base}/projects/{project_id}/", timeout=60)
            other.append((response.status_code, time.monotonic() - started, worker.is_alive()))
        worker.join()
        response, took = answer["result"]
        assert response.status_code == 200, source
        html = response.content.decode()
        assert "not allowed" in html and message in html, (source, html[:2000])
        assert all(status == 200 for status, _, _ in other)
        if source == SLOW:
            # The preview was busy for about a second; the viewer's pages came back meanwhile.
            answered_meanwhile = [seconds for _, seconds, busy in other if busy]
            assert answered_meanwhile, (took, other)
            assert min(answered_meanwhile) < took / 2, (took, other)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("('a'*900000)|list|sort|length", "more than 100,000 items"),
        ("('a '*400000)|urlize|length", "at most 100,000 characters"),
        ("('a '*400000)|title|length", "at most 100,000 characters"),
    ],
)
def test_per_item_and_text_walking_filters_get_bounded_inputs(source, message):
    started = time.thread_time()
    with pytest.raises(MappingError, match=message):
        _apply(source)
    assert time.thread_time() - started < 1.0


def test_any_error_of_an_expression_fails_the_record_not_the_caller():
    with pytest.raises(MappingError, match="AttributeError"):
        _apply("[1]|dictsort")
