"""Running parsed expressions against typed items (DynamoDB's AttributeValue JSON).

Items here are ``{name: {"S": ...}}`` dicts exactly as the wire carries
them.  Numbers are compared and added as :class:`decimal.Decimal` with
DynamoDB's 38 digits of precision, never as floats.  Comparisons between
values of different types are false (as DynamoDB's are), and an update that
needs a type it does not find is a :class:`ValidationError` that changes
nothing (the caller applies updates to a copy).
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from ramparts.aws.dynamodb.errors import ValidationError
from ramparts.aws.dynamodb.expressions import (
    And,
    Arith,
    Between,
    Compare,
    Function,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Or,
    Path,
    Size,
    Update,
    Value,
)
from ramparts.tables.numbers import add as _add
from ramparts.tables.numbers import format_number, number

Item = dict[str, Any]
_SETS = {"SS": "S", "NS": "N", "BS": "B"}


# -- values --------------------------------------------------------------------------------------
def _kind(av: Any) -> str:
    return next(iter(av)) if isinstance(av, dict) and len(av) == 1 else "?"


def _bytes(b64: str) -> bytes:
    return base64.b64decode(b64)


def canonical(av: dict[str, Any]) -> Any:
    """A hashable form in which equal values (``1`` and ``1.0``, reordered sets) are equal."""
    kind = _kind(av)
    v = av[kind]
    if kind == "N":
        return ("N", number(v))
    if kind == "B":
        return ("B", _bytes(v) if isinstance(v, str) else bytes(v))
    if kind in ("SS", "NS", "BS"):
        return (kind, frozenset(canonical({_SETS[kind]: x})[1] for x in v))
    if kind == "L":
        return ("L", tuple(canonical(x) for x in v))
    if kind == "M":
        return ("M", frozenset((k, canonical(x)) for k, x in v.items()))
    return (kind, v)


def resolve(item: Item | None, path: Path) -> dict[str, Any] | None:
    """The value at ``path`` in ``item``, or None when any step is missing or mistyped."""
    if item is None:
        return None
    first, *rest = path.elements
    if not isinstance(first, str):
        return None
    current = item.get(first)
    for step in rest:
        current = _child(current, step)
    return current


def operand(item: Item | None, node: Any) -> dict[str, Any] | None:
    if isinstance(node, Value):
        return node.av
    if isinstance(node, Path):
        return resolve(item, node)
    if isinstance(node, Size):
        v = resolve(item, node.path)
        if v is None:
            return None
        kind = _kind(v)
        if kind == "S":
            return {"N": str(len(v["S"]))}
        if kind == "B":
            return {"N": str(len(_bytes(v["B"])))}
        if kind in ("SS", "NS", "BS", "L", "M"):
            return {"N": str(len(v[kind]))}
        raise ValidationError(
            f"Invalid ConditionExpression: Incorrect operand type for operator or function; "
            f"operator or function: size, operand type: {kind}"
        )
    raise ValidationError("Invalid expression: unexpected operand")


def _order(av: dict[str, Any] | None) -> tuple[str, Any] | None:
    """A key for <, <=, >, >= (numbers, strings by UTF-8, binary); None if not orderable."""
    if av is None:
        return None
    kind = _kind(av)
    if kind == "N":
        return ("N", number(av["N"]))
    if kind == "S":
        return ("S", av["S"].encode("utf-8", "surrogatepass"))
    if kind == "B":
        return ("B", _bytes(av["B"]))
    return None


def compare(op: str, left: dict[str, Any] | None, right: dict[str, Any] | None) -> bool:
    if left is None or right is None:
        return False
    if op in ("=", "<>"):
        same = _kind(left) == _kind(right) and canonical(left) == canonical(right)
        return same if op == "=" else not same
    a, b = _order(left), _order(right)
    if a is None or b is None or a[0] != b[0]:
        return False
    if op == "<":
        return a[1] < b[1]
    if op == "<=":
        return a[1] <= b[1]
    if op == ">":
        return a[1] > b[1]
    return a[1] >= b[1]


def condition(item: Item | None, node: Any) -> bool:
    """Whether ``item`` (None: there is none) satisfies the condition tree ``node``."""
    if isinstance(node, And):
        return condition(item, node.left) and condition(item, node.right)
    if isinstance(node, Or):
        return condition(item, node.left) or condition(item, node.right)
    if isinstance(node, Not):
        return not condition(item, node.operand)
    if isinstance(node, Compare):
        return compare(node.op, operand(item, node.left), operand(item, node.right))
    if isinstance(node, Between):
        v = operand(item, node.operand)
        return compare(">=", v, operand(item, node.low)) and compare(
            "<=", v, operand(item, node.high)
        )
    if isinstance(node, In):
        v = operand(item, node.operand)
        return any(compare("=", v, operand(item, o)) for o in node.options)
    if isinstance(node, Function):
        return _function(item, node)
    raise ValidationError("Invalid expression: not a condition")


def _function(item: Item | None, node: Function) -> bool:
    name = node.name
    if name == "attribute_exists":
        return resolve(item, node.args[0]) is not None
    if name == "attribute_not_exists":
        return resolve(item, node.args[0]) is None
    v = operand(item, node.args[0])
    arg = operand(item, node.args[1])
    if v is None or arg is None:
        return False
    if name == "attribute_type":
        return _kind(v) == arg.get("S")
    if name == "begins_with":
        if _kind(v) == "S" and _kind(arg) == "S":
            return v["S"].startswith(arg["S"])
        if _kind(v) == "B" and _kind(arg) == "B":
            return _bytes(v["B"]).startswith(_bytes(arg["B"]))
        return False
    # contains
    kind = _kind(v)
    if kind == "S" and _kind(arg) == "S":
        return arg["S"] in v["S"]
    if kind == "B" and _kind(arg) == "B":
        return _bytes(arg["B"]) in _bytes(v["B"])
    if kind in _SETS and _kind(arg) == _SETS[kind]:
        target = canonical(arg)
        return any(canonical({_SETS[kind]: x}) == target for x in v[kind])
    if kind == "L":
        target = canonical(arg)
        return any(canonical(x) == target for x in v["L"])
    return False


# -- updates -------------------------------------------------------------------------------------
def _missing(path: Path) -> ValidationError:
    return ValidationError(
        "The provided expression refers to an attribute that does not exist in the item"
    )


def _wrong_type(op: str, kind: str) -> ValidationError:
    return ValidationError(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: {op}, operand type: {kind}"
    )


def _set_value(item: Item, node: Any) -> dict[str, Any]:
    if isinstance(node, Value):
        return node.av
    if isinstance(node, Path):
        v = resolve(item, node)
        if v is None:
            raise _missing(node)
        return v
    if isinstance(node, IfNotExists):
        v = resolve(item, node.path)
        return v if v is not None else _set_value(item, node.default)
    if isinstance(node, ListAppend):
        a, b = _set_value(item, node.left), _set_value(item, node.right)
        for v in (a, b):
            if _kind(v) != "L":
                raise _wrong_type("list_append", _kind(v))
        return {"L": list(a["L"]) + list(b["L"])}
    if isinstance(node, Arith):
        a, b = _set_value(item, node.left), _set_value(item, node.right)
        for v in (a, b):
            if _kind(v) != "N":
                raise _wrong_type(node.op, _kind(v))
        result = _add(number(a["N"]), number(b["N"]), subtract=node.op == "-")
        return {"N": format_number(result)}
    raise ValidationError("Invalid UpdateExpression: unexpected operand")


def _child(av: Any, step: str | int) -> Any:
    if not isinstance(av, dict):
        return None
    if isinstance(step, int):
        lst = av.get("L")
        return lst[step] if isinstance(lst, list) and step < len(lst) else None
    m = av.get("M")
    return m.get(step) if isinstance(m, dict) else None


def _parent(item: Item, path: Path, create: bool) -> tuple[Any, str | int] | None:
    """The container holding ``path``'s last step and that step; None if it cannot exist."""
    elements = path.elements
    if len(elements) == 1:
        return item, elements[0]
    current = item.get(elements[0]) if isinstance(elements[0], str) else None
    for step in elements[1:-1]:
        current = _child(current, step)
    if current is None:
        if create:
            raise ValidationError(
                "The document path provided in the update expression is invalid for update"
            )
        return None
    return current, elements[-1]


