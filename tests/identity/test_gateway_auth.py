"""Gateway authentication end to end: a real node, real workers, real local identity servers.

Every refusal must be a 401/403 with a stable code, a fixed message, an audit
event carrying the private reason, and no invocation of the handler.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from ramparts.identity.errors import _MESSAGES as MESSAGES
from tests.conftest import RunningNode, make_app
from tests.identity.servers import IdpServer
from tests.identity.tokens import AUD, LOCAL_ISS, b64, claims, keys, mint, raw_rs256

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

HS_SECRET = "hs256-shared-secret-for-tests-0123456789"
HANDLER = """
import json

def who(event, context):
    return {"authorizer": event["requestContext"].get("authorizer"), "path": event["rawPath"]}
"""


def manifest(idp: IdpServer) -> str:
    return f"""
app: idt
auth:
  jwt:
    - issuer: {LOCAL_ISS}
      audience: {AUD}
      jwks: keys/jwks.json
      algorithms: [RS256, ES256, EdDSA]
    - issuer: {idp.base}/
      audience: {AUD}
      jwks: {idp.base}/jwks.json
      algorithms: [RS256]
      jwks_min_refresh: 0s
    - issuer: https://hs.example/
      audience: {AUD}
      algorithms: [HS256]
      secret: jwt-hs-secret
  introspection:
    url: {idp.base}/introspect
    client_id: gateway
    client_secret: introspect-secret
    cache: 2s
functions:
  who:
    handler: h.py:who
    triggers:
      - http: {{method: GET, path: /key, auth: api_key}}
      - http: {{method: GET, path: /key-scoped, auth: api_key, scopes: [orders:read]}}
      - http: {{method: GET, path: /jwt, auth: jwt}}
      - http: {{method: GET, path: /jwt-scoped, auth: jwt, scopes: [orders:write],
               claims: {{tier: gold}}}}
      - http: {{method: GET, path: /oauth, auth: oauth2, scopes: [a]}}
      - http: {{method: GET, path: /private}}
      - http: {{method: GET, path: /public, auth: none}}
