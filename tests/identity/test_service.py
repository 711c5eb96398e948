"""The identity service takes an app's ``auth:`` from the live version being called.

Attack: identical code shares one content-addressed artifact.  If identity read
``auth:`` from the artifact's ``ramparts.yaml`` it would verify tokens with the
configuration of whichever deploy first shipped that code: a redeploy with a
new secret and audience would keep accepting the old tokens, and a second app
with byte-identical code would accept the first app's tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from tests.conftest import RunningNode, make_app
from tests.identity.tokens import claims

CODE = {"h.py": "def who(event, context):\n    return {'ok': True}\n"}
SECRET_A = "first-shared-secret-0123456789abcdef"
SECRET_B = "second-shared-secret-0123456789abcdef"


def manifest(app: str, fn: str, path: str, secret: str, audience: str) -> str:
    return f"""
app: {app}
auth:
  jwt:
    - issuer: https://id.example/
      audience: {audience}
      algorithms: [HS256]
      secret: {secret}
functions:
  {fn}:
    handler: h.py:who
    triggers:
      - http: {{method: GET, path: {path}, auth: jwt}}
"""


def token(secret: str, audience: str) -> dict[str, str]:
    raw = jwt.encode(
        {"alg": "HS256"},
        claims(iss="https://id.example/", aud=audience),
        OctKey.import_key(secret),
        algorithms=["HS256"],
    )
    return {"authorization": f"Bearer {raw}"}


def _set_secret(node: RunningNode, app: str, name: str, value: str) -> None:
    # in-process: six CLI subprocesses per fresh node were most of each test's setup
    done = node.cli_in_process("secrets", "set", name, "--app", app, "--stdin", stdin=value)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def fresh(tmp_path: Path) -> RunningNode:
    node = RunningNode(tmp_path / "data").start()
    try:
        for app in ("orders", "alpha", "beta"):  # secrets belong to apps
            _set_secret(node, app, "jwt-a", SECRET_A)
            _set_secret(node, app, "jwt-b", SECRET_B)
        yield node  # type: ignore[misc]
    finally:
        node.close()


def test_redeploy_with_new_secret_and_audience_replaces_the_old_auth(
    fresh: RunningNode, tmp_path: Path
) -> None:
    node = fresh
    app = make_app(tmp_path / "app", manifest("orders", "who", "/who", "jwt-a", "aud-a"), CODE)
    first = node.deploy_ok(app)["functions"][0]["version"]
    old, new = token(SECRET_A, "aud-a"), token(SECRET_B, "aud-b")
    assert node.gateway.get("/who", headers=old).status_code == 200
    assert node.gateway.get("/who", headers=new).status_code == 401

    make_app(app, manifest("orders", "who", "/who", "jwt-b", "aud-b"), CODE)  # same code
    second = node.deploy_ok(app)["functions"][0]["version"]
    assert second != first  # the configuration is part of the version

    def check() -> None:
        r = node.gateway.get("/who", headers=old)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", r.text
        r = node.gateway.get("/who", headers=new)
        assert r.status_code == 200, r.text

    check()
    node.stop()
    node.start()
    check()
    # Rolling back brings the first version's auth back with it.
    r = node.control.post("/v1/functions/who/rollback", json={})
    assert r.status_code == 200, r.text
    assert node.gateway.get("/who", headers=old).status_code == 200
    assert node.gateway.get("/who", headers=new).status_code == 401


def test_apps_with_identical_code_keep_their_own_auth(fresh: RunningNode, tmp_path: Path) -> None:
    node = fresh
    a = make_app(tmp_path / "a", manifest("alpha", "who-a", "/a", "jwt-a", "aud-a"), CODE)
    b = make_app(tmp_path / "b", manifest("beta", "who-b", "/b", "jwt-b", "aud-b"), CODE)
    node.deploy_ok(a)
    node.deploy_ok(b)
    token_a, token_b = token(SECRET_A, "aud-a"), token(SECRET_B, "aud-b")
    for _ in range(2):  # and again after a restart
        assert node.gateway.get("/a", headers=token_a).status_code == 200
        assert node.gateway.get("/b", headers=token_b).status_code == 200
        r = node.gateway.get("/b", headers=token_a)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", r.text
        r = node.gateway.get("/a", headers=token_b)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", r.text
        node.stop()
        node.start()


def test_rotating_the_jwt_secret_takes_effect_without_a_restart(
    fresh: RunningNode, tmp_path: Path
) -> None:
    node = fresh
    app = make_app(tmp_path / "app", manifest("orders", "who", "/who", "jwt-a", "aud-a"), CODE)
    node.deploy_ok(app)
    old, new = token(SECRET_A, "aud-a"), token(SECRET_B, "aud-a")
    assert node.gateway.get("/who", headers=old).status_code == 200
    # The secret leaked: rotate it. A redeploy of unchanged content creates no version,
    # so the new value must take effect by itself.
    _set_secret(node, "orders", "jwt-a", SECRET_B)
    r = node.gateway.get("/who", headers=old)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token", r.text
    assert node.gateway.get("/who", headers=new).status_code == 200
