"""Script and condition steps: statements, filtering, variables, bounds and clear errors."""

from __future__ import annotations

import time

import pytest

from designer.transformations.scripts import (
    MAX_STATEMENTS,
    ScriptError,
    compile_condition,
    compile_script,
)

SCRIPT = """
# tidy the address, drop the ones without one
email = email | trim | lower
skip if not email
address.city = record["Town"] ~ "#1"   # a '#' in a string is not a comment
del Town
$last_email = email
"""


def test_a_script_changes_fields_filters_and_sets_variables():
    script = compile_script(SCRIPT)
    result = script.run({"email": "  ANN@Example.COM ", "Town": "Delft"})
    assert result.record == {"email": "ann@example.com", "address": {"city": "Delft#1"}}
    assert result.variables == {"last_email": "ann@example.com"}
    dropped = script.run({"email": "   ", "Town": "Delft"})
    assert dropped.record is None
    keep = compile_script("keep if country == 'NL'")
    assert keep.run({"country": "BE"}).record is None
    assert keep.run({"country": "NL"}).record == {"country": "NL"}


def test_the_input_record_is_not_changed():
    record = {"a": {"b": 1}}
    compile_script("a.b = 2").run(record)
    assert record == {"a": {"b": 1}}


@pytest.mark.parametrize(
    "source, message",
    [
        ("email ==", "line 1: expected"),
        ("x = (", "line 1: syntax error"),
        ("\n\nskip when x", "line 3: expected"),
        ("\n".join(["x = 1"] * (MAX_STATEMENTS + 1)), f"at most {MAX_STATEMENTS} statements"),
    ],
)
def test_a_bad_script_is_refused_with_its_line(source, message):
    with pytest.raises(ScriptError) as refused:
        compile_script(source)
    assert message in refused.value.message


def test_a_slow_or_hostile_line_stops_at_the_expression_bounds(settings):
    settings.EXPRESSION_TIME_LIMIT = 0.3
    script = compile_script("ok = 1\nx = range(100000)" + "|map('abs')" * 40 + "|sum")
    started = time.thread_time()
    with pytest.raises(ScriptError, match=r"line 2: .*took longer than 0.3 s"):
        script.run({})
    assert time.thread_time() - started < 1.0
    with pytest.raises(ScriptError, match=r"line 1: .*not allowed"):
        compile_script("x = 'a' * 100000000").run({})


def test_a_condition_is_a_bounded_truth_test():
    test = compile_condition("amount > 10")
    assert test({"amount": 11}) is True
    assert test({"amount": 3}) is False
    with pytest.raises(ScriptError, match="syntax error"):
        compile_condition("amount >")
    with pytest.raises(ScriptError, match="ZeroDivisionError"):
        compile_condition("amount / 0")({"amount": 1})
    with pytest.raises(ScriptError, match="not allowed"):
        compile_condition("'a' * 100000000")({"amount": 1})
