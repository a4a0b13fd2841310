"""The connector contract: what every connector (Constant Contact, Files, ...) provides.

The designer and the run engine only ever talk to connectors through these types, so a new
connector is a new package plus one line in ``connectors.registry``. Nothing here imports
Django: connectors are plain Python, tested against real services (the sandbox).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# --------------------------------------------------------------------------------------------
# Fields: connection forms and step 1 of the activity wizard are built from these.
# --------------------------------------------------------------------------------------------


class FieldKind(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SECRET = "secret"  # stored encrypted, never rendered back, never logged
    URL = "url"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    LIST = "list"  # free list of strings (comma separated in forms)
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    help: str = ""
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    advanced: bool = False  # shown under an "Advanced" disclosure
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None
    # Values can be picked from the connected account: the kind of object (e.g. "lists")
    # the connector's picker_options() lists. Typed values and [variables] still work.
    picker: str = ""

    @property
    def secret(self) -> bool:
        return self.kind is FieldKind.SECRET


# --------------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A failure talking to a system.

    ``permanent`` says whether retrying can help: bad credentials or a validation error are
    permanent; throttling, 5xx and network errors are not.

    ``done``: a target's ``write`` that stops mid-batch sets it to the results of the batch's
    first records (already written) before raising, so the engine counts them as written
    instead of reporting them failed.

    ``maybe_processed``: set by a client when this call, or an earlier try of it, failed in
    a way that does not prove it was not processed (a 5xx, a time-out, a dropped
    connection): the target system may have done it. A 409 "already exists" on a retried
    create may then be our own first try, or not; targets resolve it by reading back.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        key: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.key = key
        self.status = status
        self.done: list[RecordResult] = []
        self.maybe_processed = False


class NeedsReconnect(ConnectorError):
    """The stored authorisation is no longer valid (e.g. OAuth2 ``invalid_grant``)."""

    def __init__(self, message: str, *, key: str = "invalid_grant") -> None:
        super().__init__(message, permanent=True, key=key)


class CheckOutcome(enum.StrEnum):
    CONNECTED = "connected"
    BAD_CREDENTIALS = "bad_credentials"
    MISSING_SCOPE = "missing_scope"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    UNEXPECTED = "unexpected"
    INVALID_CONFIG = "invalid_config"


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    message: str  # one line for the user, e.g. "Connected to Acme Inc."
    detail: str = ""  # the remote system's own error text, verbatim

    @property
    def ok(self) -> bool:
        return self.outcome is CheckOutcome.CONNECTED


@dataclass(frozen=True)
class TargetFieldPicker:
    """Target fields the mapping editor offers from the connected account: the objects of
    ``kind`` (``Connector.picker_options``), each mapped through ``path`` with ``{value}``
    replaced by the chosen option's value (e.g. ``custom_field:{value}``)."""

    kind: str
    label: str
    path: str

    def target(self, value: str) -> str:
        return self.path.replace("{value}", value.strip())


@dataclass(frozen=True)
class ConfigCheck:
    """What an activity's Test found: the objects its settings name, looked up in the account.

    ``errors``: config field name -> why it fails (an id the account does not have).
    ``notes``: what could not be checked (a ``[variable]`` is only known at run time).
    ``found``: what was checked and exists, one line per field, for the user.
    """

    errors: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    found: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class RecordResult:
    """What a target did with one input record. Targets return exactly one per input."""

    ok: bool
    key: str = ""  # how a person recognises the record: an email, an id
    external_id: str = ""  # the id in the target system, e.g. a contact_id
    action: str = ""  # created / updated / deleted / skipped / written
    error_key: str = ""
    error_message: str = ""
    # What the target answered for this record, when it is more than an id (e.g. a report
    # read for each contact): carried on a target's response path as ``response``, shaped
    # by the activity type's response_schema().
    response: Mapping[str, Any] | None = None

    @classmethod
    def done(
        cls,
        *,
        key: str = "",
        external_id: str = "",
        action: str = "",
        response: Mapping[str, Any] | None = None,
    ) -> RecordResult:
        return cls(ok=True, key=key, external_id=external_id, action=action, response=response)

    @classmethod
    def failed(cls, *, key: str = "", error_key: str, error_message: str) -> RecordResult:
        return cls(ok=False, key=key, error_key=error_key, error_message=error_message)


