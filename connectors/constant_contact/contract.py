"""The official Constant Contact V3 contract (Swagger 2.0), loaded once and queried.

`load_contract()` parses the vendored YAML (cached in memory, and as JSON under
`var/cache/` keyed by the file's SHA-256 so later processes skip YAML parsing).
`find_operation()` maps a concrete request path to its path template and operation.
`validate_request()` lists, in plain words, every way a request breaks the contract.
`definition_schema()` returns a self-contained JSON Schema for a named definition.

The contract leaves a few things implicit; where we had to interpret, it is said here:

* Every GET operation with a `limit` parameter pages with `_links.next.href`, which
  carries a `cursor` query parameter the contract does not declare (its own
  description of GET /contact_tags shows `cursor=`). We accept `cursor` there.
* `format: csv` on a string parameter means a comma-separated list; `enum` applies to
  each item. `maximum` on a string parameter (e.g. `lists`: 25, `tags`: 50) is the
  largest number of comma-separated items, not a numeric bound.
* `x-*` keys, `readOnly` and `example` carry no validation meaning.
* Rules stated only in prose (enumerations, ranges, formats, mutually exclusive sources)
  and the `maxItems: 0` typos are applied at load by `contract_prose.amend`.
* Date-time parameters and properties need the full RFC 3339 form
  (`2026-01-31T09:30:00Z`, `...09:30:00.123+02:00`), as Constant Contact documents; a
  date alone or a time without its offset is refused.
* A `cursor` stands alone: it carries the query it continues, so nothing may go with it.
* Query parameters whose descriptions call them mutually exclusive are refused together.
* Formats checked: uuid, date-time, date, email, int32, int64. `formData` parameters
  (the one multipart CSV import) are checked only for their content type.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from connectors.constant_contact import contract_prose

CONTRACT_PATH = Path(__file__).resolve().parent / "schemas" / "constant-contact-v3-swagger.yaml"
BASE_PATH = "/v3"
_CACHE_DIR = Path(__file__).resolve().parents[2] / "var" / "cache"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Query parameters Constant Contact accepts on paged collections without declaring them.
_PAGING_PARAMS = ("cursor",)


# --------------------------------------------------------------------------- loading


def _cache_file(digest: str) -> Path:
    return _CACHE_DIR / f"constant-contact-v3-{digest[:16]}.json"


def _write_cache(target: Path, contract: dict) -> None:
    """Write atomically, so a concurrent reader never sees half a file; best effort."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(contract, fh, separators=(",", ":"))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; other local processes read it too
        os.replace(tmp, target)
    except OSError:
        pass


@functools.cache
def load_contract() -> dict:
    """The parsed contract. Treat it as read-only: it is shared by every caller."""
    raw = CONTRACT_PATH.read_bytes()
    cached = _cache_file(hashlib.sha256(raw).hexdigest())
    if cached.exists():
        try:
            return contract_prose.amend(json.loads(cached.read_text()))
        except (OSError, ValueError):
            pass  # corrupt or racing writer: fall back to the YAML
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    contract = yaml.load(raw, Loader=loader)
    _write_cache(cached, contract)  # as published; the amendments are applied on every load
    return contract_prose.amend(contract)


# --------------------------------------------------------------------------- paths


def strip_base_path(path: str) -> str:
    """`/v3/contacts?x=1` -> `/contacts`; paths without the base path pass through."""
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
        path = path[len(BASE_PATH) :] or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return path


@functools.cache
def _path_matchers() -> list[tuple[re.Pattern[str], str]]:
    """Templates as regexes, the most literal first so `/contacts/sign_up_form` wins
    over `/contacts/{contact_id}`."""
    matchers = []
    for template in load_contract()["paths"]:
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        literal = len(re.sub(r"\{[^/]+?\}", "", template))
        matchers.append((literal, re.compile(f"^{pattern}$"), template))
    matchers.sort(key=lambda m: -m[0])
    return [(regex, template) for _, regex, template in matchers]


def find_path_template(path: str) -> str | None:
    concrete = strip_base_path(path)
    for regex, template in _path_matchers():
        if regex.match(concrete):
            return template
    return None


def find_operation(method: str, path: str) -> tuple[str, dict] | None:
    """(path template, operation) for a concrete path, with or without `/v3`."""
    template = find_path_template(path)
    if template is None:
        return None
    operation = load_contract()["paths"][template].get(method.lower())
    if not isinstance(operation, dict):
        return None
    return template, operation


