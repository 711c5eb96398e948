"""DynamoDB (awsJson 1.0, ``X-Amz-Target: DynamoDB_20120810.<Op>``) over the KV tables.

Each call: parse and validate everything (keys, items, expressions) first,
then authorize every item it touches with the native action ``context.kv``
uses on the same resource (``kv:GetItem``/``kv:PutItem``/``kv:DeleteItem``
on ``table/KEY``, ``kv:Query`` on ``table/*`` for Query, Scan and
DescribeTable), then act.  Writes that depend on what is stored
(conditions, updates, transactions, batches) run inside one store
transaction holding the items' keys (``Broker.kv_transact``), so two
concurrent conditional writes cannot both win.

Tables are those the caller's own manifest names (``ramparts.tables.schemas``);
items and keys are stored as ``ramparts.tables.values``/``keys`` describe, so
``context.kv`` and table triggers see the same data.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

import ramparts.aws.dynamodb.evaluate as ev
from ramparts.aws.dynamodb.errors import ConditionFailed, DynamoError, ValidationError
from ramparts.aws.dynamodb.expressions import (
    And,
    Between,
    Compare,
    Function,
    Path,
    Placeholders,
    Value,
    parse_condition,
    parse_projection,
    parse_update,
)
from ramparts.aws.protocols import JSON_10
from ramparts.aws.service import AwsRequest, AwsResponse
from ramparts.errors import AccessDenied, BackendError, InvalidRequest, RampartsError
from ramparts.policy.document import resource_arn
from ramparts.tables.keys import KeySchema, sort_order
from ramparts.tables.schemas import AppTables, app_tables
from ramparts.tables.values import check_item, item_from_stored, item_size, item_to_stored

TARGET_PREFIX = "DynamoDB_20120810"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
MAX_ITEM_SIZE = 400 * 1024
MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_TRANSACT = 100
SCAN_CEILING = 1_000_000  # rows one Query or Scan page may read from the store
MANIFEST_OPS = {
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "UpdateTimeToLive",
    "CreateGlobalTable",
    "UpdateGlobalTable",
}

Item = dict[str, Any]
Ref = tuple[str, str]


class _Call:
    """One request's context: the caller's app and tables, the broker, the body."""

    def __init__(self, request: AwsRequest, broker: Any, body: dict[str, Any]) -> None:
        self.request = request
        self.broker = broker
        self.body = body
        self.spec = request.caller.spec
        self.app = self.spec.app
        self.tables: AppTables = app_tables(str(self.spec.code_dir))

    # tables and authorization
    def table(self, name: Any) -> tuple[str, KeySchema]:
        if isinstance(name, str) and name.startswith("arn:"):
            caller = self.request.caller
            prefix = f"arn:aws:dynamodb:{caller.region}:{caller.account}:table/"
            name = name[len(prefix) :] if name.startswith(prefix) else ""
        if not isinstance(name, str) or not name:
            raise ValidationError("1 validation error detected: TableName must not be empty")
        if not self.tables.exists(name):
            raise DynamoError(
                "ResourceNotFoundException",
                f"Requested resource not found: Table: {name} not found (tables are those "
                "the app's ramparts.yaml names)",
            )
        return name, self.tables.schema(name)

    def authorize(self, action: str, table: str, key: str) -> None:
        self.broker.authorize(
            self.spec,
            self.request.request_id,
            action,
            resource_arn(self.app, "kv", f"{table}/{key}"),
        )

    # the store
    async def load(self, table: str, schema: KeySchema, skey: str) -> Item | None:
        raw = await asyncio.to_thread(self.broker.store.kv_get, self.app, table, skey)
        return _typed(schema, skey, orjson.loads(raw)) if raw is not None else None

    async def rows(self, table: str, prefix: str) -> list[tuple[str, Any]]:
        found = await asyncio.to_thread(
            self.broker.store.kv_query, self.app, table, prefix, SCAN_CEILING
        )
        return [(k, orjson.loads(v)) for k, v in found]


def _typed(schema: KeySchema, skey: str, stored: Any) -> Item | None:
    key = schema.key_of(skey)
    if key is None:
        return None
    return {**item_from_stored(stored), **key}


# -- parameters ----------------------------------------------------------------------------------
def _opt_str(body: dict[str, Any], name: str) -> str | None:
    v = body.get(name)
    if v is not None and not isinstance(v, str):
        raise ValidationError(f"{name} must be a string")
    return v


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    v = body.get(name) or default
    if v not in allowed:
        raise ValidationError(
            f"1 validation error detected: Value '{v}' at '{name[0].lower() + name[1:]}' failed "
            f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return v


def _legacy(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) is not None:
            raise ValidationError(
                f"{name} is a legacy parameter Ramparts does not support; use the expression "
                "parameters (ConditionExpression, UpdateExpression, KeyConditionExpression...)"
            )


def _condition(body: dict[str, Any], ph: Placeholders, name: str = "ConditionExpression") -> Any:
    text = _opt_str(body, name)
    return parse_condition(text, ph, name) if text is not None else None


def _projection(body: dict[str, Any], ph: Placeholders) -> list[Path] | None:
    text = _opt_str(body, "ProjectionExpression")
    return parse_projection(text, ph) if text is not None else None


def _check_size(item: Item) -> None:
    if item_size(item) > MAX_ITEM_SIZE:
        raise ValidationError("Item size has exceeded the maximum allowed size")


def _fails_on(body: dict[str, Any]) -> bool:
    return (
        _enum(body, "ReturnValuesOnConditionCheckFailure", ("NONE", "ALL_OLD"), "NONE") == "ALL_OLD"
    )


def _checked(cond: Any, old: Item | None, return_old: bool) -> None:
    if cond is not None and not ev.condition(old, cond):
        raise ConditionFailed(old, return_item=return_old)


# -- the service ---------------------------------------------------------------------------------
class DynamoDB:
    name = "dynamodb"
    protocol = "json"

    def __init__(self) -> None:
        self._ops: dict[str, Callable[[_Call], Awaitable[dict[str, Any]]]] = {
            "GetItem": self.get_item,
            "PutItem": self.put_item,
            "UpdateItem": self.update_item,
            "DeleteItem": self.delete_item,
            "Query": self.query,
            "Scan": self.scan,
            "BatchGetItem": self.batch_get_item,
            "BatchWriteItem": self.batch_write_item,
            "TransactWriteItems": self.transact_write_items,
            "TransactGetItems": self.transact_get_items,
            "DescribeTable": self.describe_table,
        }

    async def handle(self, request: AwsRequest, broker: Any) -> AwsResponse:
        rid = request.request_id
        try:
            prefix, _, op = request.header("x-amz-target").partition(".")
            handler = self._ops.get(op) if prefix == TARGET_PREFIX else None
            if handler is None:
                raise _unknown(op)
            try:
                body = orjson.loads(request.body or b"{}")
            except orjson.JSONDecodeError:
                raise DynamoError(
                    "SerializationException", "the request body is not JSON"
                ) from None
            if not isinstance(body, dict):
                raise DynamoError("SerializationException", "the request body must be an object")
            result = await handler(_Call(request, broker, body))
            return AwsResponse(
                200,
                [("content-type", JSON_10), ("x-amzn-requestid", rid)],
                orjson.dumps(result),
            )
        except DynamoError as exc:
            return _error(exc.code, exc.message, rid, exc.status, exc.extra)
        except AccessDenied as exc:
            return _error("AccessDeniedException", _denied_message(request, exc), rid)
        except InvalidRequest as exc:
            return _error("ValidationException", str(exc) or "invalid request", rid)
        except BackendError:
            return _error("InternalServerError", "the state store failed", rid, 500)
        except RampartsError as exc:
            return _error("ValidationException", str(exc) or "invalid request", rid)

    # -- single items ----------------------------------------------------------------------------
    async def get_item(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "AttributesToGet")
        table, schema = call.table(body.get("TableName"))
        skey = schema.storage_key(body.get("Key"))
        ph = Placeholders.of(body)
        projection = _projection(body, ph)
        ph.check_all_used()
        call.authorize("kv:GetItem", table, skey)
        item = await call.load(table, schema, skey)
        if item is None:
            return {}
        return {"Item": ev.project(item, projection) if projection else item}

    async def put_item(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "Expected", "ConditionalOperator")
        table, schema = call.table(body.get("TableName"))
        item = check_item(body.get("Item"))
        skey = schema.storage_key(schema.key_from_item(item), exact=False)
        _check_size(item)
        ph = Placeholders.of(body)
        cond = _condition(body, ph)
        ph.check_all_used()
        returns = _enum(body, "ReturnValues", ("NONE", "ALL_OLD"), "NONE")
        return_old = _fails_on(body)
        call.authorize("kv:PutItem", table, skey)
        seen: dict[str, Item | None] = {}

        def decide(old: dict[Ref, Any]) -> dict[Ref, Any]:
            current = _stored_typed(schema, skey, old[(table, skey)])
            seen["old"] = current
            _checked(cond, current, return_old)
            return {(table, skey): item_to_stored(item)}

        await call.broker.kv_transact(call.app, [(table, skey)], decide)
        old = seen.get("old")
        return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}

    async def update_item(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "AttributeUpdates", "Expected", "ConditionalOperator")
        table, schema = call.table(body.get("TableName"))
        key = body.get("Key")
        skey = schema.storage_key(key)
        ph = Placeholders.of(body)
        text = _opt_str(body, "UpdateExpression")
        update = parse_update(text, ph) if text is not None else None
        cond = _condition(body, ph)
        ph.check_all_used()
        returns = _enum(
            body,
            "ReturnValues",
            ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
            "NONE",
        )
        return_old = _fails_on(body)
        if update is not None:
            for path in update.paths():
                if path.elements[0] in schema.names:
                    raise ValidationError(
                        "One or more parameter values were invalid: Cannot update attribute "
                        f"{path.elements[0]}. This attribute is part of the key"
                    )
        call.authorize("kv:PutItem", table, skey)
        seen: dict[str, Item | None] = {}

        def decide(old: dict[Ref, Any]) -> dict[Ref, Any]:
            current = _stored_typed(schema, skey, old[(table, skey)])
            _checked(cond, current, return_old)
            base = current if current is not None else copy.deepcopy(key)
            new = ev.apply_update(base, update) if update is not None else base
            check_item(new)  # nesting depth and set rules still hold after the update
            _check_size(new)
            seen["old"], seen["new"] = current, new
            return {(table, skey): item_to_stored(new)}

        await call.broker.kv_transact(call.app, [(table, skey)], decide)
        old, new = seen.get("old"), seen.get("new") or {}
        if returns == "ALL_OLD":
            return {"Attributes": old} if old else {}
        if returns == "ALL_NEW":
            return {"Attributes": new}
        if returns in ("UPDATED_OLD", "UPDATED_NEW"):
            names = ev.updated_attributes(update) if update is not None else set()
            source = (old or {}) if returns == "UPDATED_OLD" else new
            picked = {k: v for k, v in source.items() if k in names}
            return {"Attributes": picked} if picked else {}
        return {}

    async def delete_item(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "Expected", "ConditionalOperator")
        table, schema = call.table(body.get("TableName"))
        skey = schema.storage_key(body.get("Key"))
        ph = Placeholders.of(body)
        cond = _condition(body, ph)
        ph.check_all_used()
        returns = _enum(body, "ReturnValues", ("NONE", "ALL_OLD"), "NONE")
        return_old = _fails_on(body)
        call.authorize("kv:DeleteItem", table, skey)
        seen: dict[str, Item | None] = {}

        def decide(old: dict[Ref, Any]) -> dict[Ref, Any]:
            current = _stored_typed(schema, skey, old[(table, skey)])
            seen["old"] = current
            _checked(cond, current, return_old)
            return {(table, skey): None}

        await call.broker.kv_transact(call.app, [(table, skey)], decide)
        old = seen.get("old")
        return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}

    # -- reads of many items ---------------------------------------------------------------------
    async def query(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "KeyConditions", "QueryFilter", "AttributesToGet", "ConditionalOperator")
        table, schema = call.table(body.get("TableName"))
        if body.get("IndexName") is not None:
            raise ValidationError(
                "Ramparts tables have no secondary indexes; IndexName is not supported"
            )
        ph = Placeholders.of(body)
        text = _opt_str(body, "KeyConditionExpression")
        if text is None:
            raise ValidationError(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        pk_value, sk_cond = _key_condition(
            parse_condition(text, ph, "KeyConditionExpression"), schema
        )
        filt = _condition(body, ph, "FilterExpression")
        projection = _projection(body, ph)
        ph.check_all_used()
        select = _select(body, projection)
        limit = _limit(body)
        forward = body.get("ScanIndexForward", True) is not False
        start = body.get("ExclusiveStartKey")
        start_key = schema.storage_key(start) if start is not None else None
        call.authorize("kv:Query", table, "*")

        if schema.sort is None:
            skey = schema.storage_key({schema.partition.name: pk_value})
            found = await call.load(table, schema, skey)
            items = [found] if found is not None else []
        else:
            prefix = schema.partition_prefix(pk_value)
            items = []
            for k, v in await call.rows(table, prefix):
                typed = _typed(schema, k, v)
                if typed is not None and (sk_cond is None or ev.condition(typed, sk_cond)):
                    items.append(typed)
            items.sort(
                key=lambda it: sort_order(it[schema.sort.name]),  # type: ignore[union-attr]
                reverse=not forward,
            )
        if start_key is not None:
            if start and schema.sort is not None:
                if schema.partition_prefix(start.get(schema.partition.name)) != (
                    schema.partition_prefix(pk_value)
                ):
                    raise ValidationError("The provided starting key is invalid")
            keys = [schema.storage_key(schema.key_from_item(it)) for it in items]
            if start_key in keys:
                items = items[keys.index(start_key) + 1 :]
            elif schema.sort is not None:
                mark = sort_order(start[schema.sort.name])  # type: ignore[index]
                items = [
                    it
                    for it in items
                    if (sort_order(it[schema.sort.name]) > mark) == forward
                    and sort_order(it[schema.sort.name]) != mark
                ]
            else:
                items = []
        return _page(items, schema, filt, projection, select, limit)

    async def scan(self, call: _Call) -> dict[str, Any]:
        body = call.body
        _legacy(body, "ScanFilter", "AttributesToGet", "ConditionalOperator")
        table, schema = call.table(body.get("TableName"))
        if body.get("IndexName") is not None:
            raise ValidationError(
                "Ramparts tables have no secondary indexes; IndexName is not supported"
            )
        if body.get("Segment") is not None or body.get("TotalSegments") is not None:
            raise ValidationError("Parallel scans (Segment, TotalSegments) are not supported")
        ph = Placeholders.of(body)
        filt = _condition(body, ph, "FilterExpression")
        projection = _projection(body, ph)
        ph.check_all_used()
        select = _select(body, projection)
        limit = _limit(body)
        start = body.get("ExclusiveStartKey")
        start_key = schema.storage_key(start) if start is not None else None
        call.authorize("kv:Query", table, "*")
        rows = sorted(await call.rows(table, ""), key=lambda r: r[0])
        items = []
        for k, v in rows:
            if start_key is not None and k <= start_key:
                continue
            typed = _typed(schema, k, v)
            if typed is not None:
                items.append(typed)
        return _page(items, schema, filt, projection, select, limit)

    async def batch_get_item(self, call: _Call) -> dict[str, Any]:
        requests = call.body.get("RequestItems")
        if not isinstance(requests, dict) or not requests:
            raise ValidationError("RequestItems must name at least one table")
        plan = []
        total = 0
        for name, spec in requests.items():
            if not isinstance(spec, dict):
                raise ValidationError("Each RequestItems entry must be an object")
            _legacy(spec, "AttributesToGet")
            table, schema = call.table(name)
            keys = spec.get("Keys")
            if not isinstance(keys, list) or not keys:
                raise ValidationError("Keys must be a non-empty list")
            total += len(keys)
            ph = Placeholders.of(spec)
            projection = _projection(spec, ph)
            ph.check_all_used()
            skeys = [schema.storage_key(k) for k in keys]
            if len(set(skeys)) != len(skeys):
                raise ValidationError("Provided list of item keys contains duplicates")
            plan.append((table, schema, skeys, projection))
        if total > MAX_BATCH_GET:
            raise ValidationError(
                "Too many items requested for the BatchGetItem call (at most 100 keys)"
            )
        for table, _, skeys, _ in plan:
            for skey in skeys:
                call.authorize("kv:GetItem", table, skey)
        responses: dict[str, list[Item]] = {}
        for table, schema, skeys, projection in plan:
            out = responses.setdefault(table, [])
            for skey in skeys:
                item = await call.load(table, schema, skey)
                if item is not None:
                    out.append(ev.project(item, projection) if projection else item)
        return {"Responses": responses, "UnprocessedKeys": {}}

    async def transact_get_items(self, call: _Call) -> dict[str, Any]:
        entries = call.body.get("TransactItems")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_TRANSACT:
            raise ValidationError("TransactItems must hold 1 to 100 entries")
        plan = []
        for entry in entries:
            get = entry.get("Get") if isinstance(entry, dict) else None
            if not isinstance(get, dict):
                raise ValidationError("Each TransactItems entry of TransactGetItems is a Get")
            table, schema = call.table(get.get("TableName"))
            skey = schema.storage_key(get.get("Key"))
            ph = Placeholders.of(get)
            projection = _projection(get, ph)
            ph.check_all_used()
            plan.append((table, schema, skey, projection))
        for table, _, skey, _ in plan:
            call.authorize("kv:GetItem", table, skey)
        out = []
        for table, schema, skey, projection in plan:
            item = await call.load(table, schema, skey)
            if item is None:
                out.append({})
            else:
                out.append({"Item": ev.project(item, projection) if projection else item})
        return {"Responses": out}

    # -- writes of many items --------------------------------------------------------------------
    async def batch_write_item(self, call: _Call) -> dict[str, Any]:
        requests = call.body.get("RequestItems")
        if not isinstance(requests, dict) or not requests:
            raise ValidationError("RequestItems must name at least one table")
        writes: dict[Ref, Any] = {}
        actions: list[tuple[str, str, str]] = []
        for name, entries in requests.items():
            table, schema = call.table(name)
            if not isinstance(entries, list) or not entries:
                raise ValidationError("Each table's write requests must be a non-empty list")
            for entry in entries:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise ValidationError(
                        "Each write request holds exactly one PutRequest or DeleteRequest"
                    )
                if "PutRequest" in entry:
                    item = check_item((entry["PutRequest"] or {}).get("Item"))
                    _check_size(item)
                    skey = schema.storage_key(schema.key_from_item(item), exact=False)
                    value: Any = item_to_stored(item)
                    action = "kv:PutItem"
                elif "DeleteRequest" in entry:
                    skey = schema.storage_key((entry["DeleteRequest"] or {}).get("Key"))
                    value = None
                    action = "kv:DeleteItem"
                else:
                    raise ValidationError("A write request is a PutRequest or a DeleteRequest")
                if (table, skey) in writes:
                    raise ValidationError("Provided list of item keys contains duplicates")
                writes[(table, skey)] = value
                actions.append((action, table, skey))
        if len(writes) > MAX_BATCH_WRITE:
            raise ValidationError(
                "Too many items requested for the BatchWriteItem call (at most 25)"
            )
        for action, table, skey in actions:
            call.authorize(action, table, skey)
        await call.broker.kv_transact(call.app, list(writes), lambda _old: dict(writes))
        return {"UnprocessedItems": {}}

    async def transact_write_items(self, call: _Call) -> dict[str, Any]:
        entries = call.body.get("TransactItems")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_TRANSACT:
            raise ValidationError("TransactItems must hold 1 to 100 entries")
        plan: list[dict[str, Any]] = []
        for entry in entries:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValidationError(
                    "Each TransactItems entry holds exactly one of Put, Update, Delete, "
                    "ConditionCheck"
                )
            ((kind, spec),) = entry.items()
            if kind not in ("Put", "Update", "Delete", "ConditionCheck") or not isinstance(
                spec, dict
            ):
                raise ValidationError(f"Unknown TransactItems entry {kind!r}")
            table, schema = call.table(spec.get("TableName"))
            ph = Placeholders.of(spec)
            step: dict[str, Any] = {"kind": kind, "table": table, "schema": schema}
            if kind == "Put":
                item = check_item(spec.get("Item"))
                _check_size(item)
                step["item"] = item
                step["skey"] = schema.storage_key(schema.key_from_item(item), exact=False)
                action = "kv:PutItem"
            else:
                step["key"] = spec.get("Key")
                step["skey"] = schema.storage_key(spec.get("Key"))
                action = {
                    "Update": "kv:PutItem",
                    "Delete": "kv:DeleteItem",
                    "ConditionCheck": "kv:GetItem",
                }[kind]
            if kind == "Update":
                text = _opt_str(spec, "UpdateExpression")
                if text is None:
                    raise ValidationError("An Update in a transaction needs an UpdateExpression")
                step["update"] = parse_update(text, ph)
                for path in step["update"].paths():
                    if path.elements[0] in schema.names:
                        raise ValidationError(
                            "One or more parameter values were invalid: Cannot update "
                            f"attribute {path.elements[0]}. This attribute is part of the key"
                        )
            step["cond"] = _condition(spec, ph)
            if kind == "ConditionCheck" and step["cond"] is None:
                raise ValidationError("A ConditionCheck needs a ConditionExpression")
            ph.check_all_used()
            step["return_old"] = _fails_on(spec)
            step["action"] = action
            plan.append(step)
        refs = [(s["table"], s["skey"]) for s in plan]
        if len(set(refs)) != len(refs):
            raise ValidationError(
                "Transaction request cannot include multiple operations on one item"
            )
        for s in plan:
            call.authorize(s["action"], s["table"], s["skey"])

        def decide(old: dict[Ref, Any]) -> dict[Ref, Any]:
            reasons: list[dict[str, Any]] = []
            out: dict[Ref, Any] = {}
            failed = False
            for s in plan:
                ref = (s["table"], s["skey"])
                current = _stored_typed(s["schema"], s["skey"], old[ref])
                if s["cond"] is not None and not ev.condition(current, s["cond"]):
                    failed = True
                    reason: dict[str, Any] = {
                        "Code": "ConditionalCheckFailed",
                        "Message": "The conditional request failed",
                    }
                    if s["return_old"] and current is not None:
                        reason["Item"] = current
                    reasons.append(reason)
                    continue
                reasons.append({"Code": "None"})
                if s["kind"] == "Put":
                    out[ref] = item_to_stored(s["item"])
                elif s["kind"] == "Delete":
                    out[ref] = None
                elif s["kind"] == "Update":
                    base = current if current is not None else copy.deepcopy(s["key"])
                    new = ev.apply_update(base, s["update"])
                    check_item(new)
                    _check_size(new)
                    out[ref] = item_to_stored(new)
            if failed:
                codes = ", ".join(r["Code"] for r in reasons)
                raise DynamoError(
                    "TransactionCanceledException",
                    f"Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    CancellationReasons=reasons,
                )
            return out

        await call.broker.kv_transact(call.app, refs, decide)
        return {}

    # -- tables ----------------------------------------------------------------------------------
    async def describe_table(self, call: _Call) -> dict[str, Any]:
        table, schema = call.table(call.body.get("TableName"))
        call.authorize("kv:Query", table, "*")
        rows = await call.rows(table, "")
        key_schema, definitions = schema.describe()
        caller = call.request.caller
        return {
            "Table": {
                "TableName": table,
                "KeySchema": key_schema,
                "AttributeDefinitions": definitions,
                "TableStatus": "ACTIVE",
                "TableArn": f"arn:aws:dynamodb:{caller.region}:{caller.account}:table/{table}",
                "ItemCount": len(rows),
                "TableSizeBytes": sum(len(orjson.dumps(v)) for _, v in rows),
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "ProvisionedThroughput": {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": 0,
                    "WriteCapacityUnits": 0,
                },
            }
        }


# -- helpers -------------------------------------------------------------------------------------
def _stored_typed(schema: KeySchema, skey: str, stored: Any) -> Item | None:
    return _typed(schema, skey, stored) if stored is not None else None


def _select(body: dict[str, Any], projection: list[Path] | None) -> str:
    select = _enum(
        body,
        "Select",
        ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"),
        "SPECIFIC_ATTRIBUTES" if projection else "ALL_ATTRIBUTES",
    )
    if select == "ALL_PROJECTED_ATTRIBUTES":
        raise ValidationError("ALL_PROJECTED_ATTRIBUTES can be used only when Querying an index")
    if projection and select not in ("SPECIFIC_ATTRIBUTES",):
        raise ValidationError(
            f"Cannot specify the ProjectionExpression when choosing to get {select}"
        )
    return select


def _limit(body: dict[str, Any]) -> int | None:
    limit = body.get("Limit")
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValidationError(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member "
            "must have value greater than or equal to 1"
        )
    return limit


def _page(
    items: list[Item],
    schema: KeySchema,
    filt: Any,
    projection: list[Path] | None,
    select: str,
    limit: int | None,
) -> dict[str, Any]:
    """Limit counts items read (before the filter), as DynamoDB's does."""
    evaluated = items if limit is None else items[:limit]
    matched = [it for it in evaluated if filt is None or ev.condition(it, filt)]
    out: dict[str, Any] = {"Count": len(matched), "ScannedCount": len(evaluated)}
    if select != "COUNT":
        out["Items"] = [ev.project(it, projection) if projection else it for it in matched]
    if limit is not None and len(items) > limit:
        out["LastEvaluatedKey"] = schema.key_from_item(evaluated[-1])
    return out


