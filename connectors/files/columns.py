"""Column specs ("email, age:integer, vip:boolean"): the editable schema of a file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TYPES = ("string", "integer", "number", "boolean")
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


class ColumnError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"

    def convert(self, value: str | None) -> Any:
        """A cell as this column's type; "" becomes None for typed columns."""
        if self.type == "string" or value is None:
            return value
        text = value.strip()
        if text == "":
            return None
        if self.type == "integer":
            try:
                return int(text)
            except ValueError:
                raise ColumnError(f"column {self.name!r}: {value!r} is not an integer") from None
        if self.type == "number":
            try:
                return float(text)
            except ValueError:
                raise ColumnError(f"column {self.name!r}: {value!r} is not a number") from None
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ColumnError(f"column {self.name!r}: {value!r} is not true or false")


def as_items(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def parse_columns(value: Any) -> list[Column]:
    """["email", "age:integer"] or "email, age:integer" -> columns; ColumnError if invalid."""
    columns: list[Column] = []
    seen: set[str] = set()
    for item in as_items(value):
        name, _, kind = item.partition(":")
        name, kind = name.strip(), (kind.strip().lower() or "string")
        if not name:
            raise ColumnError(f"{item!r}: a column needs a name")
        if kind not in TYPES:
            raise ColumnError(f"{name}: the type must be one of {', '.join(TYPES)}, not {kind!r}")
        if name in seen:
            raise ColumnError(f"{name}: listed twice")
        seen.add(name)
        columns.append(Column(name, kind))
    return columns


def schema_of_columns(columns: Sequence[Column]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {c.name: {"type": [c.type, "null"]} for c in columns},
    }


def dedupe_header(header: Sequence[str]) -> list[str]:
    """Header names made unique and non-empty ("", "a", "a" -> "column_1", "a", "a_2")."""
    out: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{index}"
        candidate, n = name, 2
        while candidate in seen:
            candidate, n = f"{name}_{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "string"


def infer_schema(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A JSON Schema describing every field seen in the sample (nested objects included)."""
    root: dict[str, Any] = {"type": "object", "properties": {}}
    for record in records:
        _merge(root, record)
    return root


def _merge(schema: dict[str, Any], value: Any) -> None:
    kind = _json_type(value)
    if kind == "null":
        return
    current = schema.get("type")
    if current is None:
        schema["type"] = kind
    elif current != kind and {current, kind} == {"integer", "number"}:
        schema["type"] = "number"
    elif current != kind:
        schema["type"] = "string"  # mixed: read as text
        schema.pop("properties", None)
        schema.pop("items", None)
        return
    if kind == "object" and schema["type"] == "object":
        props = schema.setdefault("properties", {})
        for key, item in value.items():
            if key.startswith("__"):
                continue
            _merge(props.setdefault(str(key), {}), item)
    elif kind == "array" and schema["type"] == "array":
        items = schema.setdefault("items", {})
        for item in value[:20]:
            _merge(items, item)
