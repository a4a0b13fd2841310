"""Check an import document before anything is created: parse it, bound its depth, and validate
it against the JSON Schema that docs/EXPORT_FORMAT.md documents.

Every problem is a ``ProjectImportError`` whose message starts with the path of the bad field
(``operations[0].position.x: must be an integer``), so the page, the command and the API all
answer with it instead of a traceback.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).with_name("project_export.schema.json")
MAX_DEPTH = 64  # nesting levels anywhere in the document (configs are free-form)
_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


class ProjectImportError(ValueError):
    """The document can't be imported; the message says what is wrong and where."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def parse_document(data: bytes | str) -> Any:
    """JSON text -> document; ProjectImportError("file: ...") when it is not JSON."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectImportError(f"file: not valid JSON ({error})") from None
    except RecursionError:
        raise ProjectImportError(f"file: nested too deeply (over {MAX_DEPTH} levels)") from None


def path_of(parts: Any) -> str:
    """("operations", 0, "position", "x") -> "operations[0].position.x"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "file"


def check_depth(document: Any) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, naming where (without recursion)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        value, parts = stack.pop()
        if len(parts) > MAX_DEPTH:
            raise ProjectImportError(
                f"{path_of(parts[: MAX_DEPTH + 1])}: nested deeper than {MAX_DEPTH} levels"
            )
        if isinstance(value, dict):
            stack.extend((item, (*parts, key)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*parts, index)) for index, item in enumerate(value))


def _message(error: ValidationError) -> str:
    where = path_of(error.absolute_path)
    kind = error.validator
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        return f"{where}: must be {' or '.join(_TYPE_NAMES.get(n, n) for n in names)}"
    if kind == "required":
        missing = next((k for k in error.validator_value if k not in error.instance), "?")
        return f"{where}: missing “{missing}”"
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{where}: must be one of {allowed}"
    if kind == "minLength":
        return f"{where}: must not be empty"
    if kind == "maxLength":
        return f"{where}: longer than {error.validator_value} characters"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where}: must be {bound} {error.validator_value}"
    if kind == "pattern":
        return f"{where}: is not a valid name"
    return f"{where}: {error.message[:200]}"


def validate_document(document: Any) -> None:
    """ProjectImportError naming the first bad field, or None when the shape is right."""
    check_depth(document)
    errors = list(_validator().iter_errors(document))
    if errors:
        # The deepest error names the actual field; at one depth, the field's own type first.
        error = max(errors, key=lambda e: (len(e.absolute_path), e.validator == "type"))
        raise ProjectImportError(_message(error))