def _key_condition(tree: Any, schema: KeySchema) -> tuple[dict[str, Any], Any]:
    """(partition value, sort-key condition or None) of a KeyConditionExpression."""
    parts = [tree.left, tree.right] if isinstance(tree, And) else [tree]
    if isinstance(tree, And) and (isinstance(tree.left, And) or isinstance(tree.right, And)):
        raise ValidationError("Invalid KeyConditionExpression: Query key condition not supported")
    pk_value: dict[str, Any] | None = None
    sk_cond: Any = None
    for part in parts:
        name = _key_attribute(part)
        if name == schema.partition.name:
            if not (isinstance(part, Compare) and part.op == "=" and isinstance(part.right, Value)):
                raise ValidationError(
                    "Query key condition not supported: the partition key needs an equality "
                    "condition"
                )
            pk_value = part.right.av
        elif schema.sort is not None and name == schema.sort.name:
            if sk_cond is not None:
                raise ValidationError("Query key condition not supported")
            if isinstance(part, Between) and ev.compare(">", part.low.av, part.high.av):
                raise ValidationError(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                    "to be greater than or equal to lower bound"
                )
            schema.sort.text(_key_condition_value(part))  # type-checks the value
            sk_cond = part
        else:
            raise ValidationError(
                f"Query condition missed key schema element: {schema.partition.name}"
                if name is None or pk_value is None
                else f"Query key condition not supported: {name} is not a key attribute"
            )
    if pk_value is None:
        raise ValidationError(f"Query condition missed key schema element: {schema.partition.name}")
    schema.partition.text(pk_value)
    return pk_value, sk_cond


