"""The one error of the storage mapping: a value, item or key DynamoDB would refuse.

An ``InvalidRequest``, so every API above it answers its own "bad input" error
(the DynamoDB API: ``ValidationException`` with this message); nothing is written.
"""

from __future__ import annotations

from ramparts.errors import InvalidRequest


class InvalidItem(InvalidRequest):
    code = "invalid_item"
