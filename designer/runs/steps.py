"""The engine's pure steps: map a chunk, write a batch, tally the results.

No database and no Django here: the loop (``engine``) wires these to the ledger (``ledger``),
which stores what they produce. Each step is unit-tested on its own (tests/runs/test_steps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ActivityType, ConnectorError, RecordResult
from designer.transformations.mapping import MappingError

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Item:
    """A source record on its way to the target: its offset in the chunk, the source record,
    how a person recognises it, and the record the mapping made of it."""

    offset: int
    record: Any
    key: str
    mapped: dict


@dataclass(frozen=True)
class Failure:
    offset: int  # within the chunk
    key: str
    error_key: str
    error_message: str
    record: Any
    step_id: int | None = None  # the step it failed at (multi-step chains)
    step_name: str = ""
    step_input: Any = None  # the record as it entered that step (a re-run re-enters there)


@dataclass
class Mapped:
    items: list[Item]  # to be written, in chunk order
    failures: list[Failure]  # the mapping refused these


@dataclass
class Written:
    """What a write gave: one result per item (in order), and the error to raise once those
    results are stored, if the target gave up for good (permanent error, a bug)."""

    results: list[RecordResult]
    fatal: BaseException | None = None
    warning: str = ""  # a line for the run log (a transient failure, a short answer)
    warning_level: str = "warning"  # "error" when the connector is at fault


# ---------------------------------------------------------------------------------- chunking
def rechunk(batches: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    """Re-cut a source's pages into batches of the target's size (memory stays one batch)."""
    pending: list[dict] = []
    for batch in batches:
        pending.extend(batch)
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def skip_first(chunks: Iterable[list[dict]], count: int) -> Iterator[tuple[int, list[dict]]]:
    """(position, chunk) after the first ``count`` records (a re-queued run resumes there)."""
    position = 0
    for chunk in chunks:
        if position + len(chunk) <= count:
            position += len(chunk)
            continue
        if position < count:
            chunk = chunk[count - position :]
            position = count
        yield position, chunk
        position += len(chunk)


def batch_size(activity_type: ActivityType, config: Mapping[str, Any]) -> int:
    return max(1, int(activity_type.batch_size(config) or DEFAULT_BATCH_SIZE))


def record_key(activity_type: ActivityType, record: Mapping[str, Any]) -> str:
    try:
        return str(activity_type.record_key(record) or "")[:300]
    except Exception:  # a key is a courtesy for the log; never fail a record over it
        return ""


# ----------------------------------------------------------------------------------- mapping
def map_chunk(
    chunk: Sequence[Any], mapping: Any, key_of: Callable[[Any], str], *, skip: Iterable[int] = ()
) -> Mapped:
    """Apply the mapping to each record; a record the mapping refuses fails alone.
    Offsets in ``skip`` (already done in an earlier attempt) are left out."""
    done = set(skip)
    items: list[Item] = []
    failures: list[Failure] = []
    for offset, record in enumerate(chunk):
        if offset in done:
            continue
        key = key_of(record)
        try:
            mapped = mapping.apply(record)
        except MappingError as exc:
            failures.append(Failure(offset, key, "mapping_error", str(exc), record))
            continue
        items.append(Item(offset, record, key, mapped))
    return Mapped(items, failures)


# ----------------------------------------------------------------------------------- writing
def write_batch(
    write: Callable[[list[dict]], Sequence[RecordResult]], items: Sequence[Item]
) -> Written:
    """Call the target once for these items and return exactly one result per item.

    A transient ConnectorError fails the records the target had not finished (``exc.done``
    keeps those it had); a permanent one or a bug in the target does the same and is handed
    back as ``fatal``, to be raised once the results are stored. A target that answers with
    the wrong number of results gets the missing ones failed (a connector bug, said so)."""
    if not items:
        return Written([])
    batch = [item.mapped for item in items]
    try:
        results = list(write(batch))
    except ConnectorError as exc:
        done = list(exc.done)[: len(items)]
        default_key = "error" if exc.permanent else "transient_error"
        rest = _failed(items[len(done) :], exc.key or default_key, exc.message)
        if exc.permanent:
            return Written(done + rest, fatal=exc)
        return Written(
            done + rest,
            warning=f"Batch of {len(batch)} records failed after retries: {exc.message}",
        )
    except Exception as exc:
        text = f"Internal error in the target: {type(exc).__name__}: {exc}"
        return Written(_failed(items, "internal_error", text), fatal=exc)
    if len(results) == len(items):
        return Written(results)
    warning = (
        f"The target returned {len(results)} results for {len(items)} records "
        "(a connector bug); records without a result are reported as failed."
    )
    results = results[: len(items)]
    results += _failed(
        items[len(results) :], "missing_result", "The target returned no result for this record."
    )
    return Written(results, warning=warning, warning_level="error")


def _failed(items: Sequence[Item], error_key: str, message: str) -> list[RecordResult]:
    return [
        RecordResult.failed(key=item.key, error_key=error_key, error_message=message)
        for item in items
    ]


# ----------------------------------------------------------------------------------- tallying
@dataclass
class Tally:
    """The outcome of one chunk, record by record: each offset counts once, whether its
    result came early (per-record progress) or with the batch. ``take()`` hands over what
    has not been stored yet."""

    done: set[int] = field(default_factory=set)  # offsets with a counted result
    ok: int = 0  # this attempt's count, for the log line
    failed: int = 0
    output: str = ""  # the last external id a "written" result named (a file)
    _new_ok: int = 0
    _new_failures: list[Failure] = field(default_factory=list)

    def add(self, item: Item, result: RecordResult) -> bool:
        """Count this result unless the item already has one; True if counted now."""
        if item.offset in self.done:
            return False
        self.done.add(item.offset)
        if result.ok:
            self.ok += 1
            self._new_ok += 1
            if result.action == "written" and result.external_id:
                self.output = result.external_id
        else:
            self.failed += 1
            self._new_failures.append(
                Failure(
                    item.offset,
                    result.key or item.key,
                    result.error_key,
                    result.error_message,
                    item.record,
                )
            )
        return True

    def add_failures(self, failures: Iterable[Failure]) -> None:
        for failure in failures:
            if failure.offset not in self.done:
                self.done.add(failure.offset)
                self.failed += 1
                self._new_failures.append(failure)

    def add_all(self, items: Sequence[Item], results: Sequence[RecordResult]) -> None:
        for item, result in zip(items, results, strict=True):
            self.add(item, result)

    # ------------------------------------------------------------- multi-step chains
    def fail(self, failure: Failure) -> bool:
        """A record failed at a step: counted once, at the first step it failed at (a
        target's failed response may still flow on, e.g. to an error file)."""
        if failure.offset in self.done:
            return False
        self.done.add(failure.offset)
        self.failed += 1
        self._new_failures.append(failure)
        return True

    def finish(self, offset: int, output: str = "") -> bool:
        """A record reached the end of its chain: done, unless it failed on the way."""
        if offset in self.done:
            return False
        self.done.add(offset)
        self.ok += 1
        self._new_ok += 1
        if output:
            self.output = output
        return True

    def drop(self, offset: int) -> None:
        """A filter or a script left the record out: it has its outcome, with no count."""
        self.done.add(offset)

    @property
    def pending(self) -> bool:
        return bool(self._new_ok or self._new_failures)

    def take(self) -> tuple[int, list[Failure]]:
        """(written, failures) counted since the last take."""
        ok, failures = self._new_ok, self._new_failures
        self._new_ok, self._new_failures = 0, []
        return ok, failures

    def restore(self, ok: int, failures: list[Failure]) -> None:
        """Put back what ``take`` gave when storing it failed (tried again later)."""
        self._new_ok += ok
        self._new_failures = failures + self._new_failures