# A source can only yield records, so a record it could not read (a ragged CSV row, bytes not
# valid in the file's encoding) is still yielded, carrying RECORD_ERROR: the mapping and every
# target fail exactly that record with the message, and the rest of the source goes on.
RECORD_ERROR = "__error__"  # why this record could not be read
RECORD_RAW = "__raw__"  # the start of what was read, to help find it in the source
RAW_PREVIEW = 200


def error_record(message: str, raw: Any = "") -> dict[str, Any]:
    """The record a source yields for something it could not read."""
    text = raw if isinstance(raw, str) else repr(raw)
    return {RECORD_ERROR: message, RECORD_RAW: text[:RAW_PREVIEW]}


def read_error(record: Any) -> str:
    """The read error carried by a record, or ""."""
    if isinstance(record, Mapping):
        value = record.get(RECORD_ERROR)
        return str(value) if value else ""
    return ""


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP call, as reported to the operation log (bodies only in debug mode, redacted)."""

    method: str
    url: str
    status: int | None
    duration_ms: float
    attempt: int = 1
    request_body: Any = None
    response_body: Any = None
    error: str = ""


# --------------------------------------------------------------------------------------------
# What the app hands to a connector
# --------------------------------------------------------------------------------------------


class ConnectionContext(Protocol):
    """A configured connection as a connector sees it.

    The app implements it over its database row: ``update_secrets`` runs under a row lock so
    two workers refreshing a rotating OAuth2 token at once cannot lose the new one.
    """

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> Mapping[str, Any]:
        """Non-secret field values."""
        ...

    @property
    def extras(self) -> Mapping[str, Any]:
        """App-provided facts a connector may need (e.g. the Files connector's folder)."""
        ...

    def secrets(self) -> dict[str, Any]:
        """The current decrypted secret values (re-read from storage)."""
        ...

    def update_secrets(self, mutate: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict:
        """Atomically read-modify-write the secrets; ``mutate`` may return None to keep them."""
        ...

    def mark_needs_reconnect(self, message: str) -> None: ...


@dataclass
class MemoryConnection:
    """An in-memory ConnectionContext, for tests, benchmarks and one-off scripts."""

    name: str = "test"
    config: dict[str, Any] = field(default_factory=dict)
    stored_secrets: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    reconnect_message: str = ""

    def secrets(self) -> dict[str, Any]:
        return dict(self.stored_secrets)

    def update_secrets(self, mutate: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict:
        new = mutate(dict(self.stored_secrets))
        if new is not None:
            self.stored_secrets = dict(new)
        return dict(self.stored_secrets)

    def mark_needs_reconnect(self, message: str) -> None:
        self.reconnect_message = message


def _never_cancelled() -> bool:
    return False


def _discard_log(level: str, message: str) -> None:
    return None


class RunJournal(Protocol):
    """Durable notes a target keeps about the batch in flight (an import activity id, the time a
    record was first sent). put() returns only once the value is committed, so a worker killed
    right after still leaves it for the re-queued attempt. Cleared when the batch is committed."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def put(self, key: str, value: Any) -> None: ...  # JSON-serialisable value


@dataclass
class MemoryJournal:
    """The default journal, in memory (tests, benchmarks, previews): it dies with the process."""

    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value


@dataclass
class RunContext:
    """Everything an activity needs while it runs."""

    connection: ConnectionContext
    log: Callable[[str, str], None] = _discard_log  # (level, message) -> operation log
    debug: bool = False  # keep redacted request/response samples
    is_cancelled: Callable[[], bool] = _never_cancelled
    on_http: Callable[[HttpExchange], None] | None = None
    # Activity state kept between runs (e.g. the "updated since last run" watermark). A source
    # may update ``new_state``; the engine saves it only after a successful run.
    state: Mapping[str, Any] = field(default_factory=dict)
    new_state: dict[str, Any] = field(default_factory=dict)
    run_id: str = ""
    started_at: str = ""  # ISO 8601, for file name templates
    # A preview: only calls that read may leave (a connector refuses any other before sending).
    read_only: bool = False
    # Run journal (issue 17.4): durable notes about the batch in flight, kept by the engine
    # across a lost worker. ``resuming`` is True when this batch was in flight when a previous
    # attempt died: the target resolves what already happened from the journal and the far side.
    journal: RunJournal = field(default_factory=MemoryJournal)
    resuming: bool = False
    # Per-record progress: a target calls it (index within the batch passed to write()) as soon
    # as it knows a record's outcome; the engine commits such results at least every ~1 s, so
    # they survive a SIGKILL and are not re-sent on resume.
    on_result: Callable[[int, RecordResult], None] | None = None


# --------------------------------------------------------------------------------------------
# Connectors and activity types
# --------------------------------------------------------------------------------------------


class Role(enum.StrEnum):
    SOURCE = "source"
    TARGET = "target"


class ActivityType:
    key: ClassVar[str]
    name: ClassVar[str]
    role: ClassVar[Role]
    description: ClassVar[str] = ""
    config_fields: ClassVar[Sequence[Field]] = ()
    # How many records a target would like per write() call; the engine may pass fewer.
    # Bulk APIs want far more than per-record ones, and it may depend on the configuration.
    preferred_batch_size: ClassVar[int] = 500
    # A target that reads something for each record (a report per contact): its results
    # carry ``RecordResult.response``, shaped by response_schema(), on its response path.
    responds_per_record: ClassVar[bool] = False

    def batch_size(self, config: Mapping[str, Any]) -> int:
        """The batch size the engine should use for this configuration."""
        return self.preferred_batch_size

    def default_config(self) -> dict[str, Any]:
        """The settings a new activity of this type starts with."""
        return {f.name: f.default for f in self.config_fields if f.default is not None}

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        """Field name -> error message, beyond what the fields' own types check."""
        return {}

    def request_schema(self, config: Mapping[str, Any]) -> dict | None:
        """JSON Schema of one record a target consumes (None for sources)."""
        return None

    def target_field_pickers(self, config: Mapping[str, Any]) -> Sequence[TargetFieldPicker]:
        """Target fields the mapping editor may pick from the account (e.g. custom fields)."""
        return ()

    def response_schema(self, config: Mapping[str, Any]) -> dict | None:
        """JSON Schema of one record a source yields (or of a target's per-record result)."""
        return None

    def record_key(self, record: Mapping[str, Any]) -> str:
        """How a person recognises a record in the log (an email, an id)."""
        for name in ("email_address", "email", "contact_id", "id"):
            value = record.get(name)
            if isinstance(value, Mapping):
                value = value.get("address")
            if value:
                return str(value)
        return ""

    def estimate_total(self, context: RunContext, config: Mapping[str, Any]) -> int | None:
        """Sources may say how many records to expect, for progress bars."""
        return None

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        """Sources: yield batches of records; memory must stay flat however many there are."""
        raise NotImplementedError(f"{self.name} is not a source")

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        """Targets: exactly one RecordResult per input record, in input order."""
        raise NotImplementedError(f"{self.name} is not a target")


class Connector:
    key: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = ""
    icon: ClassVar[str] = ""  # a static file path
    connection_fields: ClassVar[Sequence[Field]] = ()
    activity_types: ClassVar[Mapping[str, ActivityType]] = {}
    supports_oauth: ClassVar[bool] = False
    # (field, value) when OAuth applies only to one choice of a connection field (Constant
    # Contact: auth_method = "oauth"; a pasted token needs no sign-in). None: always.
    oauth_choice: ClassVar[tuple[str, str] | None] = None

    def oauth_applies(self, config: Mapping[str, Any]) -> bool:
        """Whether "Connect with <name>" is offered for a connection with this config."""
        if not self.supports_oauth:
            return False
        if self.oauth_choice is None:
            return True
        field, value = self.oauth_choice
        spec = next((f for f in self.connection_fields if f.name == field), None)
        chosen = config.get(field) or (spec.default if spec else None)
        return chosen == value

    def validate_connection(self, config: Mapping[str, Any]) -> dict[str, str]:
        """Field name -> error message (e.g. a base URL that is not on the allow-list)."""
        return {}

    def test(self, connection: ConnectionContext) -> CheckResult:
        """Make a real call and report exactly one outcome; never report success falsely."""
        raise NotImplementedError

    def usage(self, config: Mapping[str, Any]) -> str:
        """A short line on what the connection spent of the far side's limits, e.g.
        "today: 1,234 of 10,000 calls" ("" = nothing to say). Makes no call."""
        return ""

    # OAuth2 authorization code flow, for connectors with ``supports_oauth``.
    def authorization_url(
        self, connection: ConnectionContext, *, redirect_uri: str, state: str, code_challenge: str
    ) -> str:
        raise NotImplementedError

    def complete_authorization(
        self, connection: ConnectionContext, *, code: str, redirect_uri: str, code_verifier: str
    ) -> None:
        """Exchange the code and store the tokens through ``connection.update_secrets``."""
        raise NotImplementedError

    def picker_options(self, connection: ConnectionContext, kind: str) -> list[tuple[str, str]]:
        """(value, label) pairs of the objects of ``kind`` in the connected account, for
        fields declaring ``picker=kind``. One live read; the designer caches it."""
        raise ConnectorError(f"{self.name} has no picker for {kind!r}.", permanent=True)

    def test_activity(
        self, connection: ConnectionContext, activity_key: str, config: Mapping[str, Any]
    ) -> ConfigCheck:
        """The activity wizard's Test: every value of a field declaring ``picker=kind`` must
        be an object of that kind in the connected account (one picker read per kind).
        A ``[variable]`` is only known at run time: it is noted, not failed. Raises
        ConnectorError when the account can't be read (the user sees why)."""
        kind = self.activity_type(activity_key)
        errors: dict[str, str] = {}
        notes: list[str] = []
        found: list[str] = []
        options: dict[str, list[tuple[str, str]]] = {}
        for spec in kind.config_fields:
            values = config_values(config.get(spec.name)) if spec.picker else []
            if not values:
                continue
            noun = picker_noun(spec.picker)
            variables = [v for v in values if is_variable(v)]
            if variables:
                notes.append(
                    f"{spec.label}: {', '.join(variables)} can't be checked before the run "
                    "(a variable); it is checked when the operation runs."
                )
            literal = [v for v in values if not is_variable(v)]
            if not literal:
                continue
            if spec.picker not in options:
                options[spec.picker] = self.picker_options(connection, spec.picker)
            ids = {value for value, _ in options[spec.picker]}
            by_label = {label.lower(): value for value, label in options[spec.picker]}
            problems = []
            for value in literal:
                if value in ids:
                    continue
                problem = f"{noun} id {value!r} does not exist in this account"
                if value.lower() in by_label:  # a name typed where the id is needed
                    problem += f" ({value!r} is a name: its id is {by_label[value.lower()]})"
                problems.append(problem)
            if problems:
                errors[spec.name] = f"{spec.label}: " + "; ".join(problems) + "."
            else:
                found.append(f"{spec.label}: {len(literal)} found in the account.")
        return ConfigCheck(errors=errors, notes=tuple(notes), found=tuple(found))

    def test_targets(
        self,
        connection: ConnectionContext,
        activity_key: str,
        config: Mapping[str, Any],
        targets: Sequence[str],
    ) -> dict[str, str]:
        """The mapping's Test: target fields made by the activity's target_field_pickers
        (e.g. ``custom_field:<name>``) whose object the account does not have, as
        target -> message. Values that are [variables] are left alone."""
        problems: dict[str, str] = {}
        kind = self.activity_type(activity_key)
        known: dict[str, set[str]] = {}
        for picker in kind.target_field_pickers(config):
            head, _, tail = picker.path.partition("{value}")
            for target in targets:
                if not (target.startswith(head) and target.endswith(tail)):
                    continue
                value = target[len(head) : len(target) - len(tail)].strip()
                if not value or is_variable(value) or target in problems:
                    continue
                if picker.kind not in known:
                    known[picker.kind] = self.known_objects(connection, picker.kind)
                if value.lower() not in known[picker.kind]:
                    noun = picker_noun(picker.kind.removesuffix("_names").removesuffix("s") + "s")
                    problems[target] = f"{noun} {value!r} does not exist in this account."
        return problems

    def known_objects(self, connection: ConnectionContext, kind: str) -> set[str]:
        """Every way a value may name an object of ``kind`` (lower-cased): by default the
        picker's values and labels."""
        return {t.lower() for option in self.picker_options(connection, kind) for t in option}

    def activity_type(self, key: str) -> ActivityType:
        try:
            return self.activity_types[key]
        except KeyError:
            raise KeyError(f"{self.name} has no activity type {key!r}") from None

    @property
    def secret_field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.connection_fields if f.secret)


def config_values(value: Any) -> list[str]:
    """A config value as the list of strings it names (a list field, or comma-separated)."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    return [str(item).strip() for item in items if str(item).strip()]


def is_variable(value: str) -> bool:
    """A ``[name]`` project variable (replaced by the engine when the operation runs)."""
    return "[" in value and "]" in value


def picker_noun(kind: str) -> str:
    """ "lists" -> "List", "custom_fields" -> "Custom field": how a message names the object."""
    return kind.removesuffix("s").replace("_", " ").capitalize()
