"""``GET /v1/routes``: the route inventory the pentest plans from, with no secret in it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from joserfc.jwk import RSAKey

from tests.conftest import RunningNode, make_app


def test_routes_inventory(node: RunningNode, tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048)
    public_jwk = {**key.as_dict(private=False), "kid": "k1"}
    app = make_app(
        tmp_path / "inv",
        """
        app: inv
        auth:
          jwt:
            - {issuer: "https://id.inv.test/", audience: inv, algorithms: [RS256], jwks: jwks.json}
            - {issuer: "https://hs.inv.test/", audience: inv, algorithms: [HS256], secret: inv-hs}
        functions:
          inv-orders:
            handler: h.py:handler
            triggers:
              - http: {method: POST, path: /inv/orders, auth: jwt, scopes: ["o:w"],
                       rate: 10/minute, schema: order.json}
              - http: {method: GET, path: "/inv/orders/{id}", auth: none}
              - http: {method: GET, path: /inv/any}
              - webhook: {path: /inv/hook, scheme: github, secret: inv-hook}
              - topic: {name: inv-topic}
        """,
        {
            "h.py": "def handler(event, context):\n    return {}\n",
            "order.json": '{"type": "object", "properties": {"item": {"type": "string"}}}',
            "jwks.json": json.dumps({"keys": [public_jwk]}),
        },
    )
    node.deploy_ok(app)
    r = node.control.get("/v1/routes", params={"app": "inv"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["gateway"].endswith(f":{node.port}") and doc["tls"] is False
    assert doc["max_body_bytes"] == 1024 * 1024
    routes = {(x["method"], x["path"]): x for x in doc["routes"]}
    assert set(routes) == {
        ("POST", "/inv/orders"),
        ("GET", "/inv/orders/{id}"),
        ("POST", "/inv/hook"),
        ("GET", "/inv/any"),
    }  # the topic trigger is not a route
    assert routes[("GET", "/inv/any")]["auth"] == "default"  # no auth: any credential
    orders = routes[("POST", "/inv/orders")]
    assert orders["auth"] == "jwt" and orders["scopes"] == ["o:w"]
    assert orders["rate"] == ["10/minute"] and orders["function"] == "inv-orders"
    assert orders["schema"]["properties"]["item"]["type"] == "string"
    hook = routes[("POST", "/inv/hook")]
    assert (hook["kind"], hook["scheme"], hook["secret"]) == ("webhook", "github", "inv-hook")
    issuers = doc["apps"]["inv"]["jwt"]
    assert [i["algorithms"] for i in issuers] == [["RS256"], ["HS256"]]
    (public,) = issuers[0]["public_keys"]
    assert public["n"] == public_jwk["n"] and public["kid"] == "k1" and "d" not in public
    assert issuers[1]["secret"] == "inv-hs" and issuers[1]["public_keys"] == []
    # other apps are left out; a bad app name is refused, an unknown one is not found; the
    # admin token is required
    assert all(x["app"] == "inv" for x in doc["routes"])
    bad = node.control.get("/v1/routes", params={"app": "../x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_argument"
    unknown = node.control.get("/v1/routes", params={"app": "no-such-app"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "app_not_found"
    anonymous = httpx.get(f"http://127.0.0.1:{node.admin_port}/v1/routes")
    assert anonymous.status_code == 401
