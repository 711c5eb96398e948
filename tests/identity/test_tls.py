"""`ramparts up` TLS options: HTTPS with HSTS, a development certificate, and refusing plain
HTTP on non-loopback addresses unless --insecure-http (which is audited)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port, make_app

PUBLIC = """
app: tls
functions:
  hi:
    handler: h.py:hi
    triggers:
      - http: {method: GET, path: /hi, auth: none}
"""


def _up(data_dir: Path, *args: str) -> tuple[subprocess.Popen[bytes], int, int, dict[str, str]]:
    port, admin = free_port(), free_port()
    env = {
        **os.environ,
        "RAMPARTS_DATA_DIR": str(data_dir),
        "RAMPARTS_URL": f"http://127.0.0.1:{admin}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--port",
            str(port),
            "--admin-port",
            str(admin),
            *args,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            if httpx.get(f"http://127.0.0.1:{admin}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, port, admin, env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_self_signed_tls_serves_https_with_hsts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, port, admin, env = _up(data, "--tls", "self-signed")
    try:
        cert = data / "tls" / "self-signed.crt"
        assert cert.exists()
        assert (data / "tls" / "self-signed.key").stat().st_mode & 0o077 == 0
        token = (data / "admin-token").read_text().strip()
        app = make_app(
            tmp_path / "app", PUBLIC, {"h.py": "def hi(event, context):\n    return 'hi'\n"}
        )
        from ramparts.registry.artifacts import pack_app

        r = httpx.post(
            f"http://127.0.0.1:{admin}/v1/deploy",
            content=pack_app(app),
            headers={"authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) as client:
            r = client.get(f"https://localhost:{port}/hi")
        assert r.status_code == 200 and r.text == "hi"
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers
        # plain HTTP to the TLS port is not served
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/hi", timeout=5)
            assert plain.status_code >= 400
        except httpx.HTTPError:
            pass
    finally:
        _stop(proc)


def test_given_certificate_pair_must_be_valid(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--data-dir",
            str(tmp_path / "d"),
            "--tls-cert",
            str(bad),
            "--tls-key",
            str(bad),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "TLS" in out.stderr


def test_non_loopback_needs_tls_or_insecure_http_which_is_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--data-dir",
            str(data),
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "refusing to serve plain HTTP" in out.stderr
    proc, port, admin, env = _up(data, "--host", "0.0.0.0", "--insecure-http")
    try:
        token = (data / "admin-token").read_text().strip()
        events = httpx.get(
            f"http://127.0.0.1:{admin}/v1/audit", headers={"authorization": f"Bearer {token}"}
        ).json()["events"]
        assert any(e["kind"] == "node.insecure_http" for e in events)
        assert "strict-transport-security" not in httpx.get(f"http://127.0.0.1:{port}/x").headers
    finally:
        _stop(proc)


def test_control_api_off_loopback_is_served_over_tls_only(tmp_path: Path) -> None:
    """With TLS, a non-loopback control API speaks HTTPS (with the gateway's certificate).

    Bound on 0.0.0.0, reached only through 127.0.0.1.
    """
    port, admin = free_port(), free_port()
    env = {**os.environ, "RAMPARTS_DATA_DIR": str(tmp_path / "d")}
    command = [sys.executable, "-m", "ramparts.cli.main", "up", "--port", str(port),
               "--admin-port", str(admin), "--admin-host", "0.0.0.0", "--tls", "self-signed"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                r = httpx.get(f"https://127.0.0.1:{admin}/healthz", verify=False)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the control API never answered over HTTPS"
                time.sleep(0.1)
        assert r.status_code == 200
        try:
            plain = httpx.get(f"http://127.0.0.1:{admin}/healthz")
        except httpx.HTTPError:
            pass  # a TLS listener hung up on plain HTTP
        else:
            assert plain.status_code != 200, "the control API answered plain HTTP"
    finally:
        _stop(proc)
