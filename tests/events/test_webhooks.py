"""Webhook signature verification for every scheme.

Published vectors (GitHub's, Slack's and the Standard Webhooks
specification's) pin the algorithms; Stripe publishes none, so its
signature is computed here independently with hmac.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from ramparts.errors import RampartsError
from ramparts.events.webhooks import (
    SCHEMES,
    WebhookDelivery,
    WebhookError,
    sign_webhook,
    verify_webhook,
)

NOW = 1_700_000_000
BODY = b'{"id": "evt_123", "type": "order.paid"}'
SECRETS = {
    "stripe": "whsec_stripe_test_secret",
    "github": "gh-secret",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "standard": "whsec_" + base64.b64encode(b"k" * 32).decode(),
}
OTHER_SECRETS = {
    "stripe": "whsec_another",
    "github": "other",
    "slack": "other",
    "standard": "whsec_" + base64.b64encode(b"o" * 32).decode(),
}
TIMESTAMPED = ("stripe", "slack", "standard")


def _signed(scheme: str, *, timestamp: int = NOW, secret: str | None = None) -> dict[str, str]:
    return sign_webhook(
        scheme, secret or SECRETS[scheme], BODY, timestamp=timestamp, msg_id="msg_1"
    )


def _refused(scheme: str, headers: dict[str, str], body: bytes = BODY, **kw: float) -> str:
    with pytest.raises(WebhookError) as info:
        verify_webhook(scheme, SECRETS[scheme], headers, body, now=NOW, **kw)
    assert isinstance(info.value, RampartsError)
    return info.value.code


# --- published vectors ---------------------------------------------------------------


def test_github_documented_vector() -> None:
    headers = {
        "x-hub-signature-256": (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ),
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }
    delivery = verify_webhook("github", "It's a Secret to Everybody", headers, b"Hello, World!")
    assert delivery == WebhookDelivery(id="72d3162e-cc78-11e3-81ab-4c9367dc0958", timestamp=None)
    assert (
        sign_webhook("github", "It's a Secret to Everybody", b"Hello, World!", msg_id="d")[
            "x-hub-signature-256"
        ]
        == headers["x-hub-signature-256"]
    )


SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    b"collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F39770088"
    b"5554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447"
    b"fce8b6703c"
)


def test_slack_documented_vector() -> None:
    headers = {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": (
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        ),
    }
    delivery = verify_webhook(
        "slack", "8f742231b10e8888abcd99yyyzzz85a5", headers, SLACK_BODY, now=1531420618 + 60
    )
    assert delivery == WebhookDelivery(id=None, timestamp=1531420618)
    signed = sign_webhook(
        "slack", "8f742231b10e8888abcd99yyyzzz85a5", SLACK_BODY, timestamp=1531420618
    )
    assert signed["x-slack-signature"] == headers["X-Slack-Signature"]


STANDARD_VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_standard_webhooks_specification_vector() -> None:
    v = STANDARD_VECTOR
    headers = {
        "webhook-id": v["id"],
        "webhook-timestamp": str(v["timestamp"]),
        "webhook-signature": v["signature"],
    }
    delivery = verify_webhook("standard", v["secret"], headers, v["body"], now=v["timestamp"])
    assert delivery == WebhookDelivery(id=v["id"], timestamp=v["timestamp"])
    # the secret without its whsec_ prefix is the same key
    verify_webhook("standard", v["secret"][6:], headers, v["body"], now=v["timestamp"])
    signed = sign_webhook(
        "standard", v["secret"], v["body"], timestamp=v["timestamp"], msg_id=v["id"]
    )
    assert signed == headers


def test_stripe_signature_computed_independently() -> None:
    secret = SECRETS["stripe"]
    expected = hmac.new(secret.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={NOW},v1={expected},v0=ignored"}
    delivery = verify_webhook("stripe", secret, headers, BODY, now=NOW)
    # the event id comes from the (now authenticated) body, for replay checks
    assert delivery == WebhookDelivery(id="evt_123", timestamp=NOW)
    assert _signed("stripe") == {"stripe-signature": f"t={NOW},v1={expected}"}


def test_stripe_accepts_any_of_several_v1_signatures_during_secret_rotation() -> None:
    good = _signed("stripe")["stripe-signature"].split("v1=")[1]
    headers = {"stripe-signature": f"t={NOW},v1={'0' * 64},v1={good}"}
    assert verify_webhook("stripe", SECRETS["stripe"], headers, BODY, now=NOW).timestamp == NOW


def test_standard_accepts_any_of_several_signatures() -> None:
    good = _signed("standard")
    other = _signed("standard", secret=OTHER_SECRETS["standard"])["webhook-signature"]
    good["webhook-signature"] = f"v1a,c29tZQ== {other} v1,%%% {good['webhook-signature']}"
    assert verify_webhook("standard", SECRETS["standard"], good, BODY, now=NOW).id == "msg_1"


def test_stripe_body_without_an_id_gives_no_delivery_id() -> None:
    headers = sign_webhook("stripe", SECRETS["stripe"], b"not json", timestamp=NOW)
    delivery = verify_webhook("stripe", SECRETS["stripe"], headers, b"not json", now=NOW)
    assert delivery == WebhookDelivery(id=None, timestamp=NOW)


# --- every scheme, the same attacks ----------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_valid_delivery_round_trips(scheme: str) -> None:
    delivery = verify_webhook(scheme, SECRETS[scheme], _signed(scheme), BODY, now=NOW)
    assert delivery.timestamp == (NOW if scheme in TIMESTAMPED else None)
    expected_id = {"stripe": "evt_123", "github": "msg_1", "slack": None, "standard": "msg_1"}
    assert delivery.id == expected_id[scheme]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_header_names_are_case_insensitive(scheme: str) -> None:
    headers = {name.upper(): value for name, value in _signed(scheme).items()}
    verify_webhook(scheme, SECRETS[scheme], headers, BODY, now=NOW)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_tampered_body_is_refused(scheme: str) -> None:
    tampered = BODY.replace(b"paid", b"refunded")
    assert _refused(scheme, _signed(scheme), tampered) == "webhook_signature_invalid"
    assert _refused(scheme, _signed(scheme), BODY + b" ") == "webhook_signature_invalid"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_wrong_secret_is_refused(scheme: str) -> None:
    headers = _signed(scheme, secret=OTHER_SECRETS[scheme])
    assert _refused(scheme, headers) == "webhook_signature_invalid"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_missing_signature_headers_are_refused(scheme: str) -> None:
    assert _refused(scheme, {}) == "webhook_signature_missing"
    signed = _signed(scheme)
    required = [n for n in signed if n != "x-github-delivery"]
    for name in required:
        partial = {k: v for k, v in signed.items() if k != name}
        assert _refused(scheme, partial) == "webhook_signature_missing", name
        emptied = {**signed, name: ""}
        assert _refused(scheme, emptied) == "webhook_signature_missing", name


@pytest.mark.parametrize("scheme", TIMESTAMPED)
@pytest.mark.parametrize("offset", [-301, 301, -86_400, 10**9])
def test_stale_and_future_timestamps_are_refused(scheme: str, offset: int) -> None:
    headers = _signed(scheme, timestamp=NOW + offset)
    assert _refused(scheme, headers) == "webhook_timestamp_out_of_tolerance"


@pytest.mark.parametrize("scheme", TIMESTAMPED)
def test_timestamps_at_the_tolerance_edge_and_custom_tolerance(scheme: str) -> None:
    for offset in (-300, 300, 0):
        verify_webhook(
            scheme, SECRETS[scheme], _signed(scheme, timestamp=NOW + offset), BODY, now=NOW
        )
    headers = _signed(scheme, timestamp=NOW - 30)
    assert _refused(scheme, headers, tolerance=10) == "webhook_timestamp_out_of_tolerance"
    verify_webhook(scheme, SECRETS[scheme], headers, BODY, now=NOW, tolerance=30)


@pytest.mark.parametrize("scheme", TIMESTAMPED)
def test_replaying_a_timestamp_with_a_new_one_breaks_the_signature(scheme: str) -> None:
    headers = _signed(scheme, timestamp=NOW - 1000)
    fresh = str(NOW)
    if scheme == "stripe":
        sig = headers["stripe-signature"].split(",", 1)[1]
        headers["stripe-signature"] = f"t={fresh},{sig}"
    elif scheme == "slack":
        headers["x-slack-request-timestamp"] = fresh
    else:
        headers["webhook-timestamp"] = fresh
    assert _refused(scheme, headers) == "webhook_signature_invalid"


def test_github_has_no_timestamp_so_old_deliveries_verify() -> None:
    headers = _signed("github")
    assert verify_webhook("github", SECRETS["github"], headers, BODY, now=NOW + 10**8).id == "msg_1"


def _stripe_sig() -> str:
    return _signed("stripe")["stripe-signature"].split("v1=")[1]


def _slack_sig() -> str:
    return _signed("slack")["x-slack-signature"]


def _standard_sig() -> str:
    return _signed("standard")["webhook-signature"]


MALFORMED = [
    ("stripe", {"stripe-signature": "garbage"}),
    ("stripe", {"stripe-signature": f"v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t={NOW}"}),
    ("stripe", {"stripe-signature": f"t=abc,v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t=-5,v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t=\u00b2,v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t={'9' * 5000},v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t={NOW},t={NOW},v1={'a' * 64}"}),
    ("stripe", {"stripe-signature": f"t={NOW},v1=zz\u00e9"}),
    ("stripe", {"stripe-signature": ",,,=,=="}),
    ("github", {"x-hub-signature-256": "sha1=" + "a" * 40}),
    ("github", {"x-hub-signature-256": "a" * 64}),
    ("github", {"x-hub-signature-256": "sha256=" + "g" * 64}),
    ("github", {"x-hub-signature-256": "sha256=" + "a" * 63}),
    ("github", {"x-hub-signature-256": "sha256=\u00e9" * 10}),
    ("slack", {"x-slack-request-timestamp": "soon", "x-slack-signature": "v0=" + "a" * 64}),
    ("slack", {"x-slack-request-timestamp": "1.5", "x-slack-signature": "v0=" + "a" * 64}),
    ("slack", {"x-slack-request-timestamp": str(NOW), "x-slack-signature": "v1=" + "a" * 64}),
    ("slack", {"x-slack-request-timestamp": str(NOW), "x-slack-signature": "v0=xyz"}),
    (
        "standard",
        {"webhook-id": "msg_1", "webhook-timestamp": "later", "webhook-signature": "v1,AAAA"},
    ),
    (
        "standard",
        {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v1,%%%"},
    ),
    (
        "standard",
        {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "nonsense"},
    ),
    (
        "standard",
        {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v1"},
    ),
]


@pytest.mark.parametrize(("scheme", "headers"), MALFORMED)
def test_malformed_headers_are_invalid_never_an_exception(
    scheme: str, headers: dict[str, str]
) -> None:
    assert _refused(scheme, headers) == "webhook_signature_invalid"


def test_valid_signature_for_another_message_id_is_refused() -> None:
    headers = _signed("standard")
    headers["webhook-id"] = "msg_2"
    assert _refused("standard", headers) == "webhook_signature_invalid"


# --- configuration errors fail closed ------------------------------------------------


def test_unknown_scheme_fails_closed() -> None:
    with pytest.raises(WebhookError) as info:
        verify_webhook("shopify", "s", {"x": "y"}, BODY)
    assert info.value.code == "webhook_scheme_unknown"
    assert info.value.status == 500
    with pytest.raises(WebhookError):
        sign_webhook("shopify", "s", BODY)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_empty_secret_fails_closed(scheme: str) -> None:
    with pytest.raises(WebhookError) as info:
        verify_webhook(scheme, "", _signed(scheme), BODY, now=NOW)
    assert (info.value.code, info.value.status) == ("webhook_secret_invalid", 500)
    with pytest.raises(WebhookError):
        sign_webhook(scheme, "", BODY)


def test_signature_made_with_an_empty_key_is_not_accepted() -> None:
    # an empty key is one an attacker knows: a route without a secret must not verify it
    forged = hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookError) as info:
        verify_webhook("github", "", {"x-hub-signature-256": f"sha256={forged}"}, BODY)
    assert info.value.code == "webhook_secret_invalid"


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "whsec_%%%%"])
def test_standard_secret_must_be_base64(secret: str) -> None:
    with pytest.raises(WebhookError) as info:
        verify_webhook("standard", secret, _signed("standard"), BODY, now=NOW)
    assert info.value.code == "webhook_secret_invalid"


@pytest.mark.parametrize("tolerance", [-1, float("nan")])
def test_invalid_tolerance_fails_closed(tolerance: float) -> None:
    with pytest.raises(WebhookError) as info:
        verify_webhook(
            "slack", SECRETS["slack"], _signed("slack"), BODY, now=NOW, tolerance=tolerance
        )
    assert info.value.status == 500


def test_errors_are_401_with_stable_codes_and_no_secret_in_the_message() -> None:
    with pytest.raises(WebhookError) as info:
        verify_webhook("github", SECRETS["github"], _signed("github"), b"other", now=NOW)
    err = info.value
    assert err.status == 401
    assert err.to_dict() == {"code": "webhook_signature_invalid", "message": err.message}
    assert SECRETS["github"] not in str(err)


def test_sign_webhook_defaults_give_fresh_ids_and_current_time() -> None:
    first = sign_webhook("standard", SECRETS["standard"], BODY)
    second = sign_webhook("standard", SECRETS["standard"], BODY)
    assert first["webhook-id"] != second["webhook-id"]
    assert first["webhook-id"].startswith("msg_")
    verify_webhook("standard", SECRETS["standard"], first, BODY)
    assert json.loads(BODY)["id"] == "evt_123"
