"""JSON Schema as the mapping editor sees it: a tree of fields with dotted paths.

Arrays of objects show their item fields under ``name.0.field`` (the first item; a mapping
may target any index, or an item picked by a key: ``custom_fields[custom_field_id=ID].value``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 6
# One dotted part of a target path: a name, optionally "[key=value]" to pick a list item.
_PART = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<key>[^=\[\]]+)=(?P<value>[^\[\]]*)\])?$")


@dataclass(frozen=True)
class SchemaField:
    path: str
    name: str
    type: str
    depth: int
    required: bool = False
    leaf: bool = True
    title: str = ""
    description: str = ""
    item_type: str = ""  # for arrays of scalars
    # Required here and every parent is required too: must be mapped whatever else is.
    always_required: bool = False

    @property
    def label(self) -> str:
        return self.type if not self.item_type else f"{self.item_type}[]"


def type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if kinds else "null"
    if not kind:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        for combo in ("anyOf", "oneOf", "allOf"):
            if schema.get(combo):
                return type_of(schema[combo][0])
        return "any"
    return str(kind)


def _object_parts(schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    props: dict[str, Any] = dict(schema.get("properties") or {})
    required = set(schema.get("required") or ())
    for part in schema.get("allOf") or ():
        more, req = _object_parts(part)
        props.update(more)
        required |= req
    return props, required


def fields(schema: Mapping[str, Any] | None) -> list[SchemaField]:
    """Every field of an object schema, depth first, parents before children."""
    if not schema:
        return []
    return list(_walk(schema, "", 0, True))


def _walk(schema: Mapping[str, Any], prefix: str, depth: int, parent_required: bool):
    if depth >= MAX_DEPTH:
        return
    props, required = _object_parts(schema)
    for name, sub in props.items():
        sub = sub or {}
        path = f"{prefix}{name}"
        kind = type_of(sub)
        common = {
            "name": name,
            "depth": depth,
            "required": name in required,
            "always_required": name in required and parent_required,
            "title": str(sub.get("title") or ""),
            "description": str(sub.get("description") or ""),
        }
        if kind == "object" and sub.get("properties"):
            yield SchemaField(path=path, type="object", leaf=False, **common)
            yield from _walk(sub, path + ".", depth + 1, parent_required and name in required)
        elif kind == "array" and type_of(sub.get("items") or {}) == "object":
            yield SchemaField(path=path, type="array", leaf=False, **common)
            yield from _walk(sub["items"], path + ".0.", depth + 1, False)
        elif kind == "array":
            item = type_of(sub.get("items") or {})
            yield SchemaField(path=path, type="array", item_type=item, **common)
        else:
            yield SchemaField(path=path, type=kind, **common)


def is_open(schema: Mapping[str, Any] | None) -> bool:
    """True when any field name is acceptable (no declared properties)."""
    if not schema:
        return True
    props, _ = _object_parts(schema)
    return not props


def parse_path(path: str) -> list[tuple[str, Any]]:
    """ "a.0.b[k=v].c" -> [("key","a"), ("index",0), ("key","b"), ("match",("k","v")), ("key","c")].

    Raises ValueError for an empty part or a malformed "[key=value]".
    """
    steps: list[tuple[str, Any]] = []
    if not path or not path.strip():
        raise ValueError("the path is empty")
    for part in path.split("."):
        if part.isdigit():
            steps.append(("index", int(part)))
            continue
        match = _PART.match(part)
        if not match or not match["name"].strip():
            raise ValueError(f"{part!r} is not a valid part of a path")
        steps.append(("key", match["name"]))
        if match["key"] is not None:
            steps.append(("match", (match["key"], match["value"])))
    return steps


def _pattern_property(node: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The schema of ``name`` under the node's patternProperties, if a pattern matches."""
    for pattern, sub in (node.get("patternProperties") or {}).items():
        try:
            if re.search(pattern, name):
                return sub if isinstance(sub, Mapping) else {}
        except re.error:
            continue
    return None


def resolve(schema: Mapping[str, Any] | None, path: str) -> Mapping[str, Any] | None:
    """The sub-schema a target path lands on, {} inside open objects, None if not in it."""
    if schema is None:
        return {}
    node: Mapping[str, Any] = schema
    for kind, value in parse_path(path):
        node_type = type_of(node)
        if kind == "key":
            props, _ = _object_parts(node)
            pattern = _pattern_property(node, value)
            if value in props:
                node = props[value] or {}
            elif pattern is not None:  # e.g. a flat contact's custom_field:<name> columns
                node = pattern
            elif not props and node_type in ("object", "any"):
                return {}  # an open object: anything goes below it
            elif node.get("additionalProperties") not in (None, False) and node_type == "object":
                extra = node["additionalProperties"]
                node = extra if isinstance(extra, Mapping) else {}
            else:
                return None
        else:
            if node_type not in ("array", "any"):
                return None
            node = node.get("items") or {}
    return node


def iter_leaf_paths(schema: Mapping[str, Any] | None) -> Iterator[SchemaField]:
    return (f for f in fields(schema) if f.leaf)
