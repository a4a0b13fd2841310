"""Writers: CSV, JSON array and JSON Lines, one batch at a time, the file valid after each.

A run's first batch replaces the file; later batches append. CSV headers come from the
configured columns or, without them, from the records: a later batch with new fields widens
the header (the file is rewritten once per widening), so no field is dropped. CSV cells that
a spreadsheet would run as a formula get a leading ``'`` unless ``neutralise_formulas`` is off
(see ``tabular``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError, RecordResult, read_error
from connectors.files.paths import check_name
from connectors.files.readers import ENCODINGS
from connectors.files.tabular import FORMULA_STARTS, flatten, spreadsheet_safe

TEMPLATE_FIELDS = {
    "run_id": "the run's id",
    "date": "the run's start date, 2026-11-27",
    "time": "the run's start time, 093000 (UTC)",
    "timestamp": "date and time, 20261127T093000Z",
}
WRITE_ENCODINGS = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "latin-1": "latin-1"}
_JSON_TAIL = b"\n]\n"
_JSON_EMPTY = b"[\n]\n"


def template_problem(template: str) -> str:
    """Why a file name template is unusable, or ""."""
    try:
        parsed = list(string.Formatter().parse(template or ""))
    except ValueError as exc:
        return f"The file name template is not valid: {exc}."
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or spec or conversion:
            allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            return f"{{{field}}} is not a template field; use {allowed}."
    return ""


def render_name(template: str, *, run_id: str, started_at: str) -> str:
    problem = template_problem(template)
    if problem:
        raise ConnectorError(problem, permanent=True, key="file_name")
    try:
        when = datetime.fromisoformat(started_at) if started_at else datetime.now(UTC)
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    name = template.format(
        run_id=run_id or "test",
        date=when.strftime("%Y-%m-%d"),
        time=when.strftime("%H%M%S"),
        timestamp=when.strftime("%Y%m%dT%H%M%SZ"),
    )
    return check_name(name)


class FileWriter:
    def __init__(
        self,
        path: Path,
        fmt: str,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        columns: Sequence[str] = (),
        max_bytes: int,
        neutralise_formulas: bool = True,
        room: int | None = None,
        over_room: str = "",
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.delimiter = delimiter
        self.codec = WRITE_ENCODINGS.get(encoding, encoding)
        self.columns = list(columns)
        self.max_bytes = max_bytes
        self.neutralise_formulas = neutralise_formulas
        # Bytes this batch may add before the project's Files quota (None: no quota), and
        # the message for a record that would not fit.
        self.room = room
        self.over_room = over_room

    def _safe(self, value: Any) -> Any:
        return spreadsheet_safe(value) if self.neutralise_formulas else value

    # Each writer call handles one batch; ``first`` = the run's first batch (replace the file).
    def write(
        self, batch: Sequence[Mapping[str, Any]], keys: Sequence[str], *, first: bool
    ) -> list[RecordResult]:
        if first and self.path.exists():
            self.path.unlink()
        if self.fmt == "csv":
            return self._write_csv(batch, keys)
        return self._write_json(batch, keys, lines=self.fmt == "jsonl")

    # ------------------------------------------------------------------------------- JSON

    def _write_json(
        self, batch: Sequence[Mapping[str, Any]], keys: Sequence[str], *, lines: bool
    ) -> list[RecordResult]:
        results: list[RecordResult] = []
        parts: list[bytes] = []
        size = self.path.stat().st_size if self.path.exists() else 0
        added = 0
        for record, key in zip(batch, keys, strict=True):
            failure = _unreadable(record, key)
            if failure:
                results.append(failure)
                continue
            data = json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")
            if size + added + len(data) + 2 > self.max_bytes:
                results.append(_too_large(key, self.max_bytes))
                continue
            if self.room is not None and added + len(data) + 2 > self.room:
                results.append(self._over_quota(key))
                continue
            parts.append(data)
            added += len(data) + 2
            results.append(self._done(key, len(parts)))
        if lines:
            with open(self.path, "ab") as handle:
                handle.writelines(part + b"\n" for part in parts)
        else:
            self._append_array(parts)
        return results

    def _append_array(self, parts: list[bytes]) -> None:
        body = b",\n".join(parts)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.write_bytes(b"[\n" + body + _JSON_TAIL if parts else _JSON_EMPTY)
            return
        if not parts:
            return
        with open(self.path, "r+b") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            empty = end == len(_JSON_EMPTY)
            handle.seek(end - len(_JSON_TAIL))
            if handle.read(len(_JSON_TAIL)) != _JSON_TAIL:
                raise ConnectorError(
                    f"{self.path.name} was changed during the run; it no longer ends its array.",
                    permanent=True,
                    key="file",
                )
            handle.seek(end - len(_JSON_TAIL) + (1 if empty else 0))
            handle.write((b"" if empty else b",\n") + body + _JSON_TAIL)
            handle.truncate()

    # -------------------------------------------------------------------------------- CSV

    def _write_csv(
        self, batch: Sequence[Mapping[str, Any]], keys: Sequence[str]
    ) -> list[RecordResult]:
        rows: list[tuple[str, dict[str, Any] | None, RecordResult | None]] = []
        for record, key in zip(batch, keys, strict=True):
            failure = _unreadable(record, key)
            rows.append((key, None if failure else flatten(record), failure))
        header = self._current_header()
        if self.columns:
            wanted = self.columns
        else:
            wanted = list(header)
            for _key, flat, _failure in rows:
                for name in flat or ():
                    if name not in wanted:
                        wanted.append(name)
        if header and wanted != header:
            self._widen(header, wanted)
        size = self.path.stat().st_size if self.path.exists() else 0
        start_size = size
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\r\n")
        chunks: list[bytes] = []
        if size == 0:
            writer.writerow([self._safe(name) for name in wanted])
            bom = "\ufeff".encode() if self.codec == "utf-8-sig" else b""
            try:
                chunks.append(bom + self._encode(out.getvalue()))
            except UnicodeEncodeError:
                raise ConnectorError(
                    f"The column names can't be written in {self.codec}: {', '.join(wanted)}.",
                    permanent=True,
                    key="encoding",
                ) from None
            size += len(chunks[0])
        results: list[RecordResult] = []
        written = 0
        for key, flat, failure in rows:
            if failure is not None:
                results.append(failure)
                continue
            assert flat is not None
            out.seek(0)
            out.truncate()
            writer.writerow([self._safe(flat.get(name, "")) for name in wanted])
            try:
                data = self._encode(out.getvalue())
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start : exc.end]
                results.append(
                    RecordResult.failed(
                        key=key,
                        error_key="encoding",
                        error_message=f"{bad!r} can't be written in {self.codec}.",
                    )
                )
                continue
            if size + len(data) > self.max_bytes:
                results.append(_too_large(key, self.max_bytes))
                continue
            if self.room is not None and size - start_size + len(data) > self.room:
                results.append(self._over_quota(key))
                continue
            chunks.append(data)
            size += len(data)
            written += 1
            results.append(self._done(key, written))
        with open(self.path, "ab") as handle:
            handle.writelines(chunks)
        return results

    def _encode(self, text: str) -> bytes:
        # "utf-8-sig" would put a BOM on every row: write it once, with the header.
        return text.encode("utf-8" if self.codec == "utf-8-sig" else self.codec)

    def _current_header(self) -> list[str]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return []
        codec = "utf-8-sig" if self.codec.startswith("utf-8") else self.codec
        with open(self.path, encoding=codec, newline="") as handle:
            header = next(csv.reader(handle, delimiter=self.delimiter), [])
        return [self._unsafe_name(name) for name in header]

    def _unsafe_name(self, name: str) -> str:
        """A column name as the records have it (the file has it made safe)."""
        if self.neutralise_formulas and name[:1] == "'" and name[1:].startswith(FORMULA_STARTS):
            return name[1:]
        return name

    def _widen(self, header: list[str], wanted: list[str]) -> None:
        """Rewrite the file under a wider header; existing rows get empty new cells."""
        codec = "utf-8-sig" if self.codec.startswith("utf-8") else self.codec
        tmp = self.path.with_name(f".{self.path.name}.widen")
        with (
            open(self.path, encoding=codec, newline="") as src,
            open(tmp, "w", encoding=self.codec, newline="") as dst,
        ):
            reader = csv.reader(src, delimiter=self.delimiter)
            next(reader, None)
            writer = csv.writer(dst, delimiter=self.delimiter, lineterminator="\r\n")
            writer.writerow([self._safe(name) for name in wanted])
            positions = [header.index(name) if name in header else -1 for name in wanted]
            for row in reader:
                writer.writerow([row[i] if 0 <= i < len(row) else "" for i in positions])
        os.replace(tmp, self.path)

    def _over_quota(self, key: str) -> RecordResult:
        return RecordResult.failed(key=key, error_key="files_quota", error_message=self.over_room)

    def _done(self, key: str, number: int) -> RecordResult:
        return RecordResult.done(key=key, external_id=self.path.name, action="written")


def _unreadable(record: Mapping[str, Any], key: str) -> RecordResult | None:
    message = read_error(record)
    if message:
        return RecordResult.failed(key=key, error_key="read_error", error_message=message)
    return None


def _too_large(key: str, limit: int) -> RecordResult:
    return RecordResult.failed(
        key=key,
        error_key="file_too_large",
        error_message=f"The file would grow over its size limit of {limit:,} bytes.",
    )


__all__ = ["ENCODINGS", "TEMPLATE_FIELDS", "FileWriter", "flatten", "render_name"]
