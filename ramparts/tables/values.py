"""Typed DynamoDB items <-> the plain JSON the KV store keeps.

An item written with ``boto3`` is stored as the JSON object a handler would
have written with ``context.kv.put``, so either API reads what the other
wrote:

========== ============================================================
DynamoDB    stored JSON
========== ============================================================
S           string
BOOL        true / false
NULL        null
N           integer when the number is an integer of at most 64 bits;
            a JSON number when the double it parses to is exactly that
            decimal (``1.5``, ``0.25``); otherwise ``{"$n": "text"}``, so
            no digit is ever lost to float round-off
B           ``{"$b64": "..."}`` (the broker's own bytes convention)
SS/NS/BS    ``{"$ss": [...]}``, ``{"$ns": ["1", ...]}``, ``{"$bs": [b64...]}``
L           array
M           object; an object whose only key is one of the markers above
            (or ``$m``) is wrapped as ``{"$m": {...}}`` so it cannot be
            mistaken for one
========== ============================================================

Reading plain JSON back: strings are S, numbers N (a JSON float keeps its
shortest round-trip text), arrays L, objects M unless they are one of the
markers.  The top level of an item is always its attribute map.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import math
from typing import Any

from ramparts.tables.errors import InvalidItem
from ramparts.tables.numbers import format_number, number

MARKERS = {"$n", "$b64", "$ss", "$ns", "$bs", "$m"}
_INT64 = 2**63
_SCALARS = {"S", "N", "B", "BOOL", "NULL"}


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise InvalidItem("Invalid binary value: B values are base64 strings")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidItem("Invalid binary value: not base64") from None


def check_value(av: Any, depth: int = 0) -> None:
    """Refuse what DynamoDB refuses: wrong shapes, bad numbers, empty or duplicate sets."""
    if depth > 32:
        raise InvalidItem("Nesting Levels have exceeded supported limits")
    if not isinstance(av, dict) or len(av) != 1:
        raise InvalidItem(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    ((kind, v),) = av.items()
    if kind == "S":
        if not isinstance(v, str):
            raise InvalidItem("Invalid S value: must be a string")
    elif kind == "N":
        number(v)
    elif kind == "B":
        _b64(v)
    elif kind == "BOOL":
        if not isinstance(v, bool):
            raise InvalidItem("Invalid BOOL value: must be true or false")
    elif kind == "NULL":
        if v is not True:
            raise InvalidItem("Null attribute value types must have the value of true")
    elif kind in ("SS", "NS", "BS"):
        if not isinstance(v, list) or not v:
            raise InvalidItem(
                "One or more parameter values were invalid: An string set  may not be empty"
                if kind == "SS"
                else f"One or more parameter values were invalid: An {kind} may not be empty"
            )
        elems = [check_value({kind[0]: x}, depth + 1) or canonical_scalar(kind[0], x) for x in v]
        if len(set(elems)) != len(elems):
            raise InvalidItem("Input collection contains duplicates")
    elif kind == "L":
        if not isinstance(v, list):
            raise InvalidItem("Invalid L value: must be a list")
        for x in v:
            check_value(x, depth + 1)
    elif kind == "M":
        if not isinstance(v, dict):
            raise InvalidItem("Invalid M value: must be a map")
        for x in v.values():
            check_value(x, depth + 1)
    else:
        raise InvalidItem(f"Unknown AttributeValue type {kind!r}")


def canonical_scalar(kind: str, v: Any) -> Any:
    if kind == "N":
        return number(v)
    if kind == "B":
        return _b64(v)
    return v


def check_item(item: Any, what: str = "Item") -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidItem(f"{what} must be a map of attribute names to AttributeValues")
    for name, av in item.items():
        if not isinstance(name, str) or not name:
            raise InvalidItem("Attribute names must be non-empty strings")
        check_value(av)
    return item


# -- typed -> stored -----------------------------------------------------------------------------
def _number_json(text: str) -> Any:
    d = number(text)
    if d == d.to_integral_value() and abs(d) < _INT64:
        return int(d)
    f = float(d)
    if math.isfinite(f) and decimal.Decimal(repr(f)) == d:
        return f
    return {"$n": format_number(d)}


def to_stored(av: dict[str, Any]) -> Any:
    ((kind, v),) = av.items()
    if kind in ("S", "BOOL"):
        return v
    if kind == "NULL":
        return None
    if kind == "N":
        return _number_json(v)
    if kind == "B":
        return {"$b64": v}
    if kind == "SS":
        return {"$ss": list(v)}
    if kind == "NS":
        return {"$ns": [format_number(number(x)) for x in v]}
    if kind == "BS":
        return {"$bs": list(v)}
    if kind == "L":
        return [to_stored(x) for x in v]
    inner = {k: to_stored(x) for k, x in v.items()}
    if len(inner) == 1 and next(iter(inner)) in MARKERS:
        return {"$m": inner}
    return inner


def item_to_stored(item: dict[str, Any]) -> dict[str, Any]:
    return {name: to_stored(av) for name, av in item.items()}


# -- stored -> typed -----------------------------------------------------------------------------
def from_stored(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": format_number(decimal.Decimal(repr(value)))}
    if isinstance(value, list):
        return {"L": [from_stored(x) for x in value]}
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$n" and isinstance(inner, str):
                return {"N": inner}
            if tag == "$b64" and isinstance(inner, str):
                return {"B": inner}
            if tag in ("$ss", "$ns", "$bs") and isinstance(inner, list) and inner:
                return {tag[1:].upper(): list(inner)}
            if tag == "$m" and isinstance(inner, dict):
                return {"M": {k: from_stored(x) for k, x in inner.items()}}
        return {"M": {str(k): from_stored(x) for k, x in value.items()}}
    return {"S": str(value)}


def item_from_stored(value: Any) -> dict[str, Any]:
    """A stored KV value as a typed item; a non-object value becomes ``{"value": ...}``."""
    if not isinstance(value, dict):
        return {"value": from_stored(value)}
    return {str(k): from_stored(x) for k, x in value.items()}


# -- size ----------------------------------------------------------------------------------------
def _size(av: dict[str, Any]) -> int:
    ((kind, v),) = av.items()
    if kind == "S":
        return len(v.encode("utf-8", "surrogatepass"))
    if kind == "N":
        return len(v.strip("-").lstrip("0").replace(".", "")) // 2 + 1 + 1
    if kind == "B":
        return len(_b64(v))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode("utf-8", "surrogatepass")) for x in v)
    if kind == "NS":
        return sum(_size({"N": x}) for x in v)
    if kind == "BS":
        return sum(len(_b64(x)) for x in v)
    if kind == "L":
        return 3 + sum(1 + _size(x) for x in v)
    return 3 + sum(len(k.encode()) + 1 + _size(x) for k, x in v.items())


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size (names plus values), which its 400 KB limit applies to."""
    return sum(len(name.encode("utf-8", "surrogatepass")) + _size(av) for name, av in item.items())


__all__ = [
    "MARKERS",
    "check_item",
    "check_value",
    "from_stored",
    "item_from_stored",
    "item_size",
    "item_to_stored",
    "to_stored",
]
