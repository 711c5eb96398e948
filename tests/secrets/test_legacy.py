"""A data dir from before secrets were per app: a real node migrates it at start, losing nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.events.webhooks import sign_webhook
from ramparts.store.sql import SQLStore
from tests.conftest import RunningNode, make_app
from tests.control.test_vault import HANDLERS, read
from tests.secrets.test_store import write_old_store

ALPHA = """
app: alpha
functions:
  a:
    handler: h.py:handler
    secrets: [only-alpha, common]
"""

BETA = """
app: beta
functions:
  b:
    handler: h.py:handler
    secrets: [common, only-beta]
  b2:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["secrets:GetSecretValue"], resources: ["secret:orphan"]}
  hook:
    handler: h.py:hook
    triggers:
      - webhook: {path: /hooks/beta, scheme: standard, secret: beta-hook}
"""

BETA_HOOK = "whsec_YmV0YS1ob29rLXNlY3JldA=="  # noqa: S105 - test data


def _owners(node: RunningNode) -> dict[str, tuple[str, list[str], int]]:
    # in-process (a Python start-up saved); the test runs secrets get and move for real
    out = node.cli_in_process("secrets", "list", "--json")
    assert out.returncode == 0, out.stderr
    return {
        s["name"]: (s["app"], s["shared_with"], s["current_version"])
        for s in json.loads(out.stdout)["secrets"]
    }


def test_global_secrets_move_to_their_apps(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = RunningNode(data).start()
    try:
        node.deploy_ok(make_app(tmp_path / "alpha", ALPHA, {"h.py": HANDLERS}))
        node.deploy_ok(make_app(tmp_path / "beta", BETA, {"h.py": HANDLERS}))
        node.stop()
        # the state an older node left: one global namespace of secrets
        store = SQLStore(f"sqlite:///{data / 'state.db'}")
        sealer = Sealer(Keyring(store.engine, resolve_master_key(data, create=False, environ={})))
        write_old_store(
            store.engine,
            sealer,
            {
                "only-alpha": ["alpha-v1"],
                "common": ["common-v1", "common-v2"],
                "only-beta": ["beta-v1"],
                "beta-hook": [BETA_HOOK],
                "orphan": ["orphan-v1"],
            },
        )
        store.close()

        node.start()
        assert _owners(node) == {
            "only-alpha": ("alpha", [], 1),
            "common": ("alpha", ["beta"], 2),  # the first app deployed owns it
            "only-beta": ("beta", [], 1),
            "beta-hook": ("beta", [], 1),
            "orphan": ("_unassigned", [], 1),
        }
        assert read(node, "a", "only-alpha") == {"ok": "alpha-v1"}
        assert read(node, "a", "common") == {"ok": "common-v2"}
        assert read(node, "b", "common") == {"ok": "common-v2"}
        assert read(node, "b", "only-beta") == {"ok": "beta-v1"}
        out = node.cli_in_process("secrets", "versions", "common", "--app", "alpha")
        assert out.returncode == 0 and "common-v1" not in out.stdout
        body = b'{"k": 1}'
        headers = {**sign_webhook("standard", BETA_HOOK, body, msg_id="m1")}
        headers["content-type"] = "application/json"
        assert node.gateway.post("/hooks/beta", content=body, headers=headers).status_code == 202
        # the unassigned secret: kept, readable by no function, until moved
        assert read(node, "b2", "orphan") == {
            "denied": ["secrets:GetSecretValue", "arn:ramparts:secrets:beta:secret/orphan"]
        }
        got = node.cli("secrets", "get", "orphan", "--app", "_unassigned")
        assert got.returncode == 0 and got.stdout.strip() == "orphan-v1"
        events = [e for e in node.audit() if e["kind"] == "secrets.migrate"]
        assert len(events) == 1 and events[0]["detail"]["unassigned"] == ["orphan"]
        with sqlite3.connect(data / "state.db") as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert "secret_names" not in tables and "secret_versions" not in tables

        moved = node.cli("secrets", "move", "orphan", "--app", "beta")
        assert moved.returncode == 0, moved.stderr
        assert read(node, "b2", "orphan") == {"ok": "orphan-v1"}
        assert [e["resource"] for e in node.audit() if e["kind"] == "secrets.move"] == [
            "arn:ramparts:secrets:beta:secret/orphan"
        ]
        again = node.cli_in_process("secrets", "move", "orphan", "--app", "beta")
        assert again.returncode != 0 and "secret_not_found" in again.stderr

        # a restart migrates nothing twice
        node.stop()
        node.start()
        assert _owners(node)["orphan"] == ("beta", [], 1)
        assert len([e for e in node.audit() if e["kind"] == "secrets.migrate"]) == 1
    finally:
        node.close()
