"""The Files connector: read and write CSV / JSON / JSON Lines in the connection's folder.

The folder comes from ``ConnectionContext.extras["folder"]`` (the app sets it to
FILES_ROOT/<connection id>); optional extras ``max_file_bytes`` and ``max_rows``
carry the deployment's limits. Activity types:

* ``read`` (source): a file name or wildcard pattern, read in name order, in batches.
* ``write`` (target): a file per run from a name template ({run_id}, {date}, ...).
* ``inline`` (source): a small table typed or pasted into the activity's configuration,
  for quick tries; it needs no file at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from connectors.base import (
    ActivityType,
    CheckOutcome,
    CheckResult,
    Connector,
    ConnectorError,
    Field,
    FieldKind,
    RecordResult,
    Role,
    RunContext,
    read_error,
)
from connectors.files import quota, readers
from connectors.files.columns import (
    ColumnError,
    infer_schema,
    parse_columns,
    schema_of_columns,
)
from connectors.files.paths import UnsafePath, check_name, folder_of, matching_files, safe_path
from connectors.files.readers import CsvOptions, Limits
from connectors.files.writers import TEMPLATE_FIELDS, FileWriter, render_name, template_problem

DEFAULT_MAX_FILE_BYTES = 2 << 30  # 2 GiB
DEFAULT_MAX_ROWS = 10_000_000
# The deployment's limits, set once at start-up by the app (designer.files.apps);
# a connection's extras may still override them.
_limits = {"max_file_bytes": DEFAULT_MAX_FILE_BYTES, "max_rows": DEFAULT_MAX_ROWS}


def configure_limits(*, max_file_bytes: int, max_rows: int) -> None:
    _limits.update(max_file_bytes=int(max_file_bytes), max_rows=int(max_rows))


INLINE_MAX_CHARS = 256 * 1024
INLINE_MAX_ROWS = 1000
SAMPLE_SIZE = 100
REPLACE, APPEND, FAIL = "replace", "append", "fail"

FORMATS = (("csv", "CSV"), ("json", "JSON array"), ("jsonl", "JSON Lines"))
DELIMITERS = ((",", "Comma ,"), (";", "Semicolon ;"), ("\t", "Tab"), ("|", "Pipe |"))
READ_ENCODINGS = (
    ("utf-8", "UTF-8 (with or without BOM)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
    ("cp1252", "Windows-1252"),
)
WRITE_ENCODINGS = (
    ("utf-8", "UTF-8"),
    ("utf-8-bom", "UTF-8 with BOM (for Excel)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
)
DELIMITER_FIELD = Field(
    "delimiter", "Delimiter", FieldKind.CHOICE, default=",", choices=DELIMITERS, advanced=True
)
COLUMNS_HELP = (
    "The file's schema: column names, each optionally typed as name:integer, name:number or "
    "name:boolean. Empty = all columns of the header, as text."
)


def limits_of(context: RunContext, config: Mapping[str, Any]) -> Limits:
    extras = context.connection.extras
    max_rows = int(extras.get("max_rows") or _limits["max_rows"])
    if config.get("max_rows"):
        max_rows = min(max_rows, int(config["max_rows"]))
    return Limits(int(extras.get("max_file_bytes") or _limits["max_file_bytes"]), max_rows)


def csv_options(config: Mapping[str, Any]) -> CsvOptions:
    return CsvOptions(
        delimiter=config.get("delimiter") or ",",
        quotechar=config.get("quote_char") or '"',
        encoding=config.get("encoding") or "utf-8",
    )


def columns_of(config: Mapping[str, Any]):
    try:
        return parse_columns(config.get("columns"))
    except ColumnError as exc:
        raise ConnectorError(f"Columns: {exc}", permanent=True, key="columns") from None


def _common_checks(config: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        parse_columns(config.get("columns"))
    except ColumnError as exc:
        errors["columns"] = str(exc)
    if config.get("delimiter") and config["delimiter"] not in dict(DELIMITERS):
        errors["delimiter"] = "Choose a delimiter from the list."
    quote = config.get("quote_char")
    if quote and len(quote) != 1:
        errors["quote_char"] = "One character."
    return errors


class _FileSource(ActivityType):
    def record_key(self, record: Mapping[str, Any]) -> str:
        # An unreadable row is known by where it is: "contacts.csv line 17".
        problem = read_error(record)
        if problem:
            return problem.partition(":")[0]
        return super().record_key(record)


class ReadFile(_FileSource):
    key = "read"
    name = "Read"
    role = Role.SOURCE
    description = "Reads CSV, JSON or JSON Lines files from the connection's folder."
    config_fields = (
        Field(
            "file_name",
            "File name",
            required=True,
            help="A name in the connection's folder, or a pattern such as contacts-*.csv "
            "(matching files are read in name order).",
            max_length=200,
        ),
        Field(
            "format",
            "Format",
            FieldKind.CHOICE,
            default="auto",
            choices=(("auto", "From the file name (.csv, .json, .jsonl)"), *FORMATS),
        ),
        Field("columns", "Columns", FieldKind.LIST, help=COLUMNS_HELP),
        Field("encoding", "Encoding", FieldKind.CHOICE, default="utf-8", choices=READ_ENCODINGS),
        DELIMITER_FIELD,
        Field("quote_char", "Quote character", default='"', max_length=1, advanced=True),
        Field(
            "batch_size",
            "Batch size",
            FieldKind.INTEGER,
            default=1000,
            min_value=1,
            max_value=50_000,
            advanced=True,
        ),
        Field(
            "max_rows",
            "Row limit",
            FieldKind.INTEGER,
            min_value=1,
            advanced=True,
            help="Stop the run with an error if the file has more rows than this.",
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = _common_checks(config)
        try:
            check_name(config.get("file_name") or "", pattern=True)
        except UnsafePath as exc:
            errors["file_name"] = exc.message
        return errors

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        try:
            columns = parse_columns(config.get("columns"))
        except ColumnError:
            columns = []
        if columns:
            return schema_of_columns(columns)
        # Unknown until the file is looked at: see ``sample_schema``.
        return {"type": "object", "properties": {}, "additionalProperties": True}

    def _files(self, context: RunContext, config: Mapping[str, Any]):
        folder = folder_of(context.connection.extras)
        pattern = config.get("file_name") or ""
        files = matching_files(folder, pattern)
        if not files:
            raise ConnectorError(
                f"No file matches {pattern!r} in this connection's folder.",
                permanent=True,
                key="not_found",
            )
        return files

    def rows(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        limits = limits_of(context, config)
        files = self._files(context, config)
        for path in files:
            readers.check_size(path, limits)
        options = csv_options(config)
        columns = columns_of(config)
        for path in files:
            context.log("info", f"Reading {path.name} ({path.stat().st_size:,} bytes).")
            yield from readers.file_rows(path, config.get("format") or "auto", options, columns)

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        limits = limits_of(context, config)
        size = int(config.get("batch_size") or 1000)
        name = config.get("file_name") or "the file"
        return readers.batches(
            self.rows(context, config), batch_size=size, limits=limits, name=name
        )

    def sample_schema(self, context: RunContext, config: Mapping[str, Any]) -> dict:
        """The schema inferred from the header (CSV) or the first records (JSON)."""
        schema = self.response_schema(config)
        if schema.get("properties"):
            return schema
        files = self._files(context, config)
        path = files[0]
        fmt = readers.format_of(path.name, config.get("format") or "auto")
        if fmt == "csv":
            header = readers.csv_header(path, csv_options(config))
            return {"type": "object", "properties": {h: {"type": "string"} for h in header}}
        sample = []
        with closing(self.rows(context, config)) as rows:  # closes the file when done
            for record in rows:
                sample.append(record)
                if len(sample) >= SAMPLE_SIZE:
                    break
        return infer_schema(sample)


class WriteFile(ActivityType):
    key = "write"
    name = "Write"
    role = Role.TARGET
    description = "Writes the records to a CSV, JSON or JSON Lines file, one file per run."
    preferred_batch_size = 1000
    config_fields = (
        Field(
            "file_name",
            "File name",
            required=True,
            default="contacts-{timestamp}-{run_id}.csv",
            max_length=200,
            help="A template: " + ", ".join(f"{{{k}}} = {v}" for k, v in TEMPLATE_FIELDS.items()),
        ),
        Field("format", "Format", FieldKind.CHOICE, default="csv", choices=FORMATS, required=True),
        Field(
            "columns",
            "Columns",
            FieldKind.LIST,
            help="CSV columns, in order (nested fields as a.b, list items as a.0.b). "
            "Empty = every field of the records.",
        ),
        Field(
            "if_exists",
            "If the file exists",
            FieldKind.CHOICE,
            default=REPLACE,
            choices=(
                (REPLACE, "Replace it"),
                (APPEND, "Append to it"),
                (FAIL, "Fail the run"),
            ),
            help="When a run starts writing; later batches of the same run always append.",
        ),
        Field("encoding", "Encoding", FieldKind.CHOICE, default="utf-8", choices=WRITE_ENCODINGS),
        DELIMITER_FIELD,
        Field(
            "neutralise_formulas",
            "Neutralise spreadsheet formulas",
            FieldKind.BOOLEAN,
            default=True,
            advanced=True,
            help="CSV only: a cell starting with =, +, -, @ (or a tab or carriage return) gets "
            "a leading ' so a spreadsheet shows it as text instead of running it. Turn off "
            "only for files read by programs, not people.",
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = _common_checks(config)
        template = config.get("file_name") or ""
        problem = template_problem(template)
        if not problem:
            try:
                render_name(template, run_id="1", started_at="")
            except UnsafePath as exc:
                problem = exc.message
        if problem:
            errors["file_name"] = problem
        if (config.get("if_exists") or REPLACE) not in (REPLACE, APPEND, FAIL):
            errors["if_exists"] = "Replace, append or fail."
        if (config.get("format") or "csv") not in dict(FORMATS):
            errors["format"] = "Choose CSV, JSON or JSON Lines."
        return errors

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        try:
            columns = parse_columns(config.get("columns"))
        except ColumnError:
            columns = []
        if columns:
            return schema_of_columns(columns)
        return {"type": "object", "properties": {}, "additionalProperties": True}

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        folder = folder_of(context.connection.extras)
        name = render_name(
            config.get("file_name") or "", run_id=context.run_id, started_at=context.started_at
        )
        path = safe_path(folder, name)
        limits = limits_of(context, config)
        writer = FileWriter(
            path,
            config.get("format") or "csv",
            delimiter=config.get("delimiter") or ",",
            encoding=config.get("encoding") or "utf-8",
            columns=[c.name for c in columns_of(config)],
            max_bytes=limits.max_bytes,
            # Configurations saved before the option existed get the safe default.
            neutralise_formulas=config.get("neutralise_formulas") is not False,
        )
        first = _first_batch(path, context)
        if first:
            existing = path.exists()
            policy = config.get("if_exists") or REPLACE
            if existing and policy == FAIL:
                path.with_name(f".{path.name}.run").unlink(missing_ok=True)
                raise ConnectorError(
                    f"{name} already exists (the activity is set to fail then).",
                    permanent=True,
                    key="file_exists",
                )
            verb = "Appending to" if existing and policy == APPEND else "Writing"
            context.log("info", f"{verb} {name}.")
            first = not (existing and policy == APPEND)
        extras = context.connection.extras
        # A batch that replaces the file frees its size for the project's Files quota.
        freed = path.stat().st_size if first and path.exists() else 0
        writer.room, writer.over_room = quota.room_left(extras, freed=freed)
        results = writer.write(batch, [self.record_key(r) for r in batch], first=first)
        refused = sum(1 for r in results if r.error_key == "files_quota")
        if refused:
            context.log("warning", f"{refused} record(s) not written: {writer.over_room}")
        return results


class InlineData(_FileSource):
    """A small table kept in the activity's configuration: no file, for quick tries."""

    key = "inline"
    name = "Inline data"
    role = Role.SOURCE
    description = "A small table typed or pasted in (CSV with a header row, or a JSON array)."
    config_fields = (
        Field(
            "data",
            "Data",
            FieldKind.TEXTAREA,
            required=True,
            max_length=INLINE_MAX_CHARS,
            help=f"CSV with a header row, or a JSON array of objects; up to {INLINE_MAX_ROWS:,} "
            "rows.",
        ),
        Field(
            "format",
            "Format",
            FieldKind.CHOICE,
            default="csv",
            choices=(("csv", "CSV"), ("json", "JSON array")),
        ),
        Field("columns", "Columns", FieldKind.LIST, help=COLUMNS_HELP, advanced=True),
        DELIMITER_FIELD,
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = _common_checks(config)
        data = config.get("data") or ""
        if not data.strip():
            errors["data"] = "Type or paste at least a header row."
        elif len(data) > INLINE_MAX_CHARS:
            errors["data"] = f"Inline data is limited to {INLINE_MAX_CHARS // 1024} KB."
        else:
            try:
                count = sum(1 for _ in self._rows(config))
            except ConnectorError as exc:
                errors["data"] = exc.message
            else:
                if count > INLINE_MAX_ROWS:
                    errors["data"] = f"Inline data is limited to {INLINE_MAX_ROWS:,} rows."
        return errors

    def _rows(self, config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        return readers.text_rows(
            config.get("data") or "",
            "inline data",
            config.get("format") or "csv",
            csv_options(config),
            columns_of(config),
        )

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        try:
            columns = parse_columns(config.get("columns"))
            if columns:
                return schema_of_columns(columns)
            if (config.get("format") or "csv") == "csv":
                header = next(iter((config.get("data") or "").splitlines()), "")
                opts = csv_options(config)
                names = next(readers.csv.reader([header], delimiter=opts.delimiter), [])
                names = readers.dedupe_header(names) if names else []
                return {"type": "object", "properties": {n: {"type": "string"} for n in names}}
            sample = []
            for record in self._rows(config):
                sample.append(record)
                if len(sample) >= SAMPLE_SIZE:
                    break
            return infer_schema(sample)
        except (ConnectorError, ColumnError):
            return {"type": "object", "properties": {}, "additionalProperties": True}

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        data = config.get("data") or ""
        if len(data) > INLINE_MAX_CHARS:
            raise ConnectorError(
                f"Inline data is limited to {INLINE_MAX_CHARS // 1024} KB.",
                permanent=True,
                key="too_large",
            )
        limits = Limits(INLINE_MAX_CHARS, INLINE_MAX_ROWS)
        return readers.batches(
            self._rows(config), batch_size=INLINE_MAX_ROWS, limits=limits, name="Inline data"
        )


def _first_batch(path: Path, context: RunContext) -> bool:
    """Is this the run's first batch for ``path`` (replace the file) or a later one (append)?

    A hidden marker beside the file names the run that wrote it, so the answer survives a
    worker change: a run re-queued after its agent was lost resumes where it stopped, and its
    next batch must append to what the first worker wrote, not replace it.
    """
    run = context.run_id or f"context-{id(context)}"
    marker = path.with_name(f".{path.name}.run")
    try:
        if marker.read_text() == run and path.exists():
            return False
    except OSError:
        pass
    marker.write_text(run)
    return True


class FilesConnector(Connector):
    key = "files"
    name = "Files"
    version = "1.0.0"
    description = "CSV, JSON and JSON Lines files kept in the project, and inline data."
    connection_fields = ()
    activity_types = {
        ReadFile.key: ReadFile(),
        WriteFile.key: WriteFile(),
        InlineData.key: InlineData(),
    }

    def test(self, connection) -> CheckResult:
        try:
            folder = folder_of(connection.extras)
            probe = folder / ".write-test"
            probe.write_bytes(b"ok")
            probe.unlink()
        except ConnectorError as exc:
            return CheckResult(CheckOutcome.INVALID_CONFIG, exc.message)
        except OSError as exc:
            return CheckResult(
                CheckOutcome.UNEXPECTED, "The connection's folder can't be written.", str(exc)
            )
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        size = sum(p.stat().st_size for p in files)
        return CheckResult(
            CheckOutcome.CONNECTED, f"Folder ready: {len(files)} file(s), {size:,} bytes."
        )
