"""Rules the contract states only in prose (or gets wrong), made machine-checkable.

`amend(contract)` edits the parsed contract in place, right after it is loaded, so the
sandbox, the connector's local record checks and the tests' request re-validation all
enforce the same rules. Each rule cites the words it comes from; values are read from
the contract's own descriptions, so a changed description fails loudly here rather than
silently drifting (see connectors/constant_contact/README.md, "Contract corrections").

* `maxItems: 0` (six times) is a typo beside descriptions such as "up to 500": the limit
  is read from the description ("up to N"), else from the definition's name
  (`CustomFieldId100`), else dropped.
* Enumerations given in descriptions ("valid values are home, work, or other", "Types of
  permission: explicit, implicit, ...") become `enum`s.
* Ranges in prose (birthday month 1-12, day 1-31) become `minimum`/`maximum`.
* The anniversary formats listed in prose become the `cc-anniversary` format (a real date
  in one of MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D, YYYY-MM-DD, YYYY-M-D, M-D-YYYY,
  MM-DD-YYYY).
* Sources described as "mutually exclusive" must name exactly one property.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

ANNIVERSARY_FORMAT = "cc-anniversary"

# (definition, path of properties) whose description enumerates the allowed values.
PROSE_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("EmailAddressPost", ("permission_to_send",)),
    ("EmailAddressPut", ("permission_to_send",)),
    ("PhoneNumberPut", ("kind",)),
    ("StreetAddressPut", ("kind",)),
    ("ContactCreateOrUpdateInput", ("street_address", "kind")),
    ("ContactPostRequest", ("create_source",)),
    ("ContactPutRequest", ("update_source",)),
)
CONTACT_INPUTS = ("ContactPostRequest", "ContactPutRequest", "ContactCreateOrUpdateInput")
BIRTHDAY_RANGES = {"birthday_month": (1, 12), "birthday_day": (1, 31)}
# (definition, property) of a source object whose properties are mutually exclusive.
EXCLUSIVE_SOURCES = (
    ("ListActivityAddContacts", "source"),
    ("ListActivityRemoveContacts", "source"),
    ("TagAddRemoveContacts", "source"),
)

_ENUM_LEADS = re.compile(
    r"(?:valid values are|types of permission:|possible values:)\s*(?P<values>[^.]+)",
    re.IGNORECASE,
)
_UP_TO = re.compile(r"up to (?:a maximum of )?(\d[\d,]*)", re.IGNORECASE)
_NAME_LIMIT = re.compile(r"(\d+)(?:Limit)?$")
_ANNIVERSARY = re.compile(
    r"^(?:(\d{1,2})[/-](\d{1,2})[/-](\d{4})|(\d{4})([/-])(\d{1,2})\5(\d{1,2}))$"
)


def enumerated(description: str) -> list[str]:
    """The values a description enumerates ("valid values are a, b, or c." -> [a, b, c])."""
    match = _ENUM_LEADS.search(re.sub(r"</?code>", "", description))
    if match is None:
        raise ValueError(f"no enumeration in {description!r}")
    words = re.split(r",\s*|\s+or\s+|\s+and\s+", match["values"])
    return [w.strip().removeprefix("or ").strip() for w in words if w.strip()]


def is_anniversary(value: str) -> bool:
    """One of the contract's anniversary formats, and a real date."""
    match = _ANNIVERSARY.match(value)
    if match is None:
        return False
    if match[1]:
        month, day, year = int(match[1]), int(match[2]), int(match[3])
    else:
        year, month, day = int(match[4]), int(match[6]), int(match[7])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _property(definitions: dict[str, Any], name: str, path: tuple[str, ...]) -> dict[str, Any]:
    node = definitions[name]
    for key in path:
        node = node["properties"][key]
    return node


def _max_items_typos(node: Any, owner: str) -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(node, dict):
        if node.get("maxItems") == 0:
            yield node, owner
        for value in node.values():
            yield from _max_items_typos(value, owner)
    elif isinstance(node, list):
        for value in node:
            yield from _max_items_typos(value, owner)


def corrected_max_items(node: dict[str, Any], owner: str) -> int | None:
    """The limit a `maxItems: 0` meant: from its description, else its definition's name."""
    found = _UP_TO.search(node.get("description") or "")
    if found:
        return int(found[1].replace(",", ""))
    by_name = _NAME_LIMIT.search(owner)
    return int(by_name[1]) if by_name else None


def exclusive_query_params(params: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of an operation's query parameters its prose calls mutually exclusive: each
    parameter whose description says "mutually exclusive" and names another one."""
    names = [p["name"] for p in params if p.get("in") == "query"]
    pairs: set[tuple[str, str]] = set()
    for param in params:
        text = param.get("description") or ""
        if param.get("in") != "query" or "mutually exclusive" not in text.lower():
            continue
        for other in names:
            if other != param["name"] and re.search(rf"\b{re.escape(other)}\b", text):
                pairs.add(tuple(sorted((param["name"], other))))  # type: ignore[arg-type]
    return sorted(pairs)


def amend(contract: dict[str, Any]) -> dict[str, Any]:
    definitions = contract["definitions"]
    for name, definition in definitions.items():
        for node, owner in _max_items_typos(definition, name):
            limit = corrected_max_items(node, owner)
            if limit is None:
                del node["maxItems"]
            else:
                node["maxItems"] = limit
    for path_item in contract["paths"].values():  # none today; keep parameters honest too
        for node, _owner in _max_items_typos(path_item, ""):
            del node["maxItems"]
    for name, path in PROSE_ENUMS:
        prop = _property(definitions, name, path)
        prop["enum"] = enumerated(prop["description"])
    for name in CONTACT_INPUTS:
        properties = definitions[name]["properties"]
        for key, (low, high) in BIRTHDAY_RANGES.items():
            properties[key].update(minimum=low, maximum=high)
        properties["anniversary"]["format"] = ANNIVERSARY_FORMAT
    for name, key in EXCLUSIVE_SOURCES:
        _property(definitions, name, (key,)).update(minProperties=1, maxProperties=1)
    return contract
