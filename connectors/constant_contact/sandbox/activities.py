"""Bulk activities: JSON import and contact delete, processed asynchronously.

An activity is created `initialized`; it moves to `processing` when first polled and
completes once `activity_seconds` have passed or it was polled `activity_polls` times,
whichever comes first. Its effect on the contacts lands when it completes, so a caller
that does not wait for completion does not see the result - as with Constant Contact.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.constant_contact.contract import load_contract

from .clock import Clock, iso
from .contact_model import SCALARS, is_email, new_contact, phone_resource
from .contacts import ContactService
from .errors import ApiError
from .knobs import Knobs
from .store import Store

MAX_IMPORT_ROWS = 40_000
MAX_IMPORT_BYTES = 4 * 1024 * 1024
MAX_DELETE_IDS = 500
PHONE_COLUMNS = {
    "phone": "other",
    "home_phone": "home",
    "work_phone": "work",
    "mobile_phone": "mobile",
    "other_phone": "other",
}
ADDRESS_PREFIXES = {"": "home", "home_": "home", "work_": "work", "other_": "other"}
# StreetAddress property <- import column suffix
ADDRESS_FIELDS = (
    ("street", "street"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "zip"),
    ("country", "country"),
)
ADDRESS_COLUMNS = frozenset(
    {prefix + column for prefix in ADDRESS_PREFIXES for _, column in ADDRESS_FIELDS}
    | {"home country"}  # sic: the contract spells this one with a space
)


# kind -> what completing such an activity does; filled by catalog_activities.
RUNNERS: dict[str, Callable[[BulkActivities, Activity, float], None]] = {}


@functools.cache
def _import_columns() -> dict[str, tuple[str, int | None]]:
    """JsonImportContact's columns from the contract: name -> (JSON type, maxLength)."""
    properties = load_contract()["definitions"]["JsonImportContact"]["properties"]
    return {
        name: (spec.get("type", "string"), spec.get("maxLength"))
        for name, spec in properties.items()
    }


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
}


def row_schema_problem(row: Mapping[str, Any]) -> str | None:
    """The first way a row breaks the JsonImportContact schema (a fast, flat check:
    the definition is one level of typed, length-limited columns)."""
    columns = _import_columns()
    custom_field = columns.get("cf:custom_field_name", ("string", 255))
    for name, value in row.items():
        kind, max_length = columns.get(name) or (
            custom_field if name.startswith("cf:") else (None, None)
        )
        if kind is None or value is None:
            continue  # unknown columns are ignored, as the schema allows
        expected = _JSON_TYPES.get(kind, ())
        if not isinstance(value, expected) or isinstance(value, bool):
            return f"{name} must be of type {kind}"
        if max_length is not None and isinstance(value, str) and len(value) > max_length:
            return f"{name} is longer than {max_length} characters"
    return None


@dataclass
class Activity:
    activity_id: str
    kind: str  # "add_contacts" (JSON import) or "contact_delete"
    payload: dict[str, Any]
    created: float
    polls: int = 0
    state: str = "initialized"
    started: float | None = None
    completed: float | None = None
    updated: float = 0.0
    percent_done: int = 0
    errors: list[str] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    # ActivityGeneric (tag deletes) lists its errors as {"message": ...} objects.
    error_objects: bool = False
    # Where a completed activity's result is (a contact export's CSV file).
    results_href: str = ""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "activity_id": self.activity_id,
            "state": self.state,
            "created_at": iso(self.created),
            "updated_at": iso(self.updated or self.created),
            "percent_done": self.percent_done,
            "activity_errors": (
                [{"message": e} for e in self.errors] if self.error_objects else list(self.errors)
            ),
            "status": dict(self.status),
            "_links": {"self": {"href": f"/v3/activities/{self.activity_id}"}},
        }
        if self.results_href and self.state == "completed":
            body["_links"]["results"] = {"href": self.results_href}
        if self.started is not None:
            body["started_at"] = iso(self.started)
        if self.completed is not None:
            body["completed_at"] = iso(self.completed)
        return body


