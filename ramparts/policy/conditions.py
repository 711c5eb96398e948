"""The Condition element: IAM's condition operators, decided against a request context.

A Condition block is ``{operator: {key: value | [values]}}``.  Every operator
in a block must hold and every key under an operator must hold (AND); the
values listed for one key are alternatives (OR).  Negated operators
(``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike`` ...) hold when the key
matches none of the values.

Missing keys follow IAM: a positive operator is false, a negated one true;
``...IfExists`` is true; ``Null`` tests presence itself.  Set operators
compare a multivalued key (``ramparts:PrincipalScopes``):
``ForAllValues:`` holds when every request value matches some policy value
(and when the key is missing or empty), ``ForAnyValue:`` when at least one
does (false when missing).  Context keys are case-insensitive; the context
handed to ``evaluate`` has lower-cased keys.

Values are checked when the policy is loaded (a number that is not a number,
a date that is not a date, a CIDR that is not a network are refused with the
path of the field), so evaluation never meets a malformed policy value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ramparts.policy.errors import PolicyError
from ramparts.policy.matching import arn_matcher, glob_matcher
from ramparts.policy.variables import check_variables, has_variables, referenced_keys, substitute

Compare = Callable[[Any, Any], bool]


# -- value parsing ------------------------------------------------------------------------------
def _num(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def parse_date(value: Any) -> float:
    """ISO 8601 (``2024-01-31``, ``2024-01-31T12:00:00Z``) or epoch seconds -> epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _bool_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- the operators ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Op:
    family: str  # string, numeric, date, bool, binary, ip, arn
    negated: bool
    prepare: Callable[[Any], Any]  # policy value -> comparable (raises ValueError)
    compare: Compare  # (request value, prepared policy value) -> bool
    variables: bool = False  # policy variables allowed in values


def _str_eq(cv: Any, pv: str) -> bool:
    return _string(cv) == pv


def _str_ieq(cv: Any, pv: str) -> bool:
    return _string(cv).casefold() == pv


def _str_like(cv: Any, pv: Callable[[str], bool]) -> bool:
    return pv(_string(cv))


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(cv: Any, pv: float) -> bool:
        try:
            return test(_num(cv), pv)
        except (TypeError, ValueError):
            return False

    return compare


def _dated(test: Callable[[float, float], bool]) -> Compare:
    def compare(cv: Any, pv: float) -> bool:
        try:
            return test(parse_date(cv), pv)
        except (TypeError, ValueError, OverflowError):
            return False

    return compare


def _ip(cv: Any, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        addr = ipaddress.ip_address(str(cv).strip())
    except ValueError:
        return False
    return addr.version == net.version and addr in net


def _binary(cv: Any, pv: bytes) -> bool:
    if isinstance(cv, bytes):
        return cv == pv
    try:
        return base64.b64decode(str(cv), validate=True) == pv
    except (binascii.Error, ValueError):
        return False


def _arn(cv: Any, pv: Callable[[str], bool]) -> bool:
    return isinstance(cv, str) and pv(cv)


def _prep_bool(v: Any) -> str:
    text = _bool_text(v)
    if text not in ("true", "false"):
        raise ValueError("Bool values are true or false")
    return text


def _prep_str(v: Any) -> str:
    if isinstance(v, dict | list):
        raise ValueError("expected a string")
    return _string(v)


_EQ: Callable[[float, float], bool] = float.__eq__
_BASE: dict[str, _Op] = {
    "StringEquals": _Op("string", False, _prep_str, _str_eq, True),
    "StringNotEquals": _Op("string", True, _prep_str, _str_eq, True),
    "StringEqualsIgnoreCase": _Op(
        "string", False, lambda v: _prep_str(v).casefold(), _str_ieq, True
    ),
    "StringNotEqualsIgnoreCase": _Op(
        "string", True, lambda v: _prep_str(v).casefold(), _str_ieq, True
    ),
    "StringLike": _Op("string", False, lambda v: glob_matcher(_prep_str(v)), _str_like, True),
    "StringNotLike": _Op("string", True, lambda v: glob_matcher(_prep_str(v)), _str_like, True),
    "NumericEquals": _Op("numeric", False, _num, _numeric(lambda a, b: a == b)),
    "NumericNotEquals": _Op("numeric", True, _num, _numeric(lambda a, b: a == b)),
    "NumericLessThan": _Op("numeric", False, _num, _numeric(lambda a, b: a < b)),
    "NumericLessThanEquals": _Op("numeric", False, _num, _numeric(lambda a, b: a <= b)),
    "NumericGreaterThan": _Op("numeric", False, _num, _numeric(lambda a, b: a > b)),
    "NumericGreaterThanEquals": _Op("numeric", False, _num, _numeric(lambda a, b: a >= b)),
    "DateEquals": _Op("date", False, parse_date, _dated(lambda a, b: a == b)),
    "DateNotEquals": _Op("date", True, parse_date, _dated(lambda a, b: a == b)),
    "DateLessThan": _Op("date", False, parse_date, _dated(lambda a, b: a < b)),
    "DateLessThanEquals": _Op("date", False, parse_date, _dated(lambda a, b: a <= b)),
    "DateGreaterThan": _Op("date", False, parse_date, _dated(lambda a, b: a > b)),
    "DateGreaterThanEquals": _Op("date", False, parse_date, _dated(lambda a, b: a >= b)),
    "Bool": _Op("bool", False, _prep_bool, lambda cv, pv: _bool_text(cv) == pv, True),
    "BinaryEquals": _Op(
        "binary", False, lambda v: base64.b64decode(str(v), validate=True), _binary
    ),
    "IpAddress": _Op("ip", False, lambda v: ipaddress.ip_network(str(v), strict=False), _ip),
    "NotIpAddress": _Op("ip", True, lambda v: ipaddress.ip_network(str(v), strict=False), _ip),
    "ArnEquals": _Op("arn", False, lambda v: arn_matcher(_prep_str(v)), _arn, True),
    "ArnLike": _Op("arn", False, lambda v: arn_matcher(_prep_str(v)), _arn, True),
    "ArnNotEquals": _Op("arn", True, lambda v: arn_matcher(_prep_str(v)), _arn, True),
    "ArnNotLike": _Op("arn", True, lambda v: arn_matcher(_prep_str(v)), _arn, True),
}
OPERATORS = frozenset(_BASE) | {"Null"}
_PREPARE_GLOB = {
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple) and not value)


