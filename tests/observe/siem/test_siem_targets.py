"""``--siem`` URLs and options: good ones parse, bad ones stop ``ramparts up``
with a message naming the option and a non-zero exit, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ramparts.errors import ConfigError
from ramparts.observe.siem.targets import parse_target, parse_targets, parse_token_secret


def test_good_urls_parse(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    t = parse_target(f"syslog+tls://siem.example:6514?ca={ca}")
    assert (t.host, t.port, t.format, t.ca) == ("siem.example", 6514, "cef", ca)
    assert parse_target("syslog+tls://siem.example").port == 6514
    assert parse_target("syslog+udp://10.0.0.5:514").format == "cef"
    t = parse_target("ocsf+https://splunk.example/services/collector/event?format=hec")
    assert (t.port, t.path, t.format) == (443, "/services/collector/event", "hec")
    assert parse_target("ocsf+http://[::1]:9200/audit/_bulk?format=bulk").format == "bulk"
    assert parse_target(f"ocsf+file://{tmp_path}/events.jsonl").path == f"{tmp_path}/events.jsonl"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://siem.example:21", "unknown scheme"),
        ("syslog://siem.example:514", "unknown scheme"),
        ("syslog+tcp://siem.example", "a port is required"),
        ("syslog+udp://:514", "a host is required"),
        ("syslog+tcp://siem.example:99999", "invalid URL"),
        ("syslog+tcp://siem.example:51x", "invalid URL"),
        ("ocsf+http://siem.example/collect", "loopback only"),
        ("ocsf+http://10.1.2.3:8088/collect", "loopback only"),
        ("ocsf+https://user:pw@siem.example/collect", "credentials in the URL are refused"),
        ("ocsf+https://siem.example/x?format=xml", "format='xml'"),
        ("ocsf+https://siem.example/x?token=abc", "unknown parameter 'token'"),
        ("ocsf+https://siem.example/x?ca=relative.pem", "absolute path"),
        ("syslog+tcp://siem.example:514?ca=/etc/hostname", "unknown parameter 'ca'"),
        ("ocsf+file://relative/events.jsonl", "absolute path"),
        ("ocsf+file:///no/such/dir/events.jsonl", "does not exist"),
        ("syslog+tcp://siem.example:514/path", "no path"),
        ("syslog+tcp://siem example:514", "not a URL"),
    ],
)
def test_bad_urls_are_refused_naming_the_option(url: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_target(url)
    assert caught.value.message.startswith("--siem ")
    assert why in caught.value.message


def test_the_same_url_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="given twice"):
        parse_targets(["syslog+udp://127.0.0.1:514", "syslog+udp://127.0.0.1:514"])


@pytest.mark.parametrize("ref", ["token", "/token", "app/", "a/b/c"])
def test_token_secret_must_be_app_slash_name(ref: str) -> None:
    with pytest.raises(ConfigError, match="--siem-token-secret"):
        parse_token_secret(ref)


def _up(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "up", "--data-dir", str(tmp_path / "data"),
         "--port", "0", "--admin-port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--siem", "gopher://siem.example:70"], {}, "--siem 'gopher://siem.example:70': unknown"),
        (["--siem", "ocsf+http://siem.example/x"], {}, "loopback only"),
        ([], {"RAMPARTS_SIEM": "syslog+udp://127.0.0.1:514,tcp://x:1"}, "unknown scheme 'tcp'"),
        (["--siem", "syslog+udp://127.0.0.1:514", "--siem-token-secret", "app/tok"], {},
         "--siem-token-secret is for ocsf+https://"),
        (["--siem", "ocsf+http://127.0.0.1:9/x", "--siem-token-secret", "tok"], {},
         "--siem-token-secret 'tok'"),
        (["--siem", "ocsf+http://127.0.0.1:9/x", "--siem-token-secret", "Ops/tok"], {},
         "--siem-token-secret 'Ops/tok': app names use lowercase"),
        (["--siem", "syslog+udp://127.0.0.1:514", "--siem-spool-bytes", "100"], {},
         "--siem-spool-bytes must be at least 4096"),
    ],
)
def test_up_refuses_bad_siem_settings_and_starts_nothing(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    done = _up(tmp_path, *args, env=env)
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, output
    assert expected in output
    assert "Traceback" not in output
    assert not (tmp_path / "data").exists()  # refused before the data dir was touched
