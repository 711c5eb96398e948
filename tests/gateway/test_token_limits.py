"""The token endpoint's rate limits, end to end on a real node (adv-dos F12).

Before: a client created with ``--rate 3/minute`` minted hundreds of tokens a
second, and nothing bounded how many secrets one address could try.  The node
trusts 127.0.0.1 as its proxy, so ``X-Forwarded-For`` stands for distinct callers.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ramparts.gateway.token_limits import ADDRESS_RATE, ROUTE_KEY
from tests.conftest import make_app
from tests.gateway.test_rate_limits import (
    HANDLER,
    _assert_refused,
    _client,
    _from,
    _ProxiedNode,
    _wait_refusals,
)

MANIFEST = """
app: tl
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /private}
"""


@pytest.fixture(scope="module")
def tl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_ProxiedNode]:
    base = tmp_path_factory.mktemp("tl")
    node = _ProxiedNode(base / "data").start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def _mint(node: _ProxiedNode, cid: str, secret: str, ip: str) -> httpx.Response:
    return node.gateway.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret),
        headers=_from(ip),
    )


def test_a_clients_own_rate_bounds_its_tokens(tl: _ProxiedNode) -> None:
    cid, secret = _client(tl, "--rate", "3/minute")
    minted = [_mint(tl, cid, secret, f"192.0.2.{i}") for i in range(3)]  # addresses vary
    assert [r.status_code for r in minted] == [200, 200, 200]
    _assert_refused(_mint(tl, cid, secret, "192.0.2.9"))
    refusal = _wait_refusals(tl, ROUTE_KEY, 1)[0]
    assert refusal["principal"] == f"client:{cid}"
    assert refusal["detail"]["scope"] == "token" and refusal["detail"]["limit"] == "3/minute"
    # Its tokens' requests have their own counter: minting spent none of them.
    token = {"authorization": f"Bearer {minted[0].json()['access_token']}"}
    assert tl.gateway.get("/private", headers=token).status_code == 200
    # Another client is not affected.
    other = _client(tl, "--rate", "3/minute")
    assert _mint(tl, *other, "192.0.2.9").status_code == 200


def test_wrong_secrets_do_not_spend_a_clients_quota(tl: _ProxiedNode) -> None:
    cid, secret = _client(tl, "--rate", "2/minute")
    for i in range(5):
        assert _mint(tl, cid, "rcs_wrong", f"198.51.100.{i}").status_code == 401
    assert _mint(tl, cid, secret, "198.51.100.50").status_code == 200
    assert _mint(tl, cid, secret, "198.51.100.51").status_code == 200
    _assert_refused(_mint(tl, cid, secret, "198.51.100.52"))


def test_one_address_is_limited_whatever_the_client(tl: _ProxiedNode) -> None:
    amount = int(ADDRESS_RATE.split("/")[0])
    ip = "203.0.113.7"
    unknown = "rc_" + "0" * 16
    codes = [_mint(tl, unknown, "rcs_guess", ip).status_code for _ in range(amount)]
    assert set(codes) == {401}
    _assert_refused(_mint(tl, unknown, "rcs_guess", ip))
    cid, secret = _client(tl)  # no rate of its own: the address limit still applies
    _assert_refused(_mint(tl, cid, secret, ip))
    assert _mint(tl, cid, secret, "203.0.113.8").status_code == 200
    refusal = next(
        e for e in _wait_refusals(tl, ROUTE_KEY, 2) if e["principal"] == f"ip:{ip}"
    )
    assert refusal["detail"]["rate_key"] == "ip" and refusal["decision"] == "deny"