def path_params(template: str, path: str) -> dict[str, str]:
    """The values of a template's `{name}` segments in a concrete path."""
    names = re.findall(r"\{([^/]+?)\}", template)
    pattern = re.sub(r"\\{[^/]+?\\}", "([^/]+)", re.escape(template))
    match = re.match(f"^{pattern}$", strip_base_path(path))
    return dict(zip(names, match.groups(), strict=True)) if match else {}


def operation_parameters(template: str, operation: dict) -> list[dict]:
    """Path-level parameters overridden by the operation's own, as Swagger says."""
    merged: dict[tuple[str, str], dict] = {}
    for param in load_contract()["paths"][template].get("parameters", []):
        merged[(param["in"], param["name"])] = param
    for param in operation.get("parameters", []):
        merged[(param["in"], param["name"])] = param
    return list(merged.values())


def required_scopes(operation: dict) -> set[str]:
    """OAuth2 scopes the operation needs under the authorization-code flow."""
    for requirement in operation.get("security", []):
        if "oauth2_access_code" in requirement:
            return set(requirement["oauth2_access_code"])
    return set()


def allowed_methods(path: str) -> list[str]:
    template = find_path_template(path)
    if template is None:
        return []
    ops = load_contract()["paths"][template]
    return [m.upper() for m in _HTTP_METHODS if isinstance(ops.get(m), dict)]


# --------------------------------------------------------------------------- schemas


def _strip_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_extensions(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_strip_extensions(v) for v in node]
    return node


def _referenced_definitions(node: Any, found: set[str]) -> None:
    definitions = load_contract()["definitions"]
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref.removeprefix("#/definitions/")
                if name not in found:
                    found.add(name)
                    stack.append(definitions[name])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def bundle_schema(schema: dict) -> dict:
    """A copy of `schema` carrying every definition it reaches, so it stands alone."""
    names: set[str] = set()
    _referenced_definitions(schema, names)
    definitions = load_contract()["definitions"]
    bundled = _strip_extensions(copy.deepcopy(schema))
    bundled["$schema"] = "http://json-schema.org/draft-04/schema#"
    if names:
        bundled["definitions"] = {n: _strip_extensions(definitions[n]) for n in sorted(names)}
    return bundled


def definition_schema(name: str) -> dict:
    """Self-contained JSON Schema (draft 4) for `#/definitions/<name>`; KeyError if unknown.

    Internal `$ref`s stay as `#/definitions/X` and resolve within the returned dict.
    Returns a fresh copy each call, so callers may edit it.
    """
    definitions = load_contract()["definitions"]
    if name not in definitions:
        raise KeyError(f"unknown contract definition {name!r}")
    return bundle_schema(definitions[name])


def body_schema(method: str, path: str) -> dict | None:
    found = find_operation(method, path)
    if found is None:
        return None
    for param in operation_parameters(*found):
        if param["in"] == "body":
            return param.get("schema")
    return None


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The contract's schema for one response status (None when it declares none)."""
    found = find_operation(method, path)
    if found is None:
        return None
    response = found[1].get("responses", {}).get(str(status))
    return response.get("schema") if isinstance(response, dict) else None


# --------------------------------------------------------------------------- formats

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)


def is_uuid(value: str) -> bool:
    return bool(_UUID_RE.match(value))


