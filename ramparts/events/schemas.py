"""JSON Schema validation of topic messages, per subscribing trigger.

A topic trigger's ``schema:`` names a JSON Schema file in the app.  Each
message is checked against it when it is delivered to that trigger's function,
before the handler runs: a message that does not match is dead-lettered at
once with the validation error (no retries: it would fail the same way), and
the handler never sees it.  Validation uses fastjsonschema, as the gateway
does for ``http`` triggers.

Fail closed: a schema file that cannot be read or compiled fails every message
for that trigger rather than letting them through unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

Validator = Callable[[Any], Any]

_MAX_ERROR_CHARS = 300


class SchemaUnavailable:
    """Stands in for a schema that could not be loaded: every message fails."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def __call__(self, value: Any) -> Any:
        raise fastjsonschema.JsonSchemaException(
            f"schema {self.schema!r} could not be loaded; messages are refused until it is fixed"
        )


def load_validator(code_dir: Path, schema: str) -> Validator:
    """Compile the trigger's schema file, or a validator that refuses everything."""
    try:
        root = Path(code_dir).resolve()
        path = (root / schema).resolve()
        if not path.is_relative_to(root):
            return SchemaUnavailable(schema)
        return fastjsonschema.compile(orjson.loads(path.read_bytes()))  # type: ignore[no-any-return]
    except (OSError, ValueError, fastjsonschema.JsonSchemaDefinitionException):
        return SchemaUnavailable(schema)


def message_value(data: Any) -> Any:
    """The value a topic message carries: its JSON if it is JSON text, else the string."""
    if isinstance(data, str):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
    return data


def schema_error(validator: Validator, data: Any) -> str | None:
    """Why ``data`` does not match, or None when it does."""
    try:
        validator(message_value(data))
    except fastjsonschema.JsonSchemaException as exc:
        reason = str(getattr(exc, "message", "") or exc) or "the message does not match"
        return f"schema validation failed: {reason}"[:_MAX_ERROR_CHARS]
    except Exception:  # a validator that cannot run refuses, never lets through
        return "schema validation failed: the schema could not be applied"
    return None
