"""A table's key schema, and the KV store key each DynamoDB primary key is kept under.

Mapping (one string per item, unique per primary key):

* a table without a ``tables:`` entry has the single string attribute
  ``key``: the KV key is that string, unchanged;
* a table with only a partition key: the KV key is the partition value as
  text (S as is, N in canonical form -- ``1``, ``1.0`` and ``1e0`` are one
  key as in DynamoDB --, B as standard base64);
* a table with a sort key: ``P|S`` where P and S are those texts with ``\\``
  written ``\\\\`` and ``|`` written ``\\|``; the first unescaped ``|``
  separates them, so two different keys never share a KV key and all items
  of one partition share the prefix ``P|``.

So ``context.kv.get("orders", "alice|2024-01")`` reads the item DynamoDB
addresses as ``{"pk": "alice", "sk": "2024-01"}``.  KV keys are at most 1024
characters without control characters; a key value outside that is a
``ValidationException``.  Query orders a partition's items by the sort key's
typed value (numbers numerically, strings and binary by bytes), not by the
KV key's text.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from ramparts.tables.errors import InvalidItem
from ramparts.tables.numbers import format_number, number

DEFAULT_KEY = "key"
_KEY_RE = re.compile(
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]{1,1024}$"
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _split(key: str) -> tuple[str, str] | None:
    """``P|S`` -> (unescaped P, unescaped S); None when there is no separator."""
    out: list[str] = []
    i = 0
    while i < len(key):
        ch = key[i]
        if ch == "\\" and i + 1 < len(key):
            out.append(key[i + 1])
            i += 2
            continue
        if ch == "|":
            rest = key[i + 1 :]
            sk: list[str] = []
            j = 0
            while j < len(rest):
                if rest[j] == "\\" and j + 1 < len(rest):
                    sk.append(rest[j + 1])
                    j += 2
                else:
                    sk.append(rest[j])
                    j += 1
            return "".join(out), "".join(sk)
        out.append(ch)
        i += 1
    return None


@dataclass(frozen=True)
class KeyAttr:
    name: str
    type: str  # S, N or B

    def text(self, av: Any) -> str:
        """The key value as text (validated against the declared type)."""
        if not isinstance(av, dict) or len(av) != 1 or self.type not in av:
            raise InvalidItem(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{self.name} expected: {self.type} actual: "
                f"{next(iter(av)) if isinstance(av, dict) and av else '?'}"
            )
        v = av[self.type]
        if self.type == "S":
            if not isinstance(v, str) or v == "":
                raise InvalidItem(
                    "One or more parameter values are not valid. The AttributeValue for a key "
                    "attribute cannot contain an empty string value. Key: " + self.name
                )
            return v
        if self.type == "N":
            return format_number(number(v))
        try:
            raw = base64.b64decode(v, validate=True)
        except (ValueError, TypeError):
            raise InvalidItem(f"Invalid binary value for key {self.name}") from None
        if not raw:
            raise InvalidItem(
                "One or more parameter values are not valid. The AttributeValue for a key "
                "attribute cannot contain an empty binary value. Key: " + self.name
            )
        return base64.b64encode(raw).decode()

    def value(self, text: str) -> dict[str, Any]:
        return {self.type: text}


@dataclass(frozen=True)
class KeySchema:
    partition: KeyAttr
    sort: KeyAttr | None = None
    declared: bool = False  # from a ``tables:`` entry (False: the default single ``key``)

    @classmethod
    def default(cls) -> KeySchema:
        return cls(KeyAttr(DEFAULT_KEY, "S"))

    @classmethod
    def from_manifest(cls, schema: Any) -> KeySchema:
        """From a ``ramparts.manifest.TableSchema``."""
        sort = schema.sort_key
        return cls(
            KeyAttr(schema.partition_key.name, schema.partition_key.type),
            KeyAttr(sort.name, sort.type) if sort is not None else None,
            True,
        )

    @property
    def attributes(self) -> tuple[KeyAttr, ...]:
        return (self.partition,) if self.sort is None else (self.partition, self.sort)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    def storage_key(self, key: Any, *, exact: bool = True) -> str:
        """The KV key of a primary key (``exact``: ``key`` holds nothing but key attributes)."""
        if not isinstance(key, dict):
            raise InvalidItem("The provided key element does not match the schema")
        if exact and set(key) != set(self.names):
            raise InvalidItem("The provided key element does not match the schema")
        for name in self.names:
            if name not in key:
                raise InvalidItem(
                    f"One or more parameter values were invalid: Missing the key {name} in the item"
                )
        p = self.partition.text(key[self.partition.name])
        if self.sort is None:
            stored = p
        else:
            stored = _escape(p) + "|" + _escape(self.sort.text(key[self.sort.name]))
        if not _KEY_RE.match(stored):
            raise InvalidItem(
                "One or more parameter values were invalid: Ramparts keeps key values of at "
                "most 1024 characters without control characters"
            )
        return stored

    def partition_prefix(self, av: Any) -> str:
        """The KV key prefix every item of one partition shares (tables with a sort key)."""
        return _escape(self.partition.text(av)) + "|"

    def key_of(self, storage_key: str) -> dict[str, Any] | None:
        """The typed primary key a KV key stands for; None if it is not one of this table's.

        A KV key written through ``context.kv`` that is not a valid value of the
        declared type (``"abc"`` in a numeric key) stands for no DynamoDB item.
        """
        if self.sort is None:
            parts: tuple[str, ...] = (storage_key,)
        else:
            split = _split(storage_key)
            if split is None:
                return None
            parts = split
        out: dict[str, Any] = {}
        for attr, text in zip(self.attributes, parts, strict=True):
            value = attr.value(text)
            try:
                attr.text(value)
            except InvalidItem:
                return None
            out[attr.name] = value
        return out

    def key_from_item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.names if name in item}

    def describe(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """``KeySchema`` and ``AttributeDefinitions`` as DescribeTable gives them."""
        schema = [{"AttributeName": self.partition.name, "KeyType": "HASH"}]
        defs = [{"AttributeName": self.partition.name, "AttributeType": self.partition.type}]
        if self.sort is not None:
            schema.append({"AttributeName": self.sort.name, "KeyType": "RANGE"})
            defs.append({"AttributeName": self.sort.name, "AttributeType": self.sort.type})
        return schema, defs


def sort_order(av: dict[str, Any]) -> Any:
    """How a sort key value orders: numbers numerically, strings and binary by bytes."""
    ((kind, v),) = av.items()
    if kind == "N":
        return number(v)
    if kind == "B":
        return base64.b64decode(v)
    return v.encode("utf-8", "surrogatepass")
