"""Streaming readers: CSV, JSON array and JSON Lines, in batches, in constant memory.

Rows that can't be read become error records (see ``records``) and reading goes on; problems
with the whole file (missing, empty, over a limit, not JSON at all) raise ConnectorError.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from connectors.base import ConnectorError, error_record
from connectors.files.columns import Column, ColumnError, dedupe_header

ENCODINGS = {
    "utf-8": "utf-8-sig",  # with or without a byte order mark
    "latin-1": "latin-1",
    "cp1252": "cp1252",
}
# Bytes that are not valid in the chosen encoding come through as lone surrogates
# (errors="surrogateescape"), so a bad row can be failed alone instead of ending the file.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_CHUNK = 1 << 16
MAX_JSON_ITEM = 16 << 20  # one JSON record may be at most 16 MB
csv.field_size_limit(1 << 20)  # a cell over 1 MB is a broken quote, not data


def file_error(message: str, key: str = "file") -> ConnectorError:
    return ConnectorError(message, permanent=True, key=key)


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int


def check_size(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise file_error(
            f"{path.name} is {size:,} bytes, over the limit of {limits.max_bytes:,} bytes.",
            "file_too_large",
        )


def open_text(path: Path, encoding: str) -> IO[str]:
    return open(
        path, encoding=ENCODINGS.get(encoding, encoding), errors="surrogateescape", newline=""
    )


def _batched(
    records: Iterator[dict[str, Any]], batch_size: int, max_rows: int, name: str
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for count, record in enumerate(records, start=1):
        if count > max_rows:
            raise file_error(
                f"{name} has more than {max_rows:,} rows, the limit; the first {max_rows:,} "
                "were read.",
                "too_many_rows",
            )
        batch.append(record)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------------ CSV


def csv_rows(
    stream: IO[str], name: str, options: CsvOptions, columns: Sequence[Column] = ()
) -> Iterator[dict[str, Any]]:
    """Records of a CSV stream with a header row; bad rows as error records."""
    reader = csv.reader(
        stream, delimiter=options.delimiter, quotechar=options.quotechar or '"', strict=True
    )
    try:
        header_row = next(reader)
    except StopIteration:
        raise file_error(f"{name} is empty: a CSV file needs a header row.", "empty") from None
    except csv.Error as exc:
        raise file_error(f"{name}: the header row can't be read ({exc}).") from None
    if header_row and header_row[0][:2] in ("\udcff\udcfe", "\udcfe\udcff"):
        raise file_error(
            f"{name} is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8.",
            "encoding",
        )
    if _UNDECODABLE.search("".join(header_row)):
        raise file_error(
            f"{name}: the header row is not valid in the chosen encoding; is the file Latin-1?",
            "encoding",
        )
    header = dedupe_header(header_row)
    width = len(header)
    if columns:
        missing = [c.name for c in columns if c.name not in header]
        if missing:
            raise file_error(
                f"{name}: the column(s) {', '.join(missing)} are not in the header row "
                f"({', '.join(header)}).",
                "columns",
            )
        picks = [(header.index(c.name), c) for c in columns]
    typed = bool(columns) and any(c.type != "string" for c in columns)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            where = f"line {start}" if end <= start else f"lines {start}-{end}"
            hint = ""
            if "unexpected end of data" in str(exc):
                hint = f" (a quoted value opened on line {start} is never closed)"
            yield error_record(f"{name} {where}: {exc}{hint}")
            continue
        if not row:
            continue  # blank line
        line = reader.line_num
        if len(row) != width:
            if len(row) == 1 and not row[0].strip():
                continue
            yield error_record(
                f"{name} line {line}: {len(row)} values where the header has {width} columns.",
                options.delimiter.join(row),
            )
            continue
        if _UNDECODABLE.search("".join(row)):
            yield error_record(
                f"{name} line {line}: bytes that are not valid in the chosen encoding "
                "(is the file Latin-1?).",
                options.delimiter.join(row).encode("utf-8", "replace").decode("utf-8"),
            )
            continue
        if not columns:
            yield dict(zip(header, row, strict=True))
        elif not typed:
            yield {c.name: row[i] for i, c in picks}
        else:
            try:
                yield {c.name: c.convert(row[i]) for i, c in picks}
            except ColumnError as exc:
                yield error_record(f"{name} line {line}: {exc}", options.delimiter.join(row))


def csv_header(path: Path, options: CsvOptions) -> list[str]:
    with open_text(path, options.encoding) as stream:
        reader = csv.reader(stream, delimiter=options.delimiter, quotechar=options.quotechar)
        try:
            return dedupe_header(next(reader))
        except StopIteration:
            return []
        except csv.Error as exc:
            raise file_error(f"{path.name}: the header row can't be read ({exc}).") from None


# ------------------------------------------------------------------------------------ JSON


def json_lines_rows(stream: IO[str], name: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        if _UNDECODABLE.search(text):
            yield error_record(
                f"{name} line {number}: bytes that are not valid in the chosen encoding.", text
            )
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield error_record(f"{name} line {number}: not valid JSON ({exc.msg}).", text)
            continue
        if not isinstance(value, dict):
            yield error_record(
                f"{name} line {number}: a JSON object was expected, not {type(value).__name__}.",
                text,
            )
            continue
        yield value


def json_array_rows(stream: IO[str], name: str) -> Iterator[dict[str, Any]]:
    """Items of a top-level JSON array, decoded one at a time from 64 KB chunks."""
    decoder = json.JSONDecoder()
    buffer = ""
    pos = 0
    eof = False
    consumed = 0  # characters before ``buffer``, for error positions

    def fill() -> bool:
        nonlocal buffer, pos, eof, consumed
        if eof:
            return False
        chunk = stream.read(_CHUNK)
        if not chunk:
            eof = True
            return False
        if _UNDECODABLE.search(chunk):
            raise file_error(
                f"{name}: bytes that are not valid in the chosen encoding near character "
                f"{consumed + len(buffer):,}.",
                "encoding",
            )
        consumed += pos
        buffer = buffer[pos:] + chunk
        pos = 0
        return True

    def skip_space() -> bool:
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n\ufeff":
                pos += 1
            if pos < len(buffer):
                return True
            if not fill():
                return False

    if not skip_space():
        raise file_error(f"{name} is empty: a JSON file needs an array of records.", "empty")
    if buffer[pos] != "[":
        raise file_error(f"{name}: a JSON file must hold an array of records ([{{...}}, ...]).")
    pos += 1
    index = 0
    expect_item = True
    while True:
        if not skip_space():
            raise file_error(f"{name}: the JSON array is not closed (the file ends early).")
        char = buffer[pos]
        if char == "]" and (index == 0 or not expect_item):
            return
        if not expect_item:
            if char != ",":
                raise file_error(
                    f"{name}: invalid JSON after record {index} (character {consumed + pos:,}):"
                    " expected “,” or “]”."
                )
            pos += 1
            expect_item = True
            continue
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if len(buffer) - pos <= MAX_JSON_ITEM and fill():
                    continue  # most likely cut at the chunk's end: read on
                if not eof:
                    raise file_error(
                        f"{name}: invalid JSON in record {index + 1} ({exc.msg}), or a record "
                        f"over 16 MB; the {index} records before it were read."
                    ) from None
                raise file_error(
                    f"{name}: invalid JSON in record {index + 1} ({exc.msg}); the {index} "
                    "records before it were read.",
                ) from None
            # A number cut at the chunk boundary decodes "successfully"; read on to be sure.
            if end == len(buffer) and fill():
                continue
            break
        pos = end
        index += 1
        expect_item = False
        if isinstance(value, dict):
            yield value
        else:
            yield error_record(
                f"{name} record {index}: a JSON object was expected, not {type(value).__name__}.",
                json.dumps(value)[:200],
            )


# ------------------------------------------------------------------------------------ files


def format_of(name: str, fmt: str) -> str:
    if fmt and fmt != "auto":
        return fmt
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    return "csv"


def file_rows(
    path: Path, fmt: str, options: CsvOptions, columns: Sequence[Column] = ()
) -> Iterator[dict[str, Any]]:
    fmt = format_of(path.name, fmt)
    with open_text(path, options.encoding) as stream:
        if fmt == "csv":
            yield from csv_rows(stream, path.name, options, columns)
        elif fmt == "jsonl":
            yield from json_lines_rows(stream, path.name)
        elif fmt == "json":
            yield from json_array_rows(stream, path.name)
        else:
            raise file_error(f"Unknown file format {fmt!r}.")


def text_rows(
    text: str, name: str, fmt: str, options: CsvOptions, columns: Sequence[Column] = ()
) -> Iterator[dict[str, Any]]:
    stream = io.StringIO(text)
    if fmt == "json":
        return json_array_rows(stream, name)
    if fmt == "jsonl":
        return json_lines_rows(stream, name)
    return csv_rows(stream, name, options, columns)


def batches(
    rows: Iterator[dict[str, Any]], *, batch_size: int, limits: Limits, name: str
) -> Iterator[list[dict[str, Any]]]:
    return _batched(rows, batch_size, limits.max_rows, name)
