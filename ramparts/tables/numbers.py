"""DynamoDB numbers: exact decimals within DynamoDB's precision and range.

At most 38 significant digits, magnitude from 1E-130 to under 1E+126; sums are
exact (never float round-off) and checked against the same limits.
"""

from __future__ import annotations

import decimal
from typing import Any

from ramparts.tables.errors import InvalidItem


def number(text: Any) -> decimal.Decimal:
    """A DynamoDB number: at most 38 significant digits, magnitude 1E-130 to 9.9..9E+125."""
    if not isinstance(text, str) or text.strip() != text or "_" in text:
        raise InvalidItem("A value provided cannot be converted into a number")
    try:
        d = decimal.Decimal(text)
    except (decimal.InvalidOperation, ValueError):
        raise InvalidItem("A value provided cannot be converted into a number") from None
    if not d.is_finite():
        raise InvalidItem("A value provided cannot be converted into a number")
    return _in_range(d)


def _in_range(d: decimal.Decimal) -> decimal.Decimal:
    if d.is_zero():
        return d
    # the magnitude first: normalizing 1E+999999999 would overflow decimal's own context
    if d.adjusted() > 125:
        raise InvalidItem(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if d.adjusted() < -130:
        raise InvalidItem(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    digits = d.normalize(decimal.Context(prec=100)).as_tuple().digits
    if len(digits) > 38:
        raise InvalidItem("Attempting to store more than 38 significant digits in a Number")
    return d


def add(x: decimal.Decimal, y: decimal.Decimal, subtract: bool = False) -> decimal.Decimal:
    exact = decimal.Context(prec=400)
    return _in_range(exact.subtract(x, y) if subtract else exact.add(x, y))


def format_number(d: decimal.Decimal) -> str:
    """DynamoDB's canonical text for a number: no exponent, no trailing zeros."""
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(decimal.Context(prec=100)), "f")
