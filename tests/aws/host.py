"""An in-process host for the AWS services: a real broker over a real encrypted SQLite store.

The same parts a node assembles (``open_vault``, ``SealedStore``, ``AuditLog``,
``Broker``), without the gateway and workers, so a service's ``handle`` can be
driven with hand-made requests: malformed bodies, foreign ARNs and edge cases
that botocore would refuse to send.  End-to-end tests through boto3 inside
handlers run on a real node (tests/aws/test_*_node.py).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
import yaml

from ramparts.aws.accounts import account_id
from ramparts.aws.service import AwsRequest, Caller
from ramparts.broker import Broker
from ramparts.bus import open_bus
from ramparts.crypto.seams import SealedStore
from ramparts.crypto.vault import Vault, open_vault
from ramparts.manifest import FunctionConfig, parse_manifest
from ramparts.observe.audit import AuditLog
from ramparts.runtime.types import FunctionSpec
from ramparts.store import open_store

REGION = "us-east-1"


class Host:
    def __init__(self, data_dir: Path, manifest: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.manifest = parse_manifest(yaml.safe_load(manifest))
        self.app = self.manifest.app
        self.raw = open_store(f"sqlite:///{data_dir / 'state.db'}")
        self.vault: Vault = open_vault(self.raw, data_dir)
        self.store = SealedStore(self.raw, self.vault.sealer)
        self.audit = AuditLog(self.store, "test-node")
        bus = open_bus(f"embedded:///{data_dir / 'bus.db'}")
        self.broker = Broker(
            store=self.store,
            bus=bus,
            audit=self.audit,
            subscriptions=lambda: None,  # type: ignore[arg-type,return-value]
            config_for=self._config_for,
            secrets=self.vault.secrets,
            invoker=self._no_invoke,
            relay=lambda: None,
        )
        self.code_dir = data_dir / "code"
        self.code_dir.mkdir(exist_ok=True)

    def _config_for(self, spec: FunctionSpec) -> FunctionConfig:
        return self.manifest.functions[spec.function]

    async def _no_invoke(self, target: str, payload: Any, app: str) -> Any:
        raise AssertionError("not used")

    def spec(self, function: str, app: str | None = None) -> FunctionSpec:
        return FunctionSpec(
            app=app or self.app,
            function=function,
            version="0" * 64,
            code_dir=self.code_dir,
            handler="h.py:handler",
        )

    def call(
        self,
        service: Any,
        target: str,
        body: Any,
        *,
        function: str,
        raw: bytes | None = None,
        app: str | None = None,
    ) -> tuple[int, dict[str, Any], str]:
        """(status, JSON answer, request id) of one call as ``function`` of the app."""
        spec = self.spec(function, app)
        rid = str(uuid.uuid4())
        request = AwsRequest(
            service=service.name,
            method="POST",
            path="/",
            raw_path=b"/",
            query=[],
            headers={"x-amz-target": target, "content-type": "application/x-amz-json-1.1"},
            body=raw if raw is not None else orjson.dumps(body),
            caller=Caller(spec, account_id(spec.app), REGION),
            request_id=rid,
            endpoint="http://127.0.0.1:1",
        )
        response = asyncio.run(service.handle(request, self.broker))
        return response.status, orjson.loads(response.body or b"{}"), rid

    def audit_events(self) -> list[dict[str, Any]]:
        asyncio.run(self.audit.flush())
        return self.raw.list_audit_events(0, 100000)

    def close(self) -> None:
        self.raw.close()


def moto_client(url: str, service: str) -> Any:
    """A boto3 client of the moto server at ``url`` (the reference AWS)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fixed test credentials
    )