def _key_attribute(part: Any) -> str | None:
    if isinstance(part, Compare) and part.op != "<>":
        node = part.left
    elif isinstance(part, Between):
        node = part.operand
    elif isinstance(part, Function) and part.name == "begins_with":
        node = part.args[0]
    else:
        raise ValidationError("Invalid KeyConditionExpression: Query key condition not supported")
    if not isinstance(node, Path) or len(node.elements) != 1:
        raise ValidationError("Invalid KeyConditionExpression: Query key condition not supported")
    values = (
        [part.right]
        if isinstance(part, Compare)
        else [part.low, part.high]
        if isinstance(part, Between)
        else [part.args[1]]
    )
    if not all(isinstance(v, Value) for v in values):
        raise ValidationError("Invalid KeyConditionExpression: Query key condition not supported")
    return str(node.elements[0])


def _key_condition_value(part: Any) -> dict[str, Any]:
    if isinstance(part, Compare):
        return part.right.av
    if isinstance(part, Between):
        return part.low.av
    return part.args[1].av


def _unknown(op: str) -> DynamoError:
    if op in MANIFEST_OPS:
        return DynamoError(
            "UnsupportedOperation",
            f"DynamoDB operation {op} is not supported by Ramparts: tables and their key "
            "schemas come from the app's ramparts.yaml (tables:), not from API calls",
        )
    return DynamoError(
        "UnknownOperationException",
        f"DynamoDB operation {op or '(none)'} is not supported by Ramparts",
    )


def _denied_message(request: AwsRequest, exc: AccessDenied) -> str:
    spec = request.caller.spec
    return (
        f"User: function:{spec.function} is not authorized to perform this action "
        f"({exc}) because no identity-based policy allows it"
    )


def _error(
    code: str, message: str, rid: str, status: int = 400, extra: dict[str, Any] | None = None
) -> AwsResponse:
    body = {"__type": ERROR_PREFIX + code, "message": message, **(extra or {})}
    if code == "TransactionCanceledException":
        body["Message"] = message
    return AwsResponse(
        status,
        [
            ("content-type", JSON_10),
            ("x-amzn-requestid", rid),
            ("x-amzn-query-error", f"{code};Sender"),
        ],
        orjson.dumps(body),
    )
