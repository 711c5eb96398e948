"""A secret value never reaches the audit log, whichever field of a record it lands in.

A real node runs a handler that reads a secret and puts the value into the
name of a topic its role may not publish to: the denial's ``resource`` would
carry the value.  It must be masked in the journal, the store, the API and an
export, like a value in ``detail``.
"""

from __future__ import annotations

import json
import secrets as random
from pathlib import Path

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: leaky
functions:
  leaker:
    handler: h.py:leaker
    secrets: [leak-key]
"""

HANDLERS = """
from ramparts import AccessDenied


def leaker(event, context):
    value = context.secrets.get("leak-key")
    try:
        context.publish("topic-" + value, {"x": 1})
    except AccessDenied as exc:
        return {"denied": exc.action}
    return {"denied": None}
"""


def test_a_secret_in_a_denied_resource_is_masked_everywhere(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data").start()
    try:
        value = "lk" + random.token_hex(12)
        done = node.cli("secrets", "set", "leak-key", "--app", "leaky", "--stdin",
                        stdin=value + "\n")
        assert done.returncode == 0, done.stderr
        node.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLERS}))
        r = node.control.post("/v1/functions/leaker/invoke", json={"event": {}})
        assert r.json()["result"] == {"denied": "topics:Publish"}, r.text

        events = node.audit()
        denied = [e for e in events if e["action"] == "topics:Publish"
                  and e["decision"] == "deny"]
        assert denied, [e["action"] for e in events]
        assert denied[0]["resource"].endswith("topic/topic-***"), denied[0]["resource"]
        assert value not in json.dumps(events)
        # The export and the files under the data dir: the journal, the store, its WAL.
        out_file = tmp_path / "export.json"
        assert node.cli("audit-log", "export", "-o", str(out_file)).returncode == 0
        assert value not in out_file.read_text()
        assert node.cli("audit-log", "verify").returncode == 0
        for path in (tmp_path / "data").rglob("*"):
            if path.is_file() and "artifacts" not in path.parts:
                assert value.encode() not in path.read_bytes(), path
    finally:
        node.close()