def _put(item: Item, path: Path, value: dict[str, Any]) -> None:
    found = _parent(item, path, create=True)
    assert found is not None
    container, last = found
    if container is item:
        if not isinstance(last, str):
            raise ValidationError(
                "The document path provided in the update expression is invalid for update"
            )
        item[last] = value
        return
    if isinstance(last, int):
        lst = container.get("L")
        if not isinstance(lst, list):
            raise ValidationError(
                "The document path provided in the update expression is invalid for update"
            )
        if last < len(lst):
            lst[last] = value
        else:
            lst.append(value)
        return
    m = container.get("M")
    if not isinstance(m, dict):
        raise ValidationError(
            "The document path provided in the update expression is invalid for update"
        )
    m[last] = value


def _remove(item: Item, path: Path) -> None:
    found = _parent(item, path, create=False)
    if found is None:
        return
    container, last = found
    if container is item:
        item.pop(last, None)  # type: ignore[arg-type]
        return
    if isinstance(last, int):
        lst = container.get("L")
        if isinstance(lst, list) and last < len(lst):
            del lst[last]
    else:
        m = container.get("M")
        if isinstance(m, dict):
            m.pop(last, None)


def apply_update(item: Item, update: Update) -> Item:
    """A new item: ``update`` applied to a copy of ``item`` (which is left unchanged)."""
    before = item
    out = copy.deepcopy(item)
    values = [(p, _set_value(before, v)) for p, v in update.set]  # RHS read the old item
    for p, v in values:
        _put(out, p, copy.deepcopy(v))
    removes = sorted(
        update.remove,
        key=lambda p: [e if isinstance(e, int) else -1 for e in p.elements],
        reverse=True,
    )  # later list indexes first, so earlier removals do not shift them
    for p in removes:
        _remove(out, p)
    for p, value in update.add:
        current = resolve(out, p)
        kind = _kind(value.av)
        if current is None:
            _put(out, p, copy.deepcopy(value.av))
        elif kind == "N" and _kind(current) == "N":
            total = _add(number(current["N"]), number(value.av["N"]))
            _put(out, p, {"N": format_number(total)})
        elif kind in _SETS and _kind(current) == kind:
            merged = list(current[kind])
            have = {canonical({_SETS[kind]: x}) for x in merged}
            for x in value.av[kind]:
                if canonical({_SETS[kind]: x}) not in have:
                    merged.append(x)
                    have.add(canonical({_SETS[kind]: x}))
            _put(out, p, {kind: merged})
        else:
            raise ValidationError("An operand in the update expression has an incorrect data type")
    for p, value in update.delete:
        current = resolve(out, p)
        kind = _kind(value.av)
        if current is None:
            continue
        if _kind(current) != kind:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        drop = {canonical({_SETS[kind]: x}) for x in value.av[kind]}
        kept = [x for x in current[kind] if canonical({_SETS[kind]: x}) not in drop]
        if kept:
            _put(out, p, {kind: kept})
        else:
            _remove(out, p)
    return out


