"""Table-change stream records for tables with a declared key schema.

A trigger on a table declared under ``tables:`` receives DynamoDB Streams
records whose ``Keys`` are the item's real key attributes (``pk``/``sk`` with
their declared types) and whose ``NewImage``/``OldImage`` are the stored
items in DynamoDB's typed JSON (``ramparts.tables.values``: exact numbers,
binary, sets), whichever API wrote them.  Tables without a schema keep the
issue-12 shape (a single ``key`` string attribute).
"""

from __future__ import annotations

from typing import Any

from ramparts.events import shapes
from ramparts.tables.keys import KeySchema
from ramparts.tables.values import item_from_stored, item_size


def typed_images(
    schema: KeySchema, key: str, image: Any
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(Keys, typed image) of one stored item; the key attributes always present."""
    keys = schema.key_of(key) or {schema.partition.name: {"S": key}}
    if image is None:
        return keys, None
    return keys, {**item_from_stored(image), **keys}


def record(
    schema: KeySchema,
    *,
    event_name: shapes.DynamoDBEventName,
    table: str,
    key: str,
    new: Any,
    old: Any,
    sequence_number: str,
    app: str,
    time: float,
    event_id: str,
    region: str = shapes.DEFAULT_REGION,
) -> dict[str, Any]:
    out = shapes.dynamodb_record(
        event_name=event_name,
        table=table,
        key=key,
        new_image={} if new is not None else None,
        old_image={} if old is not None else None,
        sequence_number=sequence_number,
        app=app,
        time=time,
        event_id=event_id,
        key_attribute=schema.partition.name,
        region=region,
    )
    stream = out["dynamodb"]
    keys, new_image = typed_images(schema, key, new)
    _, old_image = typed_images(schema, key, old)
    stream["Keys"] = keys
    size = item_size(keys)
    for name, image in (("NewImage", new_image), ("OldImage", old_image)):
        if image is not None:
            stream[name] = image
            size += item_size(image)
    stream["SizeBytes"] = size
    return out
