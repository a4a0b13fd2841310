"""Auto-map: pair unmapped target fields with source fields of equal or similar names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from designer.transformations.schema import SchemaField

SIMILARITY = 0.82
# Target names (last part, normalised) -> source names that mean the same.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "address": ("email", "emailaddress", "mail", "e-mail"),
    "emailaddress": ("email", "mail"),
    "firstname": ("first", "givenname", "fname", "forename"),
    "lastname": ("last", "surname", "familyname", "lname"),
    "phonenumber": ("phone", "telephone", "tel", "mobile", "cell"),
    "street": ("street", "streetaddress", "address1", "addressline1"),
    "city": ("town",),
    "state": ("region", "province", "county"),
    "postalcode": ("zip", "zipcode", "postcode"),
    "country": ("countrycode",),
    "companyname": ("company", "organization", "organisation", "employer"),
    "jobtitle": ("title", "position"),
    "listmemberships": ("lists", "listids", "list"),
    "taggings": ("tags", "tagids", "tag"),
    "contactid": ("id", "contact"),
}


def normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _last(path: str) -> str:
    parts = [p for p in path.split(".") if not p.isdigit()]
    return parts[-1] if parts else path


def auto_map(
    rules: Sequence[Mapping[str, Any]],
    source: Sequence[SchemaField],
    target: Sequence[SchemaField],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rules plus new ones for unmapped target leaves; and the targets that were added."""
    out = [dict(r) for r in rules]
    mapped = {str(r.get("target")) for r in out}
    if not any(f.leaf for f in target):
        # An open target (a file without columns): carry every source field over as it is.
        added = [f.path for f in source if f.leaf and f.path not in mapped]
        out += [{"target": path, "kind": "path", "value": path} for path in added]
        return out, added
    used = {str(r.get("value")) for r in out if r.get("kind", "path") == "path"}
    sources = [f for f in source if f.leaf]
    added: list[str] = []
    for field in target:
        if (
            not field.leaf
            or field.path in mapped
            or any(m.startswith(field.path + ".") for m in mapped)
        ):
            continue
        best = _best(field, [s for s in sources if s.path not in used])
        if best is None:
            continue
        used.add(best.path)
        out.append(_rule(field, best))
        added.append(field.path)
    # List items whose fields were just mapped also need their required "kind" (home,
    # work, ...): the first one the schema suggests, as a constant the user can change.
    mapped = {str(r.get("target")) for r in out}
    for field in target:
        parent = field.path.rpartition(".")[0]
        if (
            field.leaf
            and field.required
            and field.name == "kind"
            and ".0" in field.path
            and field.path not in mapped
            and any(m.startswith(parent + ".") for m in mapped)
        ):
            out.append({"target": field.path, "kind": "constant", "value": "home"})
            added.append(field.path)
    return out, added


def _best(field: SchemaField, sources: Sequence[SchemaField]) -> SchemaField | None:
    full, last = normal(field.path), normal(_last(field.path))
    by_full = {normal(s.path): s for s in sources}
    by_last: dict[str, SchemaField] = {}
    for s in sources:
        by_last.setdefault(normal(_last(s.path)), s)
    if full in by_full:
        return by_full[full]
    parent = normal(field.path.split(".")[0])
    # "email_address.address": the parent's name is the better clue than "address".
    for name in (parent + last, parent, last) if parent != last else (last,):
        if name in by_full:
            return by_full[name]
    for name in (last, *SYNONYMS.get(last, ()), *SYNONYMS.get(parent, ())):
        if name in by_full:
            return by_full[name]
        if name in by_last:
            return by_last[name]
    close = difflib.get_close_matches(last, list(by_last), n=1, cutoff=SIMILARITY)
    return by_last[close[0]] if close else None


def _rule(field: SchemaField, source: SchemaField) -> dict[str, Any]:
    if field.type == "array" and field.item_type and source.type != "array":
        # A text column into a list (list ids, tags): split it on commas.
        ref = source.path if source.path.isidentifier() else f"record[{source.path!r}]"
        return {"target": field.path, "kind": "expression", "value": f"{ref} | split(',')"}
    return {"target": field.path, "kind": "path", "value": source.path}
