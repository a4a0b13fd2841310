"""The engine's pure steps, without a database: map a chunk, write a batch, tally."""

from __future__ import annotations

from connectors.base import ConnectorError, RecordResult
from designer.runs import steps
from designer.transformations.mapping import MappingError


class Mapping:
    """Upper-cases ``email``; refuses records without one."""

    def apply(self, record):
        if "email" not in record:
            raise MappingError("email", "no email")
        return {"email": record["email"].upper()}


def key_of(record) -> str:
    return record.get("email", "?")


CHUNK = [{"email": "a"}, {"name": "no email"}, {"email": "c"}, {"email": "d"}]


def test_map_chunk_fails_refused_records_alone_and_skips_done_ones():
    mapped = steps.map_chunk(CHUNK, Mapping(), key_of)
    assert [(i.offset, i.mapped) for i in mapped.items] == [
        (0, {"email": "A"}),
        (2, {"email": "C"}),
        (3, {"email": "D"}),
    ]
    assert [(f.offset, f.error_key) for f in mapped.failures] == [(1, "mapping_error")]
    resumed = steps.map_chunk(CHUNK, Mapping(), key_of, skip={0, 1})
    assert [i.offset for i in resumed.items] == [2, 3] and resumed.failures == []


def test_write_batch_gives_one_result_per_item():
    items = steps.map_chunk(CHUNK, Mapping(), key_of).items
    written = steps.write_batch(
        lambda batch: [RecordResult.done(key=r["email"]) for r in batch], items
    )
    assert [r.key for r in written.results] == ["A", "C", "D"]
    assert written.fatal is None and written.warning == ""


def test_write_batch_fills_a_short_answer_and_says_so():
    items = steps.map_chunk(CHUNK, Mapping(), key_of).items
    written = steps.write_batch(lambda batch: [RecordResult.done()], items)
    assert [r.error_key for r in written.results] == ["", "missing_result", "missing_result"]
    assert written.warning_level == "error" and "returned 1 results for 3" in written.warning


def test_write_batch_keeps_what_was_done_before_a_transient_error():
    items = steps.map_chunk(CHUNK, Mapping(), key_of).items

    def write(batch):
        exc = ConnectorError("503 after 3 tries", permanent=False, key="service_unavailable")
        exc.done = [RecordResult.done(key="A")]
        raise exc

    written = steps.write_batch(write, items)
    assert [(r.ok, r.error_key) for r in written.results] == [
        (True, ""),
        (False, "service_unavailable"),
        (False, "service_unavailable"),
    ]
    assert written.fatal is None and "failed after retries" in written.warning


def test_write_batch_hands_back_a_permanent_error_or_a_bug_as_fatal():
    items = steps.map_chunk(CHUNK, Mapping(), key_of).items

    def refuse(batch):
        raise ConnectorError("Forbidden", permanent=True, key="forbidden")

    written = steps.write_batch(refuse, items)
    assert isinstance(written.fatal, ConnectorError)
    assert {r.error_key for r in written.results} == {"forbidden"}

    def bug(batch):
        raise ZeroDivisionError("oops")

    written = steps.write_batch(bug, items)
    assert isinstance(written.fatal, ZeroDivisionError)
    assert {r.error_key for r in written.results} == {"internal_error"}


def test_tally_counts_each_record_once_whether_early_or_with_the_batch():
    mapped = steps.map_chunk(CHUNK, Mapping(), key_of)
    tally = steps.Tally()
    tally.add_failures(mapped.failures)
    first = mapped.items[0]
    assert tally.add(first, RecordResult.done(key="A"))  # per-record progress
    assert tally.take() == (1, mapped.failures)
    assert not tally.pending
    # The batch's own results arrive later, for every item: A is not counted twice.
    tally.add_all(
        mapped.items,
        [
            RecordResult.done(),
            RecordResult.done(),
            RecordResult.failed(error_key="x", error_message="no"),
        ],
    )
    ok, failures = tally.take()
    assert ok == 1 and [(f.offset, f.key) for f in failures] == [(3, "d")]
    assert tally.done == {0, 1, 2, 3} and (tally.ok, tally.failed) == (2, 2)


def test_tally_restore_gives_back_what_could_not_be_stored():
    item = steps.map_chunk(CHUNK, Mapping(), key_of).items[0]
    tally = steps.Tally()
    tally.add(item, RecordResult.done())
    ok, failures = tally.take()
    tally.restore(ok, failures)
    assert tally.pending and tally.take() == (1, [])


def test_tally_remembers_the_file_a_target_wrote():
    item = steps.map_chunk(CHUNK, Mapping(), key_of).items[0]
    tally = steps.Tally()
    tally.add(item, RecordResult.done(external_id="export-7.csv", action="written"))
    assert tally.output == "export-7.csv"


def test_rechunk_and_skip_first():
    pages = [[1, 2, 3], [4], [5, 6, 7, 8]]
    assert list(steps.rechunk(pages, 3)) == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert list(steps.skip_first(steps.rechunk(pages, 3), 4)) == [(4, [5, 6]), (6, [7, 8])]
