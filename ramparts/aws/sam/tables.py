"""DynamoDB tables as the manifest's top-level ``tables:`` key schemas.

``AWS::DynamoDB::Table``'s ``KeySchema`` (HASH, RANGE) with the types from
``AttributeDefinitions``, and ``AWS::Serverless::SimpleTable``'s
``PrimaryKey`` (default ``id``, a string), become
``tables: {NAME: {partition_key: {name, type}, sort_key: {...}}}``.
Indexes, TTL and capacity settings have no equivalent and are reported.
"""

from __future__ import annotations

from typing import Any

from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.intrinsics import Resolver
from ramparts.aws.sam.resources import Resource

_SIMPLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}
_UNSUPPORTED = {
    "GlobalSecondaryIndexes": "secondary indexes have no equivalent",
    "LocalSecondaryIndexes": "secondary indexes have no equivalent",
    "TimeToLiveSpecification": "item expiry (TTL) has no equivalent",
    "ImportSourceSpecification": "table imports have no equivalent",
    "KinesisStreamSpecification": "Kinesis streams have no equivalent",
}


def table_schema(res: Resource, resolver: Resolver, notes: list[str]) -> dict[str, Any]:
    try:
        return _schema(res, resolver, notes)
    except (AttributeError, TypeError, KeyError) as exc:
        raise Unresolvable(f"Resources.{res.logical_id}.Properties: the key schema is malformed "
                           f"({exc.__class__.__name__})") from None


def _schema(res: Resource, resolver: Resolver, notes: list[str]) -> dict[str, Any]:
    where = f"Resources.{res.logical_id}"
    props = resolver.resolve(res.properties)
    if res.type == "AWS::Serverless::SimpleTable":
        pk = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind = _SIMPLE_TYPES.get(str(pk.get("Type", "String")))
        if kind is None or not pk.get("Name"):
            raise Unresolvable(f"{where}.Properties.PrimaryKey: needs Name and Type "
                               "(String, Number or Binary)")
        return {"partition_key": {"name": str(pk["Name"]), "type": kind}}
    types = {
        str(a.get("AttributeName")): str(a.get("AttributeType", "S"))
        for a in props.get("AttributeDefinitions") or []
        if isinstance(a, dict)
    }
    schema: dict[str, Any] = {}
    for key in props.get("KeySchema") or []:
        if not isinstance(key, dict):
            continue
        name = str(key.get("AttributeName", ""))
        slot = {"HASH": "partition_key", "RANGE": "sort_key"}.get(str(key.get("KeyType")))
        if not name or slot is None:
            raise Unresolvable(f"{where}.Properties.KeySchema: each key needs AttributeName "
                               "and KeyType HASH or RANGE")
        schema[slot] = {"name": name, "type": types.get(name, "S")}
    if "partition_key" not in schema:
        raise Unresolvable(f"{where}.Properties.KeySchema: no HASH key")
    for prop, why in _UNSUPPORTED.items():
        if prop in props:
            notes.append(f"{where}.{prop}: {why}")
    return schema
