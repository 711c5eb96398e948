"""boto3 in the runtime: a function's own pinned copy wins, and a pin too old for
AWS_ENDPOINT_URL gets a deploy warning naming the minimum version."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.scan.sdk import old_sdk_pins
from tests.conftest import make_app
from tests.wheelhouse import IndexNode, serve_index


def _fake_wheel(directory: Path, name: str, version: str) -> Path:
    """A minimal, valid wheel whose package says it is the pinned copy."""
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"\nPINNED_COPY = True\n',
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexNode]:
    wheels = tmp_path_factory.mktemp("wheels")
    _fake_wheel(wheels, "boto3", "1.20.0")
    server, url = serve_index(wheels)
    running = IndexNode(tmp_path_factory.mktemp("sdk-node") / "data", url)
    running.start()
    try:
        yield running
    finally:
        running.close()
        server.shutdown()


def test_a_pinned_boto3_wins_and_an_old_pin_is_warned_about(
    node: IndexNode, tmp_path: Path
) -> None:
    root = make_app(
        tmp_path / "pinned",
        "app: pinned\nfunctions:\n  f:\n    handler: h.py:handler\n",
        {
            "h.py": (
                "import boto3\n\ndef handler(event, context):\n"
                "    return {'version': boto3.__version__, 'file': boto3.__file__,\n"
                "            'pinned': getattr(boto3, 'PINNED_COPY', False)}\n"
            ),
            "requirements.txt": "boto3==1.20.0\n",
        },
    )
    report = node.deploy_ok(root)
    warnings = " ".join(report.get("warnings", []))
    assert "boto3==1.20.0" in warnings and "boto3>=1.28.57" in warnings, report
    r = node.control.post("/v1/functions/f/invoke", json={})
    assert r.status_code == 200, r.text
    out = r.json().get("result", r.json())
    assert out["pinned"] is True and out["version"] == "1.20.0", out
    assert not out["file"].startswith("/var/runtime/sdk/")


def test_recent_or_unpinned_sdks_get_no_warning() -> None:
    text = "boto3>=1.20\nbotocore==1.34.0\nboto3==1.28.57\nrequests==2.0.0\n"
    assert old_sdk_pins(text, "requirements.txt") == []
    warned = old_sdk_pins("botocore==1.31.56\n", "fn/requirements.txt")
    assert warned == [
        "fn/requirements.txt:1: botocore==1.31.56 ignores AWS_ENDPOINT_URL, so its calls would "
        "not reach this node's AWS API: pin botocore>=1.31.57"
    ]
