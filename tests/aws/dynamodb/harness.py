"""An in-process DynamoDB service over a real Broker, SQLite store, audit log and manifest.

For service-level tests that need no worker: the same ``Broker`` a node builds,
on a real SQLite store, with roles from a real ``ramparts.yaml``; requests are
``AwsRequest`` objects as the SigV4 endpoint hands them over.  (Real-node boto3
tests live in test_boto3_node.py.)
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson

from ramparts.aws.accounts import account_id
from ramparts.aws.dynamodb import DynamoDB
from ramparts.aws.service import AwsRequest, Caller
from ramparts.broker import Broker
from ramparts.events.subscriptions import Subscriptions
from ramparts.manifest import load_manifest
from ramparts.observe.audit import AuditLog
from ramparts.runtime.types import FunctionSpec
from ramparts.store.sql import SQLStore


class Harness:
    def __init__(self, app_dir: Path, state_url: str) -> None:
        self.app_dir = app_dir
        self.manifest = load_manifest(app_dir)
        self.store = SQLStore(state_url)
        self.audit = AuditLog(self.store, "test-node")
        self.subscriptions = Subscriptions([])
        self.broker = Broker(
            store=self.store,
            bus=None,  # type: ignore[arg-type]  # the DynamoDB API never publishes
            audit=self.audit,
            subscriptions=lambda: self.subscriptions,
            config_for=lambda spec: self.manifest.functions[spec.function],
            secrets=None,  # type: ignore[arg-type]  # nor reads secrets
            invoker=self._no_invoke,
            relay=lambda: None,
        )
        self.service = DynamoDB()

    @staticmethod
    async def _no_invoke(target: str, payload: Any, app: str) -> Any:
        raise AssertionError("not used")

    def spec(self, function: str) -> FunctionSpec:
        return FunctionSpec(
            app=self.manifest.app,
            function=function,
            version="v" * 64,
            code_dir=self.app_dir,
            handler="h.py:handler",
        )

    def call(self, op: str, body: dict[str, Any], function: str = "fn") -> tuple[int, Any]:
        app = self.manifest.app
        request = AwsRequest(
            service="dynamodb",
            method="POST",
            path="/",
            raw_path=b"/",
            query=[],
            headers={"x-amz-target": f"DynamoDB_20120810.{op}"},
            body=orjson.dumps(body),
            caller=Caller(self.spec(function), account_id(app), "us-east-1"),
            request_id=str(uuid.uuid4()),
            endpoint="http://127.0.0.1",
        )
        resp = asyncio.run(self.service.handle(request, self.broker))
        return resp.status, orjson.loads(resp.body)

    def ok(self, op: str, body: dict[str, Any], function: str = "fn") -> Any:
        status, out = self.call(op, body, function)
        assert status == 200, out
        return out

    def error(self, op: str, body: dict[str, Any], function: str = "fn") -> tuple[str, Any]:
        status, out = self.call(op, body, function)
        assert status >= 400, out
        return out["__type"].rpartition("#")[2], out

    def close(self) -> None:
        self.store.close()
