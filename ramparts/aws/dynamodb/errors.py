"""The DynamoDB errors botocore maps to its exception classes.

Every failure of a DynamoDB call is one of these, so the caller's SDK raises
the class it would raise against AWS (``ClientError`` with
``Error.Code == "ValidationException"`` ...) and nothing else reaches it.
"""

from __future__ import annotations

from typing import Any

from ramparts.aws.service import AwsError


class DynamoError(AwsError):
    """A DynamoDB error answer; ``extra`` joins its JSON body (``Item``...)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(code, message, status)
        self.extra = extra


class ValidationError(DynamoError):
    """Bad input: a malformed key, item, expression or parameter.  Changes nothing."""

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class ConditionFailed(DynamoError):
    """A ``ConditionExpression`` evaluated false; ``item`` is the current item (typed) or None."""

    def __init__(self, item: dict[str, Any] | None = None, *, return_item: bool = False) -> None:
        extra = {"Item": item} if return_item and item is not None else {}
        super().__init__(
            "ConditionalCheckFailedException", "The conditional request failed", **extra
        )
        self.item = item
