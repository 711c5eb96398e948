"""Per-version credentials: stateless verification, tamper resistance, and a sealing key
that survives ``ramparts encryption rotate`` and ``retire``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from ramparts.aws.credentials import (
    ACCESS_KEY_RE,
    CredentialAuthority,
    CredentialError,
    credentials_ttl,
    open_authority,
)
from ramparts.crypto.masterkey import LocalMasterKey, resolve_master_key
from tests.aws.conftest import boto_client, function_credentials
from tests.conftest import RunningNode, make_app

ROOT = b"r" * 32


def test_issued_credentials_open_on_another_authority_with_the_same_root() -> None:
    creds = CredentialAuthority(ROOT).issue("shop", "orders", "v" * 64)
    assert ACCESS_KEY_RE.match(creds.access_key_id)
    other_node = CredentialAuthority(ROOT)
    session = other_node.open_session(creds.access_key_id, creds.session_token)
    assert (session.app, session.function, session.version) == ("shop", "orders", "v" * 64)
    assert other_node.secret_for(session) == creds.secret_access_key
    assert creds.secret_access_key not in repr(creds) and creds.session_token not in repr(creds)


def test_a_token_under_another_root_or_tampered_does_not_open() -> None:
    creds = CredentialAuthority(ROOT).issue("shop", "orders", "v1")
    with pytest.raises(CredentialError) as err:
        CredentialAuthority(b"x" * 32).open_session(creds.access_key_id, creds.session_token)
    assert err.value.reason == "unknown"
    flipped = creds.session_token[:10] + ("A" if creds.session_token[10] != "A" else "B")
    with pytest.raises(CredentialError):
        CredentialAuthority(ROOT).open_session(
            creds.access_key_id, flipped + creds.session_token[11:]
        )


def test_a_token_does_not_serve_another_access_key_id() -> None:
    authority = CredentialAuthority(ROOT)
    a, b = authority.issue("shop", "a", "v1"), authority.issue("shop", "b", "v1")
    with pytest.raises(CredentialError) as err:
        authority.open_session(a.access_key_id, b.session_token)
    assert err.value.reason == "mismatch"


def test_expiry_is_enforced() -> None:
    authority = CredentialAuthority(ROOT, ttl=60)
    creds = authority.issue("shop", "a", "v1", now=1000.0)
    authority.open_session(creds.access_key_id, creds.session_token, now=1059.0)
    with pytest.raises(CredentialError) as err:
        authority.open_session(creds.access_key_id, creds.session_token, now=1060.0)
    assert err.value.reason == "expired"


def test_session_and_container_tokens_are_not_interchangeable() -> None:
    authority = CredentialAuthority(ROOT)
    container = authority.container_token("shop", "a", "v1")
    assert container.startswith("rpct_")
    assert authority.open_container_token(container) == ("shop", "a", "v1")
    creds = authority.issue("shop", "a", "v1")
    with pytest.raises(CredentialError):
        authority.open_container_token("rpct_" + creds.session_token)
    with pytest.raises(CredentialError):
        authority.open_session(creds.access_key_id, container[len("rpct_") :])


def test_ttl_defaults_to_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAMPARTS_AWS_CREDENTIALS_TTL", raising=False)
    assert credentials_ttl() == 3600
    monkeypatch.setenv("RAMPARTS_AWS_CREDENTIALS_TTL", "5")
    assert credentials_ttl() == 5
    for bad in ("-1", "abc", "0"):
        monkeypatch.setenv("RAMPARTS_AWS_CREDENTIALS_TTL", bad)
        assert credentials_ttl() == 3600


def test_the_root_key_is_created_once_and_wrapped_by_the_master_key(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    master = LocalMasterKey(b"m" * 32, "test")
    first = open_authority(engine, master)
    creds = first.issue("shop", "a", "v1")
    again = open_authority(engine, master)  # a second node on the same store
    session = again.open_session(creds.access_key_id, creds.session_token)
    assert again.secret_for(session) == creds.secret_access_key
    with engine.begin() as conn:
        (wrapped,) = conn.exec_driver_sql("SELECT wrapped FROM aws_credential_keys").fetchone()
    assert len(wrapped) > 32 and b"r" * 8 not in wrapped  # never stored in the clear


def test_credentials_survive_kek_rotation_and_retirement(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_KEYRING_REFRESH": "0.2"})
    node.start()
    try:
        node.deploy_ok(
            make_app(
                tmp_path / "app",
                "app: keys\nfunctions:\n  f:\n    handler: h.py:handler\n",
                {"h.py": "def handler(event, context):\n    return 1\n"},
            )
        )
        before = boto_client(node, "sts", "f")
        assert before.get_caller_identity()["Account"]
        assert node.control.post("/v1/encryption/rotate").status_code == 200
        deadline = time.monotonic() + 30
        while True:
            retired = node.cli("encryption", "retire", "k1", "--force")
            if retired.returncode == 0:
                break
            assert time.monotonic() < deadline, retired.stderr
            time.sleep(0.3)
        # credentials issued before still verify, and new ones are issued
        assert before.get_caller_identity()["Account"]
        assert boto_client(node, "sts", "f").get_caller_identity()["Account"]
        creds = function_credentials(node, "f")
        node.stop()
        # what a restarted node (or another node of the cluster) loads from the store
        # opens them: the root key never was under the retired KEK
        engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'state.db'}")
        reloaded = open_authority(engine, resolve_master_key(tmp_path / "data", create=False))
        session = reloaded.open_session(creds["AccessKeyId"], creds["Token"])
        assert reloaded.secret_for(session) == creds["SecretAccessKey"]
    finally:
        node.close()