@dataclass(frozen=True)
class Clause:
    """One ``operator: {key: values}`` pair, ready to evaluate."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased context key
    set_op: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool
    op: _Op | None  # None for Null
    values: tuple[Any, ...]  # prepared policy values (None where a variable is resolved late)
    raw: tuple[str, ...]  # the policy values as written (for variables and explanations)
    null_expected: bool = False

    def keys(self) -> set[str]:
        out = {self.key}
        for r in self.raw:
            out |= referenced_keys(r) if has_variables(r) else set()
        return out

    def _policy_values(self, context: Mapping[str, Any]) -> list[Any]:
        assert self.op is not None
        out = []
        for raw, prepared in zip(self.raw, self.values, strict=True):
            if prepared is not None:
                out.append(prepared)
                continue
            text = substitute(raw, context, glob=self.operator_base in _PREPARE_GLOB)
            if text is not None:  # a variable without a value matches nothing
                out.append(self.op.prepare(text))
        return out

    @property
    def operator_base(self) -> str:
        base = self.operator.split(":", 1)[-1]
        return base[: -len("IfExists")] if self.if_exists else base

    def holds(self, context: Mapping[str, Any]) -> bool:
        value = context.get(self.key)
        if self.op is None:  # Null: true when the key is absent and "true" was asked
            return _missing(value) == self.null_expected
        op = self.op
        if self.set_op is None:
            if _missing(value):
                return self.if_exists or op.negated
            policy = self._policy_values(context)
            request = value if isinstance(value, list | tuple) else (value,)
            hit = any(op.compare(cv, pv) for cv in request for pv in policy)
            return hit != op.negated
        if _missing(value):
            return self.set_op == "ForAllValues" or self.if_exists
        policy = self._policy_values(context)
        request = value if isinstance(value, list | tuple) else (value,)
        each = ((any(op.compare(cv, pv) for pv in policy) != op.negated) for cv in request)
        return all(each) if self.set_op == "ForAllValues" else any(each)


def _values(raw: Any, path: str) -> list[Any]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(path, "needs at least one value")
    for i, v in enumerate(items):
        if v is None or isinstance(v, dict | list):
            raise PolicyError(
                f"{path}[{i}]" if isinstance(raw, list) else path,
                "values are strings, numbers or booleans",
            )
    return items


def parse_condition(block: Any, path: str, *, variables: bool) -> tuple[Clause, ...]:
    """Check a Condition block and compile it into clauses (``PolicyError`` with the field path)."""
    if not isinstance(block, dict):
        raise PolicyError(path, "Condition must be an object of operator: {key: value}")
    clauses: list[Clause] = []
    for operator, body in block.items():
        where = f"{path}.{operator}"
        if not isinstance(operator, str):
            raise PolicyError(path, "operator names are strings")
        set_op, _, name = operator.rpartition(":")
        if set_op and set_op not in ("ForAllValues", "ForAnyValue"):
            raise PolicyError(where, f"unknown set operator {set_op!r}")
        if_exists = name.endswith("IfExists") and name != "IfExists"
        base = name[: -len("IfExists")] if if_exists else name
        if base not in OPERATORS:
            raise PolicyError(where, f"unknown condition operator {operator!r}")
        if base == "Null" and (if_exists or set_op):
            raise PolicyError(where, "Null takes neither IfExists nor a set operator")
        if not isinstance(body, dict) or not body:
            raise PolicyError(where, "must be an object of condition key: value")
        for key, raw in body.items():
            kpath = f"{where}.{key}"
            if not isinstance(key, str) or not key or len(key) > 256:
                raise PolicyError(where, "condition keys are non-empty strings")
            items = _values(raw, kpath)
            if base == "Null":
                if len(items) != 1 or _bool_text(items[0]) not in ("true", "false"):
                    raise PolicyError(kpath, "Null takes true or false")
                clauses.append(
                    Clause(
                        operator,
                        key.lower(),
                        None,
                        False,
                        None,
                        (),
                        (),
                        _bool_text(items[0]) == "true",
                    )
                )
                continue
            op = _BASE[base]
            prepared: list[Any] = []
            raws: list[str] = []
            for i, item in enumerate(items):
                vpath = f"{kpath}[{i}]" if isinstance(raw, list) else kpath
                text = _string(item)
                raws.append(text)
                late = variables and op.variables and has_variables(text)
                try:
                    if late:
                        check_variables(text)
                        prepared.append(None)
                    else:
                        prepared.append(op.prepare(item if op.family != "string" else text))
                except (ValueError, TypeError, binascii.Error) as exc:
                    raise PolicyError(vpath, f"invalid {op.family} value {text!r}: {exc}") from None
            clauses.append(
                Clause(
                    operator,
                    key.lower(),
                    set_op or None,
                    if_exists,
                    op,
                    tuple(prepared),
                    tuple(raws),
                )
            )
    return tuple(clauses)
