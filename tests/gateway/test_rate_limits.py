"""Rate limits end to end: a real node, real workers, limits per minute/hour (no timing races).

The node trusts 127.0.0.1 as its proxy, so ``X-Forwarded-For`` stands for
distinct callers (the gateway never reads it otherwise).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningNode, free_port, make_app

MANIFEST = """
app: rl
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /public, auth: none, rate: 3/minute}
      - http: {method: GET, path: /multi, auth: none, rate: ["5/hour", "2/minute"]}
      - http: {method: GET, path: /shared, auth: none, rate: 3/minute, rate_key: route}
      - http: {method: GET, path: /keyed, auth: api_key, rate: 2/minute}
      - http: {method: GET, path: /bykey, rate: 2/minute, rate_key: api_key}
      - http: {method: GET, path: /byip, auth: api_key, rate: 2/minute, rate_key: ip}
      - http: {method: GET, path: /bysubject, rate: 2/minute, rate_key: subject}
      - http: {method: GET, path: /byclient, rate: 2/minute, rate_key: client}
      - http: {method: GET, path: /free, auth: none}
      - http: {method: GET, path: /free-private}
      - http: {method: GET, path: /free-private-2}
      - http: {method: GET, path: /flood, auth: none, rate: 1/hour}
      - http: {method: GET, path: /shared-private, auth: api_key, rate: 2/minute, rate_key: route}
"""

HANDLER = """
def hello(event, context):
    return {"path": event["rawPath"]}
"""


class _ProxiedNode(RunningNode):
    """A node that trusts 127.0.0.1 as its reverse proxy."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        super().__init__(data_dir, env)
        self._args = args

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1", *self._args]


@pytest.fixture(scope="module")
def rl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_ProxiedNode]:
    base = tmp_path_factory.mktemp("rl")
    node = _ProxiedNode(base / "data").start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def _from(ip: str) -> dict[str, str]:
    return {"x-forwarded-for": ip}


def _key(node: RunningNode, *args: str) -> str:
    # in-process: a Python start-up saved per key; the keys and clients commands still run
    # through the real entry point in the update tests and the bad-options test
    name = f"k-{uuid.uuid4().hex[:6]}"
    done = node.cli_in_process("keys", "create", "--name", name, "--json", *args)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["key"])


