"""JSON Schema as a tree for step 2 of the activity wizard (types, required marks, help)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import strip_tags

MAX_DEPTH = 12  # recursive schemas (a contact's "parent") stop here


@dataclass
class SchemaNode:
    name: str
    type: str
    required: bool = False
    description: str = ""
    children: list[SchemaNode] = field(default_factory=list)
    extra: str = ""  # enum values, format, limits

    @property
    def description_parts(self) -> list[tuple[str, bool]]:
        """The description as (text, is_code) runs: contracts write <code>name</code>."""
        return description_parts(self.description)


_CODE = re.compile(r"<code>(.*?)</code>", re.S | re.I)


def _plain(text: str) -> str:
    return html.unescape(strip_tags(text))


def description_parts(text: str) -> list[tuple[str, bool]]:
    """Plain text runs and code runs of a description that may hold HTML; no markup kept."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for match in _CODE.finditer(text):
        parts.append((_plain(text[pos : match.start()]), False))
        parts.append((_plain(match.group(1)), True))
        pos = match.end()
    parts.append((_plain(text[pos:]), False))
    return [(part, code) for part, code in parts if part]


def _resolve(schema: dict[str, Any], root: dict[str, Any], seen: tuple[str, ...]) -> tuple:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
        return schema, seen
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if target else {}
    merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return merged, (*seen, ref)


def _type_name(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " | ".join(str(k) for k in kind)
    if kind == "array":
        items = schema.get("items") or {}
        inner = items.get("type") if isinstance(items, dict) else None
        return f"array of {inner}" if inner else "array"
    if not kind:
        for combo in ("oneOf", "anyOf", "allOf"):
            if combo in schema:
                return combo
        return "object" if "properties" in schema else "any"
    return str(kind)


def _extra(schema: dict[str, Any]) -> str:
    bits = []
    if "enum" in schema:
        bits.append("one of " + ", ".join(str(v) for v in schema["enum"][:12]))
    if "format" in schema:
        bits.append(str(schema["format"]))
    if "maxLength" in schema:
        bits.append(f"max {schema['maxLength']} chars")
    if "maxItems" in schema:
        bits.append(f"max {schema['maxItems']} items")
    return "; ".join(bits)


def schema_tree(
    schema: dict[str, Any] | None,
    *,
    name: str = "record",
    required: bool = False,
    root: dict[str, Any] | None = None,
    depth: int = 0,
    seen: tuple[str, ...] = (),
) -> SchemaNode | None:
    if not schema:
        return None
    root = root if root is not None else schema
    schema, seen = _resolve(schema, root, seen)
    node = SchemaNode(
        name=name,
        type=_type_name(schema),
        required=required,
        description=str(schema.get("description") or schema.get("title") or ""),
        extra=_extra(schema),
    )
    if depth >= MAX_DEPTH:
        return node
    properties = schema.get("properties")
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        items, _ = _resolve(schema["items"], root, seen)
        properties = items.get("properties")
        required_names = set(items.get("required") or ())
    else:
        required_names = set(schema.get("required") or ())
    for key, child in (properties or {}).items():
        if isinstance(child, dict):
            sub = schema_tree(
                child,
                name=key,
                required=key in required_names,
                root=root,
                depth=depth + 1,
                seen=seen,
            )
            if sub is not None:
                node.children.append(sub)
    for combo in ("oneOf", "anyOf", "allOf"):
        for index, option in enumerate(schema.get(combo) or ()):
            if isinstance(option, dict):
                sub = schema_tree(
                    option, name=f"option {index + 1}", root=root, depth=depth + 1, seen=seen
                )
                if sub is not None:
                    node.children.append(sub)
    return node