class BulkActivities:
    def __init__(
        self, store: Store, contacts: ContactService, knobs: Knobs, clock: Clock | None = None
    ) -> None:
        self.clock = clock or Clock()
        self.store = store
        self.contacts = contacts
        self.knobs = knobs

    # ------------------------------------------------------------------ creation

    def create_import(self, body: Mapping[str, Any], body_size: int) -> dict[str, Any]:
        rows = body.get("import_data") or []
        list_ids = body.get("list_ids") or []
        problems = []
        if body_size >= MAX_IMPORT_BYTES:
            problems.append("the request body must be smaller than 4 MB")
        if not rows:
            problems.append("import_data must contain at least one contact")
        if len(rows) > MAX_IMPORT_ROWS:
            problems.append(f"import_data may contain at most {MAX_IMPORT_ROWS} contacts")
        if not 1 <= len(list_ids) <= 50:
            problems.append("list_ids must contain 1 to 50 list ids")
        for list_id in list_ids:
            if list_id not in self.store.lists:
                problems.append(f"list_ids: list {list_id} does not exist")
        if not problems and self.knobs.strict_import:
            problem = self._first_bad_row(rows)
            if problem:
                problems.append(f"import_data contains an invalid contact: {problem}")
        if problems:
            raise ApiError.validation(problems)
        activity = self._new("add_contacts", {"rows": rows, "list_ids": list(list_ids)})
        activity.status = {
            "items_total_count": len(rows),
            "person_count": 0,
            "error_count": 0,
            "correctable_count": 0,
            "cannot_add_to_list_count": 0,
        }
        return activity.as_json()

    def create_delete(self, body: Mapping[str, Any]) -> dict[str, Any]:
        contact_ids = body.get("contact_ids") or []
        list_ids = body.get("list_ids") or []
        if bool(contact_ids) == bool(list_ids):
            raise ApiError.validation(
                ["send either contact_ids or list_ids (one of them, not empty)"]
            )
        if len(contact_ids) > MAX_DELETE_IDS:
            raise ApiError.validation([f"contact_ids may contain at most {MAX_DELETE_IDS} ids"])
        if len(list_ids) > 50:
            raise ApiError.validation(["list_ids may contain at most 50 ids"])
        activity = self._new(
            "contact_delete", {"contact_ids": list(contact_ids), "list_ids": list(list_ids)}
        )
        activity.status = {"items_total_count": len(contact_ids), "items_completed_count": 0}
        if list_ids:
            activity.status["list_count"] = len(list_ids)
        return activity.as_json()

    def _first_bad_row(self, rows: list[Any]) -> str | None:
        """Strict mode: the first row's problem, unknown columns included (no line number:
        the client cannot tell which row it was)."""
        fields_by_column = self._field_ids_by_column()
        columns = _import_columns()
        for row in rows:
            problem = self._row_problem(row, fields_by_column)
            if problem:
                return problem
            unknown = [k for k in row if k not in columns and not k.lower().startswith("cf:")]
            if unknown:
                return f"unknown column {', '.join(unknown)}"
        return None

    def _new(self, kind: str, payload: dict[str, Any]) -> Activity:
        now = self.clock.time()
        activity = Activity(str(uuid.uuid4()), kind, payload, created=now, updated=now)
        self.store.activities[activity.activity_id] = activity
        return activity

    # ------------------------------------------------------------------ progress

    def poll(self, activity_id: str) -> dict[str, Any]:
        activity = self.store.activities.get(activity_id)
        if activity is None:
            raise ApiError.of(404, f"Activity {activity_id} not found.", "activity.not.found")
        if activity.state not in ("completed", "failed"):
            activity.polls += 1
            self._advance(activity, self.clock.time())
        return activity.as_json()

    def collection(self, query: Mapping[str, str]) -> dict[str, Any]:
        now = self.clock.time()
        for activity in list(self.store.activities.values()):
            self._advance(activity, now)
        activities = sorted(self.store.activities.values(), key=lambda a: a.created, reverse=True)
        if query.get("state"):
            activities = [a for a in activities if a.state == query["state"]]
        limit = int(query.get("limit") or 50)
        return {"activities": [a.as_json() for a in activities[:limit]]}

    def advance_due(self) -> None:
        """Complete activities whose time has come, even if nobody polls them."""
        now = self.clock.time()
        for activity in list(self.store.activities.values()):
            if (
                activity.state in ("initialized", "processing")
                and now - activity.created >= self.knobs.activity_seconds
            ):
                self._advance(activity, now)

    def _advance(self, activity: Activity, now: float) -> None:
        if activity.state in ("completed", "failed"):
            return
        elapsed = now - activity.created
        by_time = elapsed >= self.knobs.activity_seconds
        by_polls = self.knobs.activity_polls > 0 and activity.polls >= self.knobs.activity_polls
        if activity.started is None:
            activity.started = now
        if by_time or by_polls:
            self._complete(activity, now)
            return
        activity.state = "processing"
        time_share = elapsed / self.knobs.activity_seconds if self.knobs.activity_seconds else 0
        poll_share = activity.polls / self.knobs.activity_polls if self.knobs.activity_polls else 0
        activity.percent_done = min(99, max(1, int(100 * max(time_share, poll_share))))
        activity.updated = now

    def _complete(self, activity: Activity, now: float) -> None:
        if activity.kind in RUNNERS:  # the catalog activities (see catalog_activities)
            RUNNERS[activity.kind](self, activity, now)
        elif activity.kind == "add_contacts":
            self._run_import(activity, now)
        else:
            self._run_delete(activity, now)
        activity.state = "completed"
        activity.percent_done = 100
        activity.completed = activity.updated = now
        activity.payload = {}  # the rows are no longer needed; free them

    # ------------------------------------------------------------------ effects

    def _field_ids_by_column(self) -> dict[str, str]:
        columns = {}
        for custom_field in self.store.custom_fields.values():
            columns["cf:" + custom_field["name"].lower()] = custom_field["custom_field_id"]
            columns["cf:" + custom_field["label"].lower()] = custom_field["custom_field_id"]
        return columns

    def _run_import(self, activity: Activity, now: float) -> None:
        list_ids = activity.payload["list_ids"]
        fields_by_column = self._field_ids_by_column()
        imported = errors = 0
        for line, row in enumerate(activity.payload["rows"], start=1):
            problem = self._row_problem(row, fields_by_column)
            if problem:
                errors += 1
                activity.errors.append(f"Line {line}: {problem}")
                continue
            self._import_row(row, list_ids, fields_by_column, now)
            imported += 1
        activity.status.update(person_count=imported, error_count=errors)

    def _row_problem(self, row: Mapping[str, Any], fields_by_column: dict[str, str]) -> str | None:
        if not isinstance(row, Mapping):
            return "each contact must be a JSON object"
        schema_problem = row_schema_problem(row)
        if schema_problem:
            return schema_problem
        email = row.get("email")
        if email is None and not row.get("sms_number"):
            return "email or sms_number is required"
        if email is not None and not is_email(email):
            return f"invalid email address {email!r}"
        unknown = [
            k for k in row if k.lower().startswith("cf:") and k.lower() not in fields_by_column
        ]
        if unknown:
            return f"unknown custom field {', '.join(unknown)}"
        custom = [k for k in row if k.lower().startswith("cf:")]
        if len(custom) > 25:
            return "at most 25 custom fields per contact"
        return None

    def _import_row(
        self,
        row: Mapping[str, Any],
        list_ids: list[str],
        fields_by_column: dict[str, str],
        now: float,
    ) -> None:
        email = row.get("email")
        contact = self.store.contact_by_email(email) if email else None
        if contact is None:
            contact = new_contact(now, create_source="Account")
            if email:
                contact["email_address"] = {
                    "address": email,
                    "permission_to_send": "implicit",
                    "created_at": iso(now),
                    "updated_at": iso(now),
                    "opt_in_source": "Account",
                    "opt_in_date": iso(now),
                    "confirm_status": "off",
                }
            self.store.add_contact(contact)
        elif contact["_deleted"]:
            self.contacts.revive(contact, now)
        for key in SCALARS:  # an import updates only the properties it carries
            if key in row:
                contact[key] = row[key]
        phones = [
            phone_resource(row[c], kind, now, "Account")
            for c, kind in PHONE_COLUMNS.items()
            if row.get(c)
        ]
        if phones:
            contact["phone_numbers"] = phones[:3]
        addresses = _addresses_from(row, now) if not ADDRESS_COLUMNS.isdisjoint(row) else []
        if addresses:
            contact["street_addresses"] = addresses[:3]
        merged = {f["custom_field_id"]: f for f in contact["custom_fields"]}
        for key, value in row.items():
            if key.lower().startswith("cf:"):
                field_id = fields_by_column[key.lower()]
                merged[field_id] = {
                    "custom_field_id": field_id,
                    "value": "" if value is None else str(value),
                }
        contact["custom_fields"] = list(merged.values())
        for list_id in list_ids:
            if list_id not in contact["list_memberships"]:
                contact["list_memberships"].append(list_id)
        contact["update_source"] = "Account"
        contact["updated_at"], contact["_updated"] = iso(now), now

    def _run_delete(self, activity: Activity, now: float) -> None:
        targets: list[dict[str, Any]] = []
        for contact_id in activity.payload["contact_ids"]:
            contact = self.store.contacts.get(contact_id)
            if contact is None:
                activity.errors.append(f"Contact {contact_id} not found")
            else:
                targets.append(contact)
        list_ids = set(activity.payload["list_ids"])
        for list_id in list_ids - set(self.store.lists):
            activity.errors.append(f"List {list_id} not found")
        if list_ids:
            targets.extend(
                c
                for c in self.store.live_contacts()
                if not list_ids.isdisjoint(c["list_memberships"])
            )
        for contact in targets:
            self.contacts.mark_deleted(contact, now)
        # By ids, the total is what was asked for; by list, it is the members found.
        requested = len(activity.payload["contact_ids"])
        activity.status["items_total_count"] = len(targets) if list_ids else requested
        activity.status["items_completed_count"] = len(targets)


def _addresses_from(row: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """Street addresses from an import row's street/city/... column families."""
    addresses = []
    for prefix, kind in ADDRESS_PREFIXES.items():
        parts = {name: row.get(prefix + column) for name, column in ADDRESS_FIELDS}
        if prefix == "home_" and row.get("home country"):
            parts["country"] = row["home country"]
        if any(parts.values()):
            addresses.append(
                {
                    "street_address_id": str(uuid.uuid4()),
                    "kind": kind,
                    **{k: v for k, v in parts.items() if v},
                    "created_at": iso(now),
                    "updated_at": iso(now),
                }
            )
    return addresses