def _client(node: RunningNode, *args: str) -> tuple[str, str]:
    done = node.cli_in_process(
        "clients", "create", "--name", f"c-{uuid.uuid4().hex[:6]}", "--scopes", "a", "--json",
        *args,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    return out["client_id"], out["client_secret"]


def _token(node: RunningNode, cid: str, secret: str) -> dict[str, str]:
    r = node.gateway.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def _refusals(node: RunningNode, route: str) -> list[dict[str, Any]]:
    return [
        e for e in node.audit()
        if e["kind"] == "gateway.rate_limit" and e["resource"] == f"route:{route}"
    ]


def _wait_refusals(node: RunningNode, route: str, total: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        found = _refusals(node, route)
        if sum(e["detail"]["count"] for e in found) >= total or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _assert_refused(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["code"] == "rate_limited"
    assert body["request_id"] == r.headers["x-request-id"]
    retry = int(r.headers["retry-after"])
    assert retry >= 1
    assert r.headers["ratelimit-remaining"] == "0"


def test_route_limit_enforced_with_headers_and_audited(rl: _ProxiedNode) -> None:
    ip = "198.51.100.1"
    seen = [rl.gateway.get("/public", headers=_from(ip)) for _ in range(3)]
    assert [r.status_code for r in seen] == [200, 200, 200]
    assert [r.headers["ratelimit-remaining"] for r in seen] == ["2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "3" for r in seen)
    assert all(1 <= int(r.headers["ratelimit-reset"]) <= 60 for r in seen)
    assert seen[0].headers["ratelimit-policy"] == "3;w=60"
    refused = rl.gateway.get("/public", headers=_from(ip))
    _assert_refused(refused)
    assert refused.headers["ratelimit-limit"] == "3"
    assert int(refused.headers["retry-after"]) <= 60
    # Another address has its own counter (rate_key auto on a public route: the address).
    assert rl.gateway.get("/public", headers=_from("198.51.100.2")).status_code == 200
    # The refused request never reached the handler.
    refused_id = refused.headers["x-request-id"]
    assert [r for r in rl.invocations("hello") if r["request_id"] == refused_id] == []
    events = _wait_refusals(rl, "GET /public", 1)
    assert len(events) == 1
    event = events[0]
    assert event["decision"] == "deny"
    assert event["principal"] == f"ip:{ip}"
    assert event["request_id"] == refused.headers["x-request-id"]
    assert event["detail"]["limit"] == "3/minute"
    assert event["detail"]["count"] == 1
    assert event["detail"]["rate_key"] == "ip"
    # Routes without rate: carry no rate-limit fields.
    assert "ratelimit-limit" not in rl.gateway.get("/free").headers


def test_several_limits_on_one_route(rl: _ProxiedNode) -> None:
    ip = "198.51.100.10"
    ok = [rl.gateway.get("/multi", headers=_from(ip)) for _ in range(2)]
    assert [r.status_code for r in ok] == [200, 200]
    assert ok[0].headers["ratelimit-policy"] == "2;w=60, 5;w=3600"
    assert ok[0].headers["ratelimit-limit"] == "2"  # the tightest one is reported
    refused = rl.gateway.get("/multi", headers=_from(ip))
    _assert_refused(refused)
    assert "2/minute" in refused.json()["message"]
    event = _wait_refusals(rl, "GET /multi", 1)[0]
    assert event["detail"]["limit"] == "2/minute"


def test_rate_key_route_is_one_counter_for_everyone(rl: _ProxiedNode) -> None:
    for i in range(3):
        assert rl.gateway.get("/shared", headers=_from(f"203.0.113.{i + 1}")).status_code == 200
    _assert_refused(rl.gateway.get("/shared", headers=_from("203.0.113.99")))
    assert _wait_refusals(rl, "GET /shared", 1)[0]["principal"] == "route"


def test_a_private_routes_shared_counter_counts_only_authenticated_callers(
    rl: _ProxiedNode,
) -> None:
    # Anyone can send requests; only callers who authenticate use up a private route's quota.
    for i in range(5):
        bad = rl.gateway.get("/shared-private", headers={"x-api-key": f"rk_bad{i}"})
        assert bad.status_code == 401, bad.text
    a, b = _key(rl), _key(rl)
    assert rl.gateway.get("/shared-private", headers={"x-api-key": a}).status_code == 200
    assert rl.gateway.get("/shared-private", headers={"x-api-key": b}).status_code == 200
    _assert_refused(rl.gateway.get("/shared-private", headers={"x-api-key": a}))


def test_rate_key_auto_on_private_route_counts_the_key(rl: _ProxiedNode) -> None:
    a, b = _key(rl), _key(rl)
    for _ in range(2):
        assert rl.gateway.get("/keyed", headers={"x-api-key": a}).status_code == 200
    _assert_refused(rl.gateway.get("/keyed", headers={"x-api-key": a}))
    assert rl.gateway.get("/keyed", headers={"x-api-key": b}).status_code == 200
    event = _wait_refusals(rl, "GET /keyed", 1)[0]
    assert event["principal"] == f"key:{a.split('_')[1]}"


def test_rate_key_api_key_falls_back_to_the_address(rl: _ProxiedNode) -> None:
    a = _key(rl)
    for _ in range(2):
        assert rl.gateway.get("/bykey", headers={"x-api-key": a}).status_code == 200
    _assert_refused(rl.gateway.get("/bykey", headers={"x-api-key": a}))
    # A token caller has no API key: counted by address (its own counter).
    cid, secret = _client(rl)
    token = _token(rl, cid, secret)
    ip = "192.0.2.50"
    for _ in range(2):
        assert rl.gateway.get("/bykey", headers={**token, **_from(ip)}).status_code == 200
    _assert_refused(rl.gateway.get("/bykey", headers={**token, **_from(ip)}))
    principals = {e["principal"] for e in _wait_refusals(rl, "GET /bykey", 2)}
    assert principals == {f"key:{a.split('_')[1]}", f"ip:{ip}"}


def test_rate_key_ip_shares_one_counter_between_keys(rl: _ProxiedNode) -> None:
    a, b = _key(rl), _key(rl)
    ip = "192.0.2.60"
    assert rl.gateway.get("/byip", headers={"x-api-key": a, **_from(ip)}).status_code == 200
    assert rl.gateway.get("/byip", headers={"x-api-key": b, **_from(ip)}).status_code == 200
    _assert_refused(rl.gateway.get("/byip", headers={"x-api-key": a, **_from(ip)}))
    # Address-keyed limits count before authentication: even a bad key is refused by them.
    _assert_refused(rl.gateway.get("/byip", headers={"x-api-key": "rk_nope", **_from(ip)}))
    other = {"x-api-key": b, **_from("192.0.2.61")}
    assert rl.gateway.get("/byip", headers=other).status_code == 200


def test_rate_key_subject_and_client(rl: _ProxiedNode) -> None:
    one, two = _client(rl), _client(rl)
    t1, t2 = _token(rl, *one), _token(rl, *two)
    for path in ("/bysubject", "/byclient"):
        for _ in range(2):
            assert rl.gateway.get(path, headers=t1).status_code == 200
        _assert_refused(rl.gateway.get(path, headers=t1))
        # A new token of the same client is the same subject and client.
        _assert_refused(rl.gateway.get(path, headers=_token(rl, *one)))
        assert rl.gateway.get(path, headers=t2).status_code == 200
    subject = _wait_refusals(rl, "GET /bysubject", 2)[0]
    assert subject["principal"].startswith("sub:") and subject["principal"].endswith(one[0])
    assert _wait_refusals(rl, "GET /byclient", 2)[0]["principal"] == f"client:{one[0]}"


def test_key_rate_applies_across_routes_and_can_be_changed(rl: _ProxiedNode) -> None:
    key = _key(rl, "--rate", "2/minute")
    key_id = key.split("_")[1]
    assert rl.gateway.get("/free-private", headers={"x-api-key": key}).status_code == 200
    assert rl.gateway.get("/free-private-2", headers={"x-api-key": key}).status_code == 200
    refused = rl.gateway.get("/free-private", headers={"x-api-key": key})
    _assert_refused(refused)
    event = _wait_refusals(rl, "GET /free-private", 1)[0]
    assert event["principal"] == f"key:{key_id}"
    assert event["detail"]["scope"] == "principal"
    listed = rl.cli("keys", "list", "--json")
    assert [k["rate"] for k in json.loads(listed.stdout)["keys"] if k["id"] == key_id] == [
        ["2/minute"]
    ]
    done = rl.cli("keys", "update", key_id, "--rate", "100/minute", "--rate", "1000/day")
    assert done.returncode == 0, done.stderr
    r = rl.gateway.get("/free-private", headers={"x-api-key": key})
    assert r.status_code == 200
    assert r.headers["ratelimit-policy"] == "100;w=60, 1000;w=86400"
    done = rl.cli("keys", "update", key_id, "--no-rate")
    assert done.returncode == 0, done.stderr
    r = rl.gateway.get("/free-private", headers={"x-api-key": key})
    assert r.status_code == 200 and "ratelimit-limit" not in r.headers


def test_client_rate_applies_to_its_tokens(rl: _ProxiedNode) -> None:
    cid, secret = _client(rl, "--rate", "2/hour")
    token = _token(rl, cid, secret)
    assert rl.gateway.get("/free-private", headers=token).status_code == 200
    assert rl.gateway.get("/free-private-2", headers=token).status_code == 200
    _assert_refused(rl.gateway.get("/free-private-2", headers=_token(rl, cid, secret)))
    done = rl.cli("clients", "update", cid, "--rate", "50/hour")
    assert done.returncode == 0, done.stderr
    assert rl.gateway.get("/free-private-2", headers=token).status_code == 200


def test_a_flood_is_audited_in_few_records_whose_counts_add_up(rl: _ProxiedNode) -> None:
    ip = "192.0.2.200"
    metric = _metric(rl, "ramparts_rate_limit_blocks_total")
    assert rl.gateway.get("/flood", headers=_from(ip)).status_code == 200
    flood = 150
    started = time.monotonic()
    codes = [rl.gateway.get("/flood", headers=_from(ip)).status_code for _ in range(flood)]
    elapsed = time.monotonic() - started
    assert codes == [429] * flood
    events = _wait_refusals(rl, "GET /flood", flood)
    assert sum(e["detail"]["count"] for e in events) == flood
    # One record at once, then at most one per second of flood (and one at the end).
    assert len(events) <= int(elapsed) + 3
    assert len(events) < flood / 5
    assert all(e["detail"]["aggregated"] is True for e in events)
    deadline = time.monotonic() + 20
    while _metric(rl, "ramparts_rate_limit_blocks_total") < metric + flood:
        assert time.monotonic() < deadline, "the metric does not count the aggregated refusals"
        time.sleep(0.2)


def test_a_keys_refused_flood_records_its_authentications_aggregated(rl: _ProxiedNode) -> None:
    """A key over its own limit: every authentication is audited, the refused ones aggregated.

    The two admitted requests keep one whole ``gateway.auth`` allow record each.  The
    authentications of the requests the key's limit then refused are recorded like the
    refusals themselves, through the aggregator (``refused_by: rate_limit``): a few
    records whose counts add up to the refused requests, instead of one full record
    per refused request (what made a key flooding at 10x its limit expensive).
    """
    key = _key(rl, "--rate", "2/minute")
    principal = f"key:{key.split('_')[1]}"
    headers = {"x-api-key": key, **_from("192.0.2.201")}
    flood = 60
    started = time.monotonic()
    codes = [rl.gateway.get("/free-private", headers=headers).status_code for _ in range(flood)]
    elapsed = time.monotonic() - started
    assert codes == [200, 200] + [429] * (flood - 2)
    refused_total = flood - 2

    def records() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        events = [e for e in rl.audit() if e["principal"] == principal]
        auth = [e for e in events if e["kind"] == "gateway.auth"]
        return (
            [e for e in auth if "refused_by" not in e["detail"]],
            [e for e in auth if "refused_by" in e["detail"]],
            [e for e in events if e["kind"] == "gateway.rate_limit"],
        )

    deadline = time.monotonic() + 30
    while True:
        admitted, refused, limits = records()
        if sum(e["detail"].get("count", 1) for e in refused) >= refused_total:
            break
        assert time.monotonic() < deadline, (
            f"the refused requests' authentications are not recorded aggregated: "
            f"{len(admitted)} whole gateway.auth records, {len(refused)} aggregated"
        )
        time.sleep(0.2)
    assert len(admitted) == 2
    assert all(e["decision"] == "allow" and "aggregated" not in e["detail"] for e in admitted)
    assert sum(e["detail"]["count"] for e in refused) == refused_total
    assert all(
        e["decision"] == "allow"
        and e["detail"]["refused_by"] == "rate_limit"
        and e["detail"]["aggregated"] is True
        and e["detail"]["source_ip"] == "192.0.2.201"
        and e["resource"] == "route:GET /free-private"
        for e in refused
    )
    # The first whole, then at most one a second of flood (and one at the end).
    assert len(refused) <= int(elapsed) + 3 and len(refused) < refused_total / 5
    assert sum(e["detail"]["count"] for e in limits) == refused_total


def _metric(node: RunningNode, name: str) -> float:
    text = node.control.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_bad_rate_options_name_the_option(rl: _ProxiedNode) -> None:
    # the first through the real entry point, the rest in-process (same parser, same
    # messages; a traceback would still show in stderr, see cli_in_process)
    for cli, bad in (
        (rl.cli, "5/fortnight"),
        (rl.cli_in_process, "0/second"),
        (rl.cli_in_process, "abc"),
        (rl.cli_in_process, "-1/minute"),
    ):
        done = cli("keys", "create", "--name", "bad", "--rate", bad)
        assert done.returncode != 0
        assert "--rate" in done.stderr and "Traceback" not in done.stderr
    done = rl.cli_in_process(
        "clients", "create", "--name", "bad", "--scopes", "a", "--rate", "10/week"
    )
    assert done.returncode != 0 and "--rate" in done.stderr
    r = rl.control.post("/v1/keys", json={"name": "bad", "rate": ["7/fortnight"]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    assert "rate" in r.json()["message"]
    r = rl.control.patch("/v1/keys/000000000000", json={"rate": ["1/second"]})
    assert r.status_code == 404


def test_bad_manifest_rate_is_a_deploy_error_naming_the_field(
    rl: _ProxiedNode, tmp_path: Path
) -> None:
    for rate, key in (('"5/fortnight"', "auto"), ('"5/minute"', "cookie")):
        app = make_app(
            tmp_path / f"bad-{key}",
            f"""
            app: rl-bad
            functions:
              f:
                handler: h.py:hello
                triggers:
                  - http: {{method: GET, path: /x, auth: none, rate: {rate}, rate_key: {key}}}
            """,
            {"h.py": HANDLER},
        )
        r = rl.deploy(app)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_manifest"
        fields = [p["field"] for p in r.json()["problems"]]
        assert any(f.endswith("rate" if key == "auto" else "rate_key") for f in fields), fields


def test_unreachable_redis_storage_refuses_with_503(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    node = _ProxiedNode(tmp_path / "data", "--rate-limit-storage", dead).start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER}))
        r = node.gateway.get("/public")
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "rate_limit_unavailable"
        assert node.gateway.get("/free").status_code == 200  # unlimited routes still serve
        key = _key(node, "--rate", "5/minute")
        r = node.gateway.get("/free-private", headers={"x-api-key": key})
        assert r.status_code == 503 and r.json()["code"] == "rate_limit_unavailable"
        events = _wait_refusals(node, "GET /public", 1)
        assert events and events[0]["detail"]["reason"] == "rate_limit_unavailable"
    finally:
        node.close()


def test_bad_storage_url_refuses_to_start(tmp_path: Path) -> None:
    from tests.startup import up_refused

    done = up_refused(tmp_path / "data", "--rate-limit-storage", "mongodb://x/y")
    assert done.returncode != 0
    assert "--rate-limit-storage" in done.stderr + done.stdout


def _redis_url() -> str:
    try:
        import redis
    except ImportError:
        pytest.skip("the redis client is not installed (pip install 'ramparts[redis]')")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    return url


@pytest.mark.redis
def test_two_nodes_sharing_redis_share_one_counter(tmp_path: Path) -> None:
    url = _redis_url()
    app_name = f"rl-{uuid.uuid4().hex[:8]}"  # a fresh counter, whatever an earlier run left
    manifest = MANIFEST.replace("app: rl", f"app: {app_name}")
    nodes = [
        _ProxiedNode(tmp_path / f"data{i}", "--rate-limit-storage", url).start() for i in (1, 2)
    ]
    try:
        for i, node in enumerate(nodes):
            node.deploy_ok(make_app(tmp_path / f"app{i}", manifest, {"h.py": HANDLER}))
        a, b = nodes
        ip = "198.51.100.77"
        assert a.gateway.get("/public", headers=_from(ip)).status_code == 200
        assert b.gateway.get("/public", headers=_from(ip)).status_code == 200
        assert a.gateway.get("/public", headers=_from(ip)).headers["ratelimit-remaining"] == "0"
        _assert_refused(b.gateway.get("/public", headers=_from(ip)))
        _assert_refused(a.gateway.get("/public", headers=_from(ip)))
    finally:
        for node in nodes:
            node.close()