"""


class Env:
    def __init__(self, node: RunningNode, idp: IdpServer, jkeys: dict[str, Any]) -> None:
        self.node = node
        self.idp = idp
        self.keys = jkeys

    def create_key(
        self, scopes: list[str], expires_in: float | None = None, app: str | None = None
    ) -> str:
        r = self.node.control.post(
            "/v1/keys", json={"name": "t", "scopes": scopes, "expires_in": expires_in, "app": app}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["key"])

    def count(self) -> int:
        return len(self.node.invocations("who"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    idp = IdpServer().start()
    base = tmp_path_factory.mktemp("idt")
    node = RunningNode(base / "data").start()
    try:
        # the second in-process: one Python start-up fewer, the command is the same
        for cli, name, value in (
            (node.cli, "jwt-hs-secret", HS_SECRET),
            (node.cli_in_process, "introspect-secret", "introspect-pw"),
        ):
            done = cli("secrets", "set", name, "--app", "idt", "--stdin", stdin=value)
            assert done.returncode == 0, done.stderr
        jkeys = keys()
        jwks = {"keys": [k.as_dict(private=False) for k in jkeys.values()]}
        app = make_app(
            base / "app", manifest(idp), {"h.py": HANDLER, "keys/jwks.json": json.dumps(jwks)}
        )
        node.deploy_ok(app)
        yield Env(node, idp, jkeys)
    finally:
        node.close()
        idp.close()


def refused(
    env: Env,
    path: str,
    headers: dict[str, str] | list[tuple[str, str]],
    status: int,
    code: str,
    reason: str,
) -> None:
    """The request is refused as specified, audited with ``reason``, and never invoked."""
    before = env.count()
    r = env.node.gateway.get(path, headers=headers)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert set(body) == {"code", "message", "request_id"}  # nothing else leaks
    rid = body["request_id"]
    env.node.control.get("/v1/audit", params={"limit": 1})  # flushes the audit buffer
    events = [e for e in env.node.audit() if e.get("request_id") == rid]
    assert any(
        e["kind"] == "gateway.auth" and e["decision"] == "deny" and e["detail"]["reason"] == reason
        for e in events
    ), [e["detail"] for e in events]
    assert body["message"] == MESSAGES[code]  # a fixed text per code: no detail leaks
    assert env.count() == before


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# -- API keys ---------------------------------------------------------------------------------
def test_api_key_in_x_api_key_and_bearer(env: Env) -> None:
    key = env.create_key(["orders:read"])
    for headers in ({"x-api-key": key}, bearer(key)):
        r = env.node.gateway.get("/key-scoped", headers=headers)
        assert r.status_code == 200, r.text
        auth = r.json()["authorizer"]["lambda"]
        assert auth["method"] == "api_key" and auth["scopes"] == ["orders:read"]
        assert key.startswith(f"rk_{auth['keyId']}_")
        assert key not in r.text  # the handler never sees the key itself


def test_keys_list_shows_prefix_and_last_use_never_the_key(env: Env) -> None:
    key = env.create_key(["x"], expires_in=3600)
    assert env.node.gateway.get("/key", headers={"x-api-key": key}).status_code == 200
    key_id = key.split("_")[1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = env.node.cli("keys", "list", "--json")
        assert out.returncode == 0, out.stderr
        row = next(k for k in json.loads(out.stdout)["keys"] if k["id"] == key_id)
        if row["last_used_at"]:
            break
        time.sleep(0.5)
    assert row["prefix"] == f"rk_{key_id}" and row["scopes"] == ["x"]
    assert row["last_used_at"] and row["expires_at"] and row["created_at"]
    assert key not in out.stdout


def test_cli_keys_create_prints_the_key_once_and_it_works(env: Env) -> None:
    out = env.node.cli(
        "keys", "create", "--name", "cli", "--scopes", "orders:read,b", "--expires", "30d"
    )
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert key.startswith("rk_")
    assert env.node.gateway.get("/key-scoped", headers={"x-api-key": key}).status_code == 200


def test_revoked_key_is_refused_on_the_next_request(env: Env) -> None:
    key = env.create_key(["orders:read"])
    assert env.node.gateway.get("/key", headers={"x-api-key": key}).status_code == 200
    out = env.node.cli("keys", "revoke", key.split("_")[1])
    assert out.returncode == 0, out.stderr
    refused(env, "/key", {"x-api-key": key}, 401, "invalid_api_key", "api_key_revoked")


def test_expired_key(env: Env) -> None:
    key = env.create_key(["orders:read"], expires_in=1)
    time.sleep(1.2)
    refused(env, "/key", {"x-api-key": key}, 401, "invalid_api_key", "api_key_expired")


def test_key_missing_scope(env: Env) -> None:
    key = env.create_key(["other"])
    refused(env, "/key-scoped", {"x-api-key": key}, 403, "insufficient_scope", "missing_scope")


def test_unknown_and_forged_keys(env: Env) -> None:
    key = env.create_key([])
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    refused(env, "/key", {"x-api-key": forged}, 401, "invalid_api_key", "api_key_mismatch")
    unknown = "rk_000000000000_" + "A" * 43
    refused(env, "/key", {"x-api-key": unknown}, 401, "invalid_api_key", "api_key_unknown")


def test_key_bound_to_another_app(env: Env) -> None:
    key = env.create_key([], app="other-app")
    refused(env, "/key", {"x-api-key": key}, 403, "insufficient_scope", "wrong_app")


@pytest.mark.parametrize(
    "fields",
    [
        "same key twice in X-API-Key",
        "two keys in X-API-Key",
        "two keys in Authorization",
        "key and token in Authorization",
        "a token and a junk Authorization",
        "two values in one Authorization",
    ],
)
def test_duplicate_credentials_are_ambiguous_and_refused(env: Env, fields: str) -> None:
    """Two credential fields of the same name: the gateway must not pick one (last-wins
    would let a proxy-added header be overridden, or the other way round)."""
    good, other = env.create_key([]), env.create_key([])
    token = mint(env.keys["RS256"], "RS256")
    headers = {
        "same key twice in X-API-Key": [("x-api-key", good), ("x-api-key", good)],
        "two keys in X-API-Key": [("x-api-key", other), ("x-api-key", good)],
        "two keys in Authorization": [
            ("authorization", f"Bearer {other}"),
            ("authorization", f"Bearer {good}"),
        ],
        "key and token in Authorization": [
            ("authorization", f"Bearer {token}"),
            ("authorization", f"Bearer {good}"),
        ],
        "a token and a junk Authorization": [
            ("authorization", "Bearer junk"),
            ("authorization", f"Bearer {token}"),
        ],
        "two values in one Authorization": [("authorization", f"Bearer {good}, Bearer {other}")],
    }[fields]
    for path in ("/private", "/key"):
        refused(env, path, headers, 401, "malformed_credentials", "duplicate_credentials")


@pytest.mark.parametrize(
    "value",
    [
        "Basic dXNlcjpwdw==",
        "Bearer",
        "Bearer  abc",
        "Bearer a b",
        "Token abc",
        "Bearer a=b",
        "Bearer a,b",
    ],
)
def test_malformed_authorization_header(env: Env, value: str) -> None:
    refused(
        env,
        "/private",
        {"authorization": value},
        401,
        "malformed_credentials",
        "bad_authorization_header",
    )


def test_missing_credentials(env: Env) -> None:
    r = env.node.gateway.get("/private")
    assert r.headers["www-authenticate"].startswith("Bearer")
    refused(env, "/private", {}, 401, "missing_credentials", "no_credentials")


def test_api_key_on_jwt_route_and_token_on_key_route(env: Env) -> None:
    key = env.create_key([])
    refused(
        env, "/jwt", {"x-api-key": key}, 401, "credential_not_accepted", "api_key_on_token_route"
    )
    token = mint(env.keys["RS256"], "RS256")
    refused(env, "/key", bearer(token), 401, "credential_not_accepted", "token_on_api_key_route")


# -- JWT: accepted ----------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_jwt_from_local_jwks(env: Env, alg: str) -> None:
    r = env.node.gateway.get("/jwt-scoped", headers=bearer(mint(env.keys[alg], alg)))
    assert r.status_code == 200, r.text
    auth = r.json()["authorizer"]
    assert auth["jwt"]["claims"]["sub"] == "user-1"
    assert auth["jwt"]["scopes"] == ["orders:read", "orders:write"]


def test_jwt_hs256_with_configured_secret(env: Env) -> None:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    token = jwt.encode(
        {"alg": "HS256"},
        claims(iss="https://hs.example/"),
        OctKey.import_key(HS_SECRET),
        algorithms=["HS256"],
    )
    assert env.node.gateway.get("/jwt", headers=bearer(token)).status_code == 200


def test_jwt_missing_claim_is_403(env: Env) -> None:
    token = mint(env.keys["RS256"], "RS256", tier="silver")
    refused(env, "/jwt-scoped", bearer(token), 403, "insufficient_scope", "missing_claim")


def test_remote_jwks_refreshes_on_unknown_kid(env: Env) -> None:
    k1 = RSAKey.generate_key(2048, parameters={"kid": "remote-1"})
    env.idp.jwks = {"keys": [k1.as_dict(private=False)]}
    iss = f"{env.idp.base}/"
    assert (
        env.node.gateway.get("/jwt", headers=bearer(mint(k1, "RS256", iss=iss))).status_code == 200
    )
    k2 = RSAKey.generate_key(2048, parameters={"kid": "remote-2"})
    env.idp.jwks = {"keys": [k1.as_dict(private=False), k2.as_dict(private=False)]}
    before = env.idp.hits["/jwks.json"]
    assert (
        env.node.gateway.get("/jwt", headers=bearer(mint(k2, "RS256", iss=iss))).status_code == 200
    )
    assert env.idp.hits["/jwks.json"] == before + 1
    # warm cache: known kids cost no fetch
    for _ in range(3):
        assert (
            env.node.gateway.get("/jwt", headers=bearer(mint(k1, "RS256", iss=iss))).status_code
            == 200
        )
    assert env.idp.hits["/jwks.json"] == before + 1


# -- JWT: each hostile or broken token ---------------------------------------------------------
def test_alg_none(env: Env) -> None:
    head = b64(json.dumps({"alg": "none", "kid": "r1"}).encode())
    token = f"{head}.{b64(json.dumps(claims()).encode())}."
    refused(env, "/jwt", bearer(token + "AAAA"), 401, "invalid_token", "alg_not_allowed")


def test_hs256_signed_with_the_rsa_public_key(env: Env) -> None:
    pem = env.keys["RS256"].as_pem(private=False)
    head = b64(json.dumps({"alg": "HS256", "kid": "r1"}).encode())
    body = b64(json.dumps(claims()).encode())
    sig = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    refused(
        env, "/jwt", bearer(f"{head}.{body}.{b64(sig)}"), 401, "invalid_token", "alg_not_allowed"
    )


def test_unknown_kid(env: Env) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "nope"})
    refused(env, "/jwt", bearer(mint(stranger, "RS256")), 401, "invalid_token", "unknown_kid")


def test_expired_token(env: Env) -> None:
    token = mint(
        env.keys["RS256"],
        "RS256",
        exp=int(time.time()) - 3600,
        iat=int(time.time()) - 7200,
        nbf=int(time.time()) - 7200,
    )
    refused(env, "/jwt", bearer(token), 401, "token_expired", "expired")


def test_not_yet_valid(env: Env) -> None:
    token = mint(
        env.keys["RS256"], "RS256", nbf=int(time.time()) + 3600, exp=int(time.time()) + 7200
    )
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "not_yet_valid")


def test_wrong_issuer(env: Env) -> None:
    token = mint(env.keys["RS256"], "RS256", iss="https://evil.example/")
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "unknown_issuer")


def test_wrong_audience(env: Env) -> None:
    token = mint(env.keys["RS256"], "RS256", aud="someone-else")
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "wrong_audience")


def test_tampered_payload(env: Env) -> None:
    head, _, sig = mint(env.keys["RS256"], "RS256", scope="orders:read").split(".")
    body = b64(json.dumps(claims(scope="admin orders:write")).encode())
    refused(env, "/jwt", bearer(f"{head}.{body}.{sig}"), 401, "invalid_token", "bad_signature")


@pytest.mark.parametrize(
    "token",
    ["eyJhbGciOiJSUzI1NiJ9.eyJ9", "a.b.c", "eyJ~.eyJ.sig", "....", "e30.e30.", "x" * 40 + ".."],
)
def test_truncated_or_non_base64_segments(env: Env, token: str) -> None:
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "malformed_token")


def test_oversized_token(env: Env) -> None:
    token = mint(env.keys["RS256"], "RS256", pad="x" * 9000)
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "token_too_large")


def test_jku_x5u_jwk_header_injection_is_ignored(env: Env) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    env.idp.evil_jwks = {"keys": [attacker.as_dict(private=False)]}
    header = {
        "jku": f"{env.idp.base}/evil-jwks",
        "x5u": f"{env.idp.base}/evil-jwks",
        "jwk": attacker.as_dict(private=False),
    }
    refused(
        env,
        "/jwt",
        bearer(mint(attacker, "RS256", header=header)),
        401,
        "invalid_token",
        "unknown_kid",
    )
    # the attacker's key under the real kid: still our key that is used, so the signature fails
    forged = mint(
        RSAKey.import_key({**attacker.as_dict(private=True), "kid": "r1"}), "RS256", header=header
    )
    refused(env, "/jwt", bearer(forged), 401, "invalid_token", "bad_signature")
    assert env.idp.hits["/evil-jwks"] == 0


def test_unknown_crit_header(env: Env) -> None:
    key = env.keys["RS256"]
    token = raw_rs256(key, {"alg": "RS256", "kid": "r1", "crit": ["x-ext"], "x-ext": 1}, claims())
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "unsupported_crit")


def test_token_without_exp(env: Env) -> None:
    token = mint(env.keys["RS256"], "RS256", exp=None)
    refused(env, "/jwt", bearer(token), 401, "invalid_token", "missing_exp")


def test_es256_all_zero_signature(env: Env) -> None:
    head = b64(json.dumps({"alg": "ES256", "kid": "e1"}).encode())
    body = b64(json.dumps(claims()).encode())
    refused(
        env,
        "/jwt",
        bearer(f"{head}.{body}.{b64(bytes(64))}"),
        401,
        "invalid_token",
        "bad_signature",
    )


# -- the built-in OAuth2 issuer ------------------------------------------------------------------
def _client(env: Env, scopes: str, app: str | None = None) -> tuple[str, str]:
    # in-process: a Python start-up saved per client (clients rotate-signing-key and
    # keys create run through the real entry point below)
    args = ["clients", "create", "--name", "svc", "--scopes", scopes, "--json"]
    out = env.node.cli_in_process(*args, *(["--app", app] if app else []))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    return data["client_id"], data["client_secret"]


def _token(env: Env, cid: str, secret: str, scope: str | None = None) -> httpx.Response:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return env.node.gateway.post("/oauth/token", data=form, auth=(cid, secret))


def test_client_credentials_flow(env: Env) -> None:
    cid, secret = _client(env, "a,b")
    r = _token(env, cid, secret, "a")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert (
        body["token_type"] == "Bearer" and body["scope"] == "a" and 0 < body["expires_in"] <= 3600
    )
    r = env.node.gateway.get("/oauth", headers=bearer(body["access_token"]))
    assert r.status_code == 200, r.text
    assert r.json()["authorizer"]["jwt"]["claims"]["client_id"] == cid
    # the token also opens private routes, and its narrowed scope is enforced
    assert env.node.gateway.get("/private", headers=bearer(body["access_token"])).status_code == 200
    only_b = _token(env, cid, secret, "b").json()["access_token"]
    refused(env, "/oauth", bearer(only_b), 403, "insufficient_scope", "missing_scope")


def test_token_endpoint_refusals(env: Env) -> None:
    cid, secret = _client(env, "a")
    r = _token(env, cid, secret, "a admin")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = _token(env, cid, secret + "x")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = env.node.gateway.post("/oauth/token", data={"grant_type": "password"}, auth=(cid, secret))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = env.node.gateway.get("/oauth/token")
    assert r.status_code == 405
    denials = [
        e for e in env.node.audit() if e["kind"] == "oauth.token" and e["decision"] == "deny"
    ]
    assert {"scope_not_granted", "client_secret_mismatch"} <= {
        e["detail"]["reason"] for e in denials
    }


def test_client_bound_to_another_app(env: Env) -> None:
    cid, secret = _client(env, "a", app="billing")
    token = _token(env, cid, secret).json()["access_token"]
    refused(env, "/oauth", bearer(token), 401, "invalid_token", "wrong_audience")


def test_signing_key_rotation_keeps_old_tokens_valid(env: Env) -> None:
    cid, secret = _client(env, "a")
    old = _token(env, cid, secret).json()["access_token"]
    out = env.node.cli("clients", "rotate-signing-key")
    assert out.returncode == 0, out.stderr
    new = _token(env, cid, secret).json()["access_token"]
    kid = lambda t: json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))["kid"]  # noqa: E731
    assert kid(old) != kid(new)
    jwks = env.node.gateway.get("/.well-known/jwks.json").json()
    assert {kid(old), kid(new)} <= {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"])  # public halves only
    for token in (old, new):
        assert env.node.gateway.get("/oauth", headers=bearer(token)).status_code == 200


# -- RFC 7662 introspection ---------------------------------------------------------------------
def test_introspection_accepts_active_tokens_and_caches_them(env: Env) -> None:
    env.idp.active["opaque-good"] = {
        "active": True,
        "sub": "svc-9",
        "scope": "a",
        "exp": int(time.time()) + 600,
    }
    before = env.idp.hits["/introspect"]
    for _ in range(3):
        r = env.node.gateway.get("/oauth", headers=bearer("opaque-good"))
        assert r.status_code == 200, r.text
    assert r.json()["authorizer"]["lambda"]["method"] == "introspection"
    assert env.idp.hits["/introspect"] == before + 1  # cached positive answer


def test_introspection_inactive_token(env: Env) -> None:
    refused(env, "/oauth", bearer("opaque-unknown"), 401, "invalid_token", "introspection_inactive")


def test_introspection_errors_are_never_cached_as_success(env: Env) -> None:
    env.idp.fail = True
    try:
        refused(
            env, "/oauth", bearer("opaque-later"), 503, "auth_unavailable", "introspection_error"
        )
    finally:
        env.idp.fail = False
    refused(env, "/oauth", bearer("opaque-later"), 401, "invalid_token", "introspection_inactive")
    env.idp.active["opaque-later"] = {"active": True, "scope": "a", "client_id": "c"}
    assert env.node.gateway.get("/oauth", headers=bearer("opaque-later")).status_code == 200


# -- the rest ---------------------------------------------------------------------------------
def test_public_route_has_no_principal(env: Env) -> None:
    r = env.node.gateway.get("/public")
    assert r.status_code == 200 and r.json()["authorizer"] is None


def test_allowed_requests_are_audited(env: Env) -> None:
    key = env.create_key([])
    r = env.node.gateway.get("/private", headers={"x-api-key": key})
    assert r.status_code == 200
    rid = r.headers["x-request-id"]
    events = [e for e in env.node.audit() if e.get("request_id") == rid]
    assert any(e["kind"] == "gateway.auth" and e["decision"] == "allow" for e in events)


def test_jwt_route_without_issuers_is_refused_at_deploy(env: Env, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "bad",
        """
        app: bad
        functions:
          f:
            handler: h.py:who
            triggers:
              - http: {method: GET, path: /bad-jwt, auth: jwt}
        """,
        {"h.py": HANDLER},
    )
    r = env.node.deploy(app)
    assert r.status_code == 422 and "auth.jwt" in r.text
