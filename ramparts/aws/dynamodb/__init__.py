"""DynamoDB's API (awsJson 1.0) over Ramparts' KV tables.

``DynamoDB`` is imported on first use (``ramparts.aws.services`` asks for it
by name): importing the pure modules here (expressions, evaluate) does not
pull in the service, the broker or the store.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DynamoDB"]


def __getattr__(name: str) -> Any:
    if name == "DynamoDB":
        from ramparts.aws.dynamodb.service import DynamoDB

        return DynamoDB
    raise AttributeError(name)