def parse_datetime(value: str) -> datetime | None:
    """ISO-8601 date-time (or plain date, which Constant Contact also accepts), or None."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


def is_rfc3339(value: str) -> bool:
    """The full RFC 3339 date-time form Constant Contact requires (and a real moment)."""
    return bool(_RFC3339_RE.match(value)) and parse_datetime(value) is not None


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@_FORMAT_CHECKER.checks("uuid")
def _check_uuid(value: object) -> bool:
    return not isinstance(value, str) or is_uuid(value)


@_FORMAT_CHECKER.checks("date-time")
def _check_datetime(value: object) -> bool:
    return not isinstance(value, str) or is_rfc3339(value)


@_FORMAT_CHECKER.checks(contract_prose.ANNIVERSARY_FORMAT)
def _check_anniversary(value: object) -> bool:
    return not isinstance(value, str) or contract_prose.is_anniversary(value)


@_FORMAT_CHECKER.checks("date")
def _check_date(value: object) -> bool:
    return not isinstance(value, str) or _is_date(value)


@_FORMAT_CHECKER.checks("int32")
def _check_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@_FORMAT_CHECKER.checks("int64")
def _check_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@_FORMAT_CHECKER.checks("email")
def _check_email(value: object) -> bool:
    return not isinstance(value, str) or bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value))


@functools.cache
def _validator_for(method: str, template: str, where: str, key: str) -> jsonschema.Draft4Validator:
    """Validators are costly to build (they walk the definitions); build each once."""
    operation = load_contract()["paths"][template][method]
    if where == "body":
        schema = next(
            p["schema"] for p in operation_parameters(template, operation) if p["in"] == "body"
        )
    else:
        schema = operation["responses"][key]["schema"]
    return jsonschema.Draft4Validator(bundle_schema(schema), format_checker=_FORMAT_CHECKER)


def _schema_errors(validator: jsonschema.Draft4Validator, instance: Any, label: str) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors[:20]:  # a broken import row can yield thousands; keep it readable
        where = "/".join(str(p) for p in error.absolute_path)
        messages.append(f"{label}{'/' + where if where else ''}: {error.message}")
    if len(errors) > 20:
        messages.append(f"{label}: {len(errors) - 20} more schema errors")
    return messages


# --------------------------------------------------------------------------- parameters


def _values(query: Mapping[str, list[str] | str], name: str) -> list[str]:
    raw = query.get(name)
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def _check_scalar(param: dict, value: str, label: str) -> list[str]:
    kind = param.get("type", "string")
    fmt = param.get("format")
    if kind == "integer":
        try:
            number: float = int(value)
        except ValueError:
            return [f"{label}: {value!r} is not an integer"]
        return _check_bounds(param, number, label)
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return [f"{label}: {value!r} is not a number"]
        return _check_bounds(param, number, label)
    if kind == "boolean":
        if value not in ("true", "false"):
            return [f"{label}: {value!r} is not a boolean (true or false)"]
        return []
    problems = []
    if "enum" in param and value not in param["enum"]:
        allowed = ", ".join(str(v) for v in param["enum"])
        problems.append(f"{label}: {value!r} is not one of {allowed}")
    if fmt == "uuid" and not is_uuid(value):
        problems.append(f"{label}: {value!r} is not a UUID")
    elif fmt == "date-time" and not is_rfc3339(value):
        problems.append(
            f"{label}: {value!r} is not an RFC 3339 date-time (e.g. 2026-01-31T09:30:00Z)"
        )
    elif fmt == "date" and not _is_date(value):
        problems.append(f"{label}: {value!r} is not an ISO-8601 date")
    elif fmt in ("int32", "int64"):
        try:
            int(value)
        except ValueError:
            problems.append(f"{label}: {value!r} is not an integer")
    if "maxLength" in param and len(value) > param["maxLength"]:
        problems.append(f"{label}: longer than {param['maxLength']} characters")
    if "minLength" in param and len(value) < param["minLength"]:
        problems.append(f"{label}: shorter than {param['minLength']} characters")
    return problems


def _check_bounds(param: dict, number: float, label: str) -> list[str]:
    if "minimum" in param and number < param["minimum"]:
        return [f"{label}: {number:g} is less than the minimum of {param['minimum']}"]
    if "maximum" in param and number > param["maximum"]:
        return [f"{label}: {number:g} is greater than the maximum of {param['maximum']}"]
    return []


def _check_param(param: dict, values: list[str]) -> list[str]:
    name, where = param["name"], param["in"]
    label = f"{where} parameter {name!r}"
    kind = param.get("type", "string")
    if kind == "array":
        fmt = param.get("collectionFormat", "csv")
        if fmt == "multi":
            items = values
        else:
            if len(values) > 1:
                return [f"{label}: given {len(values)} times; send one {fmt} value"]
            separator = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}.get(fmt, ",")
            items = values[0].split(separator) if values else []
        item_param = {"name": name, "in": where, **param.get("items", {})}
        problems = [p for item in items for p in _check_scalar(item_param, item, label)]
        if "maxItems" in param and len(items) > param["maxItems"]:
            problems.append(f"{label}: more than {param['maxItems']} items")
        return problems
    if len(values) > 1 and param.get("collectionFormat") != "multi":
        return [f"{label}: given {len(values)} times; expected once"]
    value = values[0]
    if kind == "string" and (param.get("format") == "csv" or "maximum" in param):
        # A comma-separated list in a string parameter; see the module docstring.
        items = [item.strip() for item in value.split(",")]
        limit = param.get("maxItems", param.get("maximum"))
        problems = []
        if limit is not None and len(items) > limit:
            problems.append(f"{label}: more than {limit} comma-separated values")
        item_param = {k: v for k, v in param.items() if k not in ("format", "maximum", "maxItems")}
        if param.get("format") not in (None, "csv"):
            item_param["format"] = param["format"]
        for item in items:
            if not item:
                problems.append(f"{label}: empty value in comma-separated list")
                continue
            problems.extend(_check_scalar(item_param, item, label))
        return problems
    return _check_scalar(param, value, label)


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------- requests


def validate_request(
    method: str,
    path: str,
    query: Mapping[str, list[str] | str] | None = None,
    body: Any | None = None,
    content_type: str | None = None,
) -> list[str]:
    """Every way this request breaks the contract, as readable sentences; [] when valid.

    `path` may carry the `/v3` base path and may not carry a query string (pass `query`).
    `body` is the decoded JSON (None when there is none).
    """
    query = query or {}
    method_l = method.lower()
    template = find_path_template(path)
    if template is None:
        return [f"unknown path {strip_base_path(path)} (not in the Constant Contact V3 contract)"]
    operation = load_contract()["paths"][template].get(method_l)
    if not isinstance(operation, dict):
        allowed = ", ".join(allowed_methods(path)) or "none"
        return [f"method {method.upper()} is not allowed on {template} (allowed: {allowed})"]

    problems: list[str] = []
    params = operation_parameters(template, operation)
    declared_query = {p["name"]: p for p in params if p["in"] == "query"}
    paged = method_l == "get" and "limit" in declared_query

    if paged and _values(query, "cursor") and len(query) > 1:
        others = ", ".join(sorted(n for n in query if n != "cursor"))
        problems.append(f"a cursor stands alone: send it without other parameters ({others})")
    for name in query:
        if name not in declared_query and not (paged and name in _PAGING_PARAMS):
            known = ", ".join(sorted(declared_query)) or "none"
            problems.append(
                f"unknown query parameter {name!r} for {method.upper()} {template} (known: {known})"
            )

    concrete_path_params = path_params(template, path)
    for param in params:
        where = param["in"]
        if where == "query":
            values = _values(query, param["name"])
        elif where == "path":
            value = concrete_path_params.get(param["name"])
            values = [value] if value is not None else []
        else:
            continue
        if not values:
            if param.get("required"):
                problems.append(f"missing required {where} parameter {param['name']!r}")
            continue
        problems.extend(_check_param(param, values))

    for first, second in contract_prose.exclusive_query_params(params):
        if _values(query, first) and _values(query, second):
            problems.append(
                f"query parameters {first!r} and {second!r} are mutually exclusive; send one"
            )

    body_param = next((p for p in params if p["in"] == "body"), None)
    form_params = [p for p in params if p["in"] == "formData"]
    consumes = operation.get("consumes") or load_contract().get("consumes") or ["application/json"]
    media_type = _media_type(content_type)

    if body_param is not None:
        if body is None:
            if body_param.get("required"):
                problems.append("request body is required")
        else:
            if media_type not in consumes:
                accepted = " or ".join(consumes)
                problems.append(
                    f"content type {media_type or '(none)'} is not accepted; send {accepted}"
                )
            validator = _validator_for(method_l, template, "body", "")
            problems.extend(_schema_errors(validator, body, "body"))
    elif form_params:
        if media_type is not None and media_type not in consumes:
            problems.append(
                f"content type {media_type} is not accepted; send {' or '.join(consumes)}"
            )
    elif body not in (None, "", b""):
        problems.append(f"{method.upper()} {template} takes no request body")
    return problems


def validate_response(method: str, path: str, status: int, body: Any) -> list[str]:
    """Schema violations of a response body against the contract ([] when it declares none)."""
    found = find_operation(method, path)
    if found is None:
        return [f"unknown operation {method.upper()} {strip_base_path(path)}"]
    template, operation = found
    response = operation.get("responses", {}).get(str(status))
    if response is None:
        return [f"status {status} is not a documented response of {method.upper()} {template}"]
    if not isinstance(response, dict) or "schema" not in response:
        return []
    validator = _validator_for(method.lower(), template, "response", str(status))
    return _schema_errors(validator, body, "response")


def operations() -> Iterable[tuple[str, str, dict]]:
    """(METHOD, template, operation) for every operation in the contract."""
    for template, ops in load_contract()["paths"].items():
        for method in _HTTP_METHODS:
            if isinstance(ops.get(method), dict):
                yield method.upper(), template, ops[method]
