"""A tiny connector for engine tests, importable by worker subprocesses (EXTRA_CONNECTORS).

Source ``generate``: ``count`` records {"id", "email", "name"} in pages of ``page``, sleeping
``delay`` seconds before each page. Target ``sink``: writes each record's email to the file
named by the connection's ``ledger`` (so tests can count real side effects across processes);
fails records whose id is a multiple of ``fail_every`` with a Constant-Contact-like 409;
``mode`` = "short" (returns one result too few), "transient" (raises a retryable error),
"reconnect" (raises NeedsReconnect). Both report one HTTP exchange per call.
``per_record``: write (and fsync) one record at a time, ``delay`` seconds each, reporting each
through ``on_result``. When ``resuming``, records already in the ledger are done, not
written again, and the journal's ``first_sent`` (put on a batch's first call) is logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.base import (
    ActivityType,
    Connector,
    ConnectorError,
    HttpExchange,
    NeedsReconnect,
    RecordResult,
    Role,
    RunContext,
)


def _report(context: RunContext, method: str, url: str, body: Any, response: Any) -> None:
    if context.on_http is not None:
        context.on_http(
            HttpExchange(
                method=method,
                url=url,
                status=200,
                duration_ms=1.0,
                request_body=body if context.debug else None,
                response_body=response if context.debug else None,
            )
        )


class Generate(ActivityType):
    key = "generate"
    name = "Generate"
    role = Role.SOURCE

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get("email", ""))

    def estimate_total(self, context: RunContext, config: Mapping[str, Any]) -> int | None:
        return int(config.get("count", 10))

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        count, page = int(config.get("count", 10)), int(config.get("page", 100))
        delay = float(config.get("delay", 0))
        secret = context.connection.secrets().get("api_key", "")
        for start in range(0, count, page):
            if delay:
                time.sleep(delay)
            _report(
                context,
                str(config.get("method", "GET")),  # "POST": a source that starts an export
                f"http://fake.test/records?offset={start}&api_key={secret}",
                None,
                {"token": secret, "note": f"Bearer {secret}", "count": page},
            )
            yield [
                {"id": i, "email": f"r{i}@example.com", "name": f"Record {i}"}
                for i in range(start, min(count, start + page))
            ]
        context.new_state["last_count"] = count


class Sink(ActivityType):
    key = "sink"
    name = "Sink"
    role = Role.TARGET
    preferred_batch_size = 100

    def batch_size(self, config: Mapping[str, Any]) -> int:
        return int(config.get("batch", self.preferred_batch_size))

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        mode = config.get("mode", "")
        if mode == "transient":
            raise ConnectorError(
                "Service unavailable (503) after 3 tries",
                permanent=False,
                key="service_unavailable",
                status=503,
            )
        if mode == "reconnect":
            raise NeedsReconnect("The refresh token was revoked (invalid_grant).")
        delay = float(config.get("delay", 0))
        ledger = context.connection.config.get("ledger")
        already: set[str] = set()
        if context.resuming:
            # What a lost attempt already wrote is read back from the far side (the ledger),
            # as a real target reads back its contacts or polls its import.
            if ledger and os.path.exists(ledger):
                with open(ledger) as handle:
                    already = set(handle.read().splitlines())
            context.log(
                "info",
                f"Resuming {len(batch)} records; journal first_sent="
                f"{context.journal.get('first_sent')}, {len(already & _keys(batch))} "
                "found written.",
            )
        elif context.journal.get("first_sent") is None:
            context.journal.put("first_sent", time.time())
        per_record = bool(config.get("per_record"))
        if delay and not per_record:
            time.sleep(delay)
        fail_every = int(config.get("fail_every", 0))
        results: list[RecordResult] = []
        written: list[str] = []
        for index, record in enumerate(batch):
            key = str(record.get("email", ""))
            if fail_every and int(record.get("id", 1)) % fail_every == 0:
                result = RecordResult.failed(
                    key=key,
                    error_key="contacts.api.conflict",
                    error_message=f"Email already exists for contact {record.get('id')}",
                )
            elif key in already:
                result = RecordResult.done(key=key, action="created")
            else:
                if per_record:
                    if delay:
                        time.sleep(delay)
                    _append(ledger, [key])
                else:
                    written.append(key)
                result = RecordResult.done(key=key, action="created")
            results.append(result)
            if per_record and context.on_result is not None:
                context.on_result(index, result)
        _append(ledger, written)
        _report(context, "POST", "http://fake.test/records", {"count": len(batch)}, {"ok": True})
        if mode == "short":
            return results[:-1]
        return results


def _keys(batch: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(record.get("email", "")) for record in batch}


def _append(ledger: str | None, keys: list[str]) -> None:
    if ledger and keys:
        with open(ledger, "a") as handle:
            handle.write("".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())


class FakeConnector(Connector):
    key = "fake"
    name = "Fake"
    version = os.environ.get("FAKE_CONNECTOR_VERSION", "1.2.0")
    activity_types = {"generate": Generate(), "sink": Sink()}
