"""The secret store's rules, redaction, and the manifest's refusal of secrets in env."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ramparts.crypto.envelope import MAGIC, Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.errors import DecryptionError, InvalidRequest, ManifestError
from ramparts.manifest import parse_manifest
from ramparts.observe.redact import Redactor, looks_like_secret
from ramparts.secrets.store import MAX_SECRET_BYTES, SecretStore
from ramparts.store.sql import SQLStore
from tests.conftest import RunningNode, make_app


@pytest.fixture()
def secrets(tmp_path: Path) -> SecretStore:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    keyring = Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={}))
    yield SecretStore(store.engine, Sealer(keyring))
    store.close()


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "a/b",
        "..",
        ".hidden",
        "a..b",
        "x\x00y",
        "line\nbreak",
        "tab\t",
        "",
        "é",
        "a" * 129,
    ],
)
def test_bad_names_are_refused(secrets: SecretStore, name: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        secrets.put("a", name, "value")
    assert exc.value.code == "invalid_secret_name"
    assert secrets.get(name, app="a") is None


def test_size_limit(secrets: SecretStore) -> None:
    secrets.put("a", "big", "x" * MAX_SECRET_BYTES)
    with pytest.raises(InvalidRequest) as exc:
        secrets.put("a", "big", "x" * (MAX_SECRET_BYTES + 1))
    assert exc.value.code == "secret_too_large"
    with pytest.raises(InvalidRequest):
        secrets.put("a", "empty", "")


def test_versions_sealed_per_version(secrets: SecretStore, tmp_path: Path) -> None:
    assert secrets.put("a", "api-key", "first-value") == 1
    assert secrets.put("a", "api-key", "second-value") == 2
    assert secrets.get("api-key", app="a").reveal() == "second-value"
    assert [v["version"] for v in secrets.versions("a", "api-key")] == [1, 2]
    listed = secrets.list()
    assert listed[0]["name"] == "api-key" and listed[0]["versions"] == 2
    assert "second-value" not in repr(listed)
    engine = secrets._engine
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT version, value FROM app_secret_versions")).all()
        assert all(bytes(v).startswith(MAGIC) for _, v in rows)
        # copy version 1's ciphertext over version 2: bound to (name, version), it fails
        conn.execute(
            text(
                "UPDATE app_secret_versions SET value = "
                "(SELECT value FROM app_secret_versions WHERE version = 1) WHERE version = 2"
            )
        )
    with pytest.raises(DecryptionError):
        secrets.get("api-key", app="a")


def test_delete_recovery_window_restore_and_force(secrets: SecretStore) -> None:
    secrets.put("a", "temp", "temporary-value")
    out = secrets.delete("a", "temp", recovery_days=7)
    assert out["state"] == "pending_deletion"
    assert secrets.get("temp", app="a") is None
    with pytest.raises(InvalidRequest):
        secrets.put("a", "temp", "new-value")  # restore first
    secrets.restore("a", "temp")
    assert secrets.get("temp", app="a").reveal() == "temporary-value"
    with pytest.raises(InvalidRequest):
        secrets.delete("a", "temp", recovery_days=0)
    secrets.delete("a", "temp", force=True)
    assert secrets.list() == []
    with engine_rows(secrets) as n:
        assert n == 0


class engine_rows:  # noqa: N801 - a tiny context manager for the row count
    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets

    def __enter__(self) -> int:
        with self.secrets._engine.begin() as conn:
            return conn.execute(text("SELECT count(*) FROM app_secret_versions")).scalar_one()

    def __exit__(self, *exc: object) -> None:
        return None


def test_redaction_of_known_values_and_shapes() -> None:
    r = Redactor()
    r.add_secret("hunter2-very-secret")
    r.add_secret("abc")  # too short to mask safely: ignored
    cases = {
        "the value is hunter2-very-secret!": "hunter2-very-secret",
        "Authorization: Bearer abcdefghijklmnop": "abcdefghijklmnop",
        "GET postgres://app:s3cretpw@db:5432/x": "s3cretpw",
        "password=letmein123 user=bob": "letmein123",
        '{"api_key": "k-123456789"}': "k-123456789",
        "key AKIAIOSFODNN7EXAMPLE used": "AKIAIOSFODNN7EXAMPLE",
        "token ghp_" + "a" * 36: "ghp_" + "a" * 36,
        "stripe sk_live_" + "b" * 24: "sk_live_" + "b" * 24,
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl": "eyJhbGci",
        "key rk_0123456789ab_Zm9vYmFyLWJhei1xdXV4LXNlY3JldC12YWx1ZS0t used": "Zm9vYmFy",
        "X-API-Key: some-long-api-key-value": "some-long-api-key-value",
        "admin rat_" + "c" * 42 + "-": "rat_ccc",
        "webhook whsec_dGVzdHNlY3JldA==": "dGVzdHNlY3JldA",
    }
    for line, secret in cases.items():
        out = r.redact(line)
        assert secret not in out, (line, out)
        assert "***" in out
    assert r.redact("abc def ordinary text") == "abc def ordinary text"
    assert r.redact_obj({"a": ["x hunter2-very-secret"], "n": 1}) == {"a": ["x ***"], "n": 1}


def test_secret_looking_environment_values() -> None:
    assert looks_like_secret("DB_PASSWORD", "correct-horse-battery")
    assert looks_like_secret("ANYTHING", "sk_live_" + "c" * 24)
    assert looks_like_secret("DSN", "postgres://u:pw@db/x")
    assert looks_like_secret("LOG_LEVEL", "info") is None
    assert looks_like_secret("TOKEN_TTL", "300") is None
    assert looks_like_secret("AUTH_MODE", "on") is None


def test_manifest_refuses_secret_in_environment() -> None:
    manifest = {
        "app": "a",
        "functions": {
            "f": {"handler": "h.py:handler", "environment": {"STRIPE_KEY": "sk_live_" + "d" * 24}}
        },
    }
    with pytest.raises(ManifestError) as exc:
        parse_manifest(manifest)
    field, reason = exc.value.problems[0]
    assert field.startswith("functions.f.environment")
    assert "STRIPE_KEY" in reason and "secrets:" in reason
    assert "sk_live_" not in exc.value.message  # the refusal does not echo the value
    manifest["functions"]["f"]["environment"] = {"LOG_LEVEL": "debug"}
    manifest["functions"]["f"]["rotates"] = ["stripe-key"]
    assert parse_manifest(manifest).functions["f"].rotates == ["stripe-key"]


def test_audit_events_are_redacted_before_they_are_stored(tmp_path: Path) -> None:
    """The node's audit writer masks secret values and shapes in a real store's rows."""
    import asyncio

    from ramparts.observe.audit import AuditLog
    from ramparts.observe.redact import redactor

    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    redactor.add_secret("fetched-secret-value-42")

    async def scenario() -> None:
        audit = AuditLog(store, "n1")
        audit.start()
        audit.emit(
            "test.event",
            decision="deny",
            principal="admin",
            action="x:Y",
            resource="r",
            note="Authorization: Bearer abcdefghijklmnop",
            nested={"v": ["it was fetched-secret-value-42"]},
            url="https://u:pa55word@h/x",
        )
        await audit.flush()
        await audit.close()

    try:
        asyncio.run(scenario())
        (row,) = store.list_audit_events(0, 10)
        text_ = repr(row)
        for secret in ("abcdefghijklmnop", "fetched-secret-value-42", "pa55word"):
            assert secret not in text_
        assert row["detail"]["nested"] == {"v": ["it was ***"]}
        for path in tmp_path.glob("state.db*"):  # -wal and -shm too
            assert b"fetched-secret-value-42" not in path.read_bytes()
    finally:
        store.close()


def test_every_log_record_of_the_node_is_redacted() -> None:
    """What ``ramparts up`` installs: messages, their arguments and tracebacks are masked."""
    import io
    import logging

    from ramparts.observe.redact import install_log_redaction, redactor

    redactor.add_secret("value-the-handler-fetched")
    before = logging.getLogRecordFactory()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_redaction()
        log = logging.getLogger("ramparts.test")
        log.error("upstream said %s", "Authorization: Bearer abcdefghijklmnop")
        log.error("dsn is %s", "postgres://app:s3cretpw@db/x")
        try:
            raise ValueError("bad value-the-handler-fetched")
        except ValueError:
            log.exception("failed")
    finally:
        root.removeHandler(handler)
        logging.setLogRecordFactory(before)
    text_ = out.getvalue()
    for secret in ("abcdefghijklmnop", "s3cretpw", "value-the-handler-fetched"):
        assert secret not in text_
    assert text_.count("***") >= 3 and "Traceback" in text_


LEAKY_MANIFEST = """
app: leaky
functions:
  echo-error:
    handler: h.py:handler
"""


def test_stored_secrets_are_masked_after_a_restart_before_any_read(tmp_path: Path) -> None:
    # A secret reaches a handler through an event (not through the store) and comes
    # back in its error text, after a restart and before any function has read it.
    node = RunningNode(tmp_path / "data").start()
    try:
        value = "restart-pw-" + "7f3a9c2e1b"
        out = node.cli("secrets", "set", "db-password", "--app", "leaky", "--stdin", stdin=value)
        assert out.returncode == 0, out.stderr
        app = make_app(
            tmp_path / "app",
            LEAKY_MANIFEST,
            {"h.py": "def handler(event, context):\n    raise ValueError(event['t'])\n"},
        )
        node.deploy_ok(app)
        node.stop()
        node.start()
        r = node.control.post(
            "/v1/functions/echo-error/invoke", json={"event": {"t": f"oops {value}"}}
        )
        assert r.status_code == 200, r.text
        body = r.text
        stored = node.invocations("echo-error")[-1]
        cli_logs = node.cli("logs", "echo-error")
        for text in (body, str(stored), cli_logs.stdout):
            assert value not in text, text
        assert "oops ***" in str(stored["logs"]) + str(stored.get("error")), stored
    finally:
        node.close()