# -- projections ---------------------------------------------------------------------------------
def project(item: Item, paths: list[Path]) -> Item:
    """Only the attributes (and nested parts) ``paths`` name, in their structure."""
    out: Item = {}
    for path in paths:
        value = resolve(item, path)
        if value is None:
            continue
        first = path.elements[0]
        assert isinstance(first, str)
        if len(path.elements) == 1:
            out[first] = copy.deepcopy(value)
            continue
        container = out.setdefault(
            first, {"M": {}} if isinstance(path.elements[1], str) else {"L": []}
        )
        for step, nxt in zip(path.elements[1:], path.elements[2:] + (None,), strict=True):
            if nxt is None:
                if isinstance(step, int):
                    container.setdefault("L", []).append(copy.deepcopy(value))
                else:
                    container.setdefault("M", {})[step] = copy.deepcopy(value)
                break
            fresh: dict[str, Any] = {"M": {}} if isinstance(nxt, str) else {"L": []}
            if isinstance(step, int):
                container.setdefault("L", []).append(fresh)
                container = fresh
            else:
                container = container.setdefault("M", {}).setdefault(step, fresh)
    return out


def updated_attributes(update: Update) -> set[str]:
    """The top-level attributes an update touches (for ReturnValues UPDATED_OLD/NEW)."""
    return {str(p.elements[0]) for p in update.paths()}
