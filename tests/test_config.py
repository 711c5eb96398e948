"""Start-up failures name their cause, and no failed write leaves a key or token behind.

Each test runs ``ramparts up`` as a real process on a real (sometimes full or
impossible) data dir.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.config import check_forwarded_allow_ips
from tests.conftest import RunningNode
from tests.startup import up_refused


def test_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    out = up_refused(blocker)
    assert out.returncode == 1
    assert f"cannot use {blocker} as a data directory: a file is in the way" in out.stderr
    assert "Traceback" not in out.stderr


def test_data_dir_under_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = up_refused(tmp_path / "file" / "data")
    assert out.returncode == 1
    assert "a parent of it is a file" in out.stderr and str(tmp_path / "file") in out.stderr
    assert "Traceback" not in out.stderr


def test_impossible_data_dir_names_the_os_reason() -> None:
    target = Path("/sys/ramparts-test-data")  # sysfs refuses mkdir even to root
    out = up_refused(target)
    assert out.returncode == 1
    assert f"cannot create the data directory {target}:" in out.stderr
    assert "Operation not permitted" in out.stderr or "Read-only file system" in out.stderr
    assert "Traceback" not in out.stderr


def test_state_store_that_cannot_be_opened_names_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/state.db"
    out = up_refused(tmp_path / "data", "--state", url)
    assert out.returncode == 1
    assert f"cannot open state store {url}: No such file or directory" in out.stderr
    assert "Traceback" not in out.stderr


def test_empty_admin_token_from_an_old_crash_is_replaced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "admin-token").touch(mode=0o600)
    node = RunningNode(data).start()  # waits for /healthz and reads the token
    try:
        assert node.control.get("/v1/status").status_code == 200  # the new token works
        token = (data / "admin-token").read_text().strip()
        assert token.startswith("rat_") and len(token) > 32
        assert "was empty" in node.log_text()
    finally:
        node.close()


def test_invalid_admin_token_is_refused_not_replaced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "admin-token").write_text("short\n")
    os.chmod(data / "admin-token", 0o600)
    out = up_refused(data)
    assert out.returncode == 1
    assert "does not hold a valid admin token; delete it" in out.stderr
    assert (data / "admin-token").read_text() == "short\n"


@contextlib.contextmanager
def _small_disk(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    return filler


def test_first_start_on_a_full_disk_leaves_no_empty_token(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", "2m") as disk:
        data = disk / "data"
        filler = _fill(disk)
        out = up_refused(data)
        assert out.returncode == 1
        assert "No space left on device" in out.stderr
        assert str(data / "admin-token") in out.stderr
        assert "Traceback" not in out.stderr
        leftovers = sorted(p.name for p in data.iterdir() if p.is_file())
        assert "admin-token" not in leftovers and not any(".tmp-" in n for n in leftovers)
        # Once there is room again, the next start works: nothing half-written blocks it.
        filler.unlink()
        node = RunningNode(data).start()
        node.close()


def test_a_port_in_use_is_a_start_failure_not_a_data_loss_exit(tmp_path: Path) -> None:
    # Exit status 3 means "an integrity check failed"; a listener that cannot bind is 1.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "ramparts.cli.main",
                "up",
                "--data-dir",
                str(tmp_path / "d"),
                "--port",
                str(port),
                "--admin-port",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "is the port in use?" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("*", "would trust X-Forwarded-For from every client"),
        ("garbage", "'garbage' is not an IP address or network"),
        ("127.0.0.1 10.0.0.1", "is not an IP address or network"),
        # '*' spelled as networks: every client would pick its own address (issue 17 F8)
        ("0.0.0.0/0", "cover more than an IPv4 /8"),
        ("::/0", "cover more than an IPv4 /8"),
        ("0.0.0.0/1,128.0.0.0/1", "cover more than an IPv4 /8"),
        ("10.0.0.0/8,11.0.0.0/8", "cover more than an IPv4 /8"),
        ("::ffff:0:0/96", "cover more than an IPv4 /8"),
        ("2000::/3", "cover more than an IPv6 /32"),
        ("2001:db8::/32,2001:db9::/32", "cover more than an IPv6 /32"),
    ],
)
def test_forwarded_allow_ips_must_name_proxies(tmp_path: Path, value: str, says: str) -> None:
    # '*' lets every client choose its address; a typo would make every client the proxy.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--data-dir",
            str(tmp_path / "d"),
            "--port",
            "0",
            "--admin-port",
            "0",
            "--forwarded-allow-ips",
            value,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert says in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "value", ["10.0.0.0/8", "127.0.0.1,192.168.0.0/16", "2001:db8::/32", "::ffff:10.0.0.0/104"]
)
def test_forwarded_allow_ips_accepts_a_proxy_network_up_to_the_bound(value: str) -> None:
    assert check_forwarded_allow_ips(value) == value
