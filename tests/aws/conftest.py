"""Fixtures for the AWS-compatible API: a real node, function credentials, boto3 clients, moto.

- ``aws_node``: a module-scoped real node (``ramparts up`` subprocess, sandbox on);
- ``deploy(app_dir)``: deploys an app on it (asserts success, returns the report);
- ``boto_client(node, service, function, app=None, **kw)``: a boto3 client signed
  with FUNCTION's credentials (``ramparts aws credentials`` through the control
  API) pointing at the node's gateway, in the node's region, path-style S3, no retries;
- ``function_credentials(node, function, app=None)``: that JSON itself;
- ``moto_server``: a ``ThreadedMotoServer`` on a free port (module scope), the
  reference implementation to compare answers and error codes with; its URL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conftest import RunningNode, free_port

BOTO_CONFIG = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
# S3 clients sign with SigV4 (botocore's S3 default is still SigV2 for presigned URLs);
# only S3's signer: other services signed by it would not be what their SDKs send
S3_BOTO_CONFIG = BOTO_CONFIG.merge(Config(signature_version="s3v4"))


def function_credentials(
    node: RunningNode, function: str, app: str | None = None
) -> dict[str, Any]:
    body: dict[str, str] = {"function": function}
    if app:
        body["app"] = app
    r = node.control.post("/v1/aws/credentials", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def boto_client(
    node: RunningNode, service: str, function: str, app: str | None = None, **kwargs: Any
) -> Any:
    """A boto3 client of ``service`` signed as ``function``'s live version."""
    creds = function_credentials(node, function, app)
    return boto3.session.Session().client(
        service,
        endpoint_url=creds["Endpoint"],
        region_name=creds["Region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["Token"],
        config=kwargs.pop("config", S3_BOTO_CONFIG if service == "s3" else BOTO_CONFIG),
        **kwargs,
    )


@pytest.fixture(scope="module")
def aws_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    running = RunningNode(tmp_path_factory.mktemp("aws-node") / "data")
    running.start()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def deploy(aws_node: RunningNode) -> Callable[[Path], dict[str, Any]]:
    return aws_node.deploy_ok


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server (the reference AWS) on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
