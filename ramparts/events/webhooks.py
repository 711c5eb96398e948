"""Webhook signature verification (and signing, for tests and tools).

A webhook route runs ``verify_webhook`` on the raw body before anything else
reads it: a delivery reaches the handler only if it carries a valid HMAC
from a sender that knows the shared secret and, for schemes that sign a
timestamp, was signed recently.  The gateway then uses the returned
``WebhookDelivery`` (delivery id and signed timestamp) for replay
protection.

Schemes, as their senders document them:

========== ===================================== =================================
scheme     headers                               signed bytes (HMAC-SHA256)
========== ===================================== =================================
stripe     Stripe-Signature: t=..,v1=..[,v1=..]  ``{t}.{body}``, hex
github     X-Hub-Signature-256: sha256=..        ``{body}``, hex (no timestamp)
slack      X-Slack-Signature: v0=..,             ``v0:{ts}:{body}``, hex
           X-Slack-Request-Timestamp
standard   webhook-id, webhook-timestamp,        ``{id}.{ts}.{body}``, base64,
           webhook-signature: v1,.. [v1,..]      key = base64 after ``whsec_``
========== ===================================== =================================

Everything fails closed: an unknown scheme, an empty secret, a missing or
malformed header all refuse the delivery with a ``WebhookError``; no parsing
error escapes as anything else.  Digests are compared only with
``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ramparts.errors import RampartsError

__all__ = ["SCHEMES", "WebhookDelivery", "WebhookError", "sign_webhook", "verify_webhook"]

SCHEMES = ("stripe", "github", "slack", "standard")

# Epoch seconds as ASCII digits only: str.isdigit() would accept "²" or "١".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class WebhookError(RampartsError):
    """A webhook delivery was refused.

    Codes: ``webhook_signature_missing``, ``webhook_signature_invalid``,
    ``webhook_timestamp_out_of_tolerance`` (status 401), and the
    configuration errors ``webhook_scheme_unknown``,
    ``webhook_secret_invalid`` and ``webhook_config_invalid`` (status 500:
    the route is misconfigured, and every delivery is refused until it is
    fixed).
    """

    code = "webhook_signature_invalid"
    status = 401

    def __init__(self, message: str = "", *, code: str | None = None, status: int = 401) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class WebhookDelivery:
    """What a verified delivery tells the replay check.

    ``id`` is the sender's delivery id when the scheme has one (GitHub's
    ``X-GitHub-Delivery``, Standard Webhooks' ``webhook-id``, the ``id`` of
    a Stripe event); ``timestamp`` is the signed timestamp, ``None`` for
    GitHub, which signs none.
    """

    id: str | None
    timestamp: int | None


def verify_webhook(
    scheme: str,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> WebhookDelivery:
    """Check a delivery's signature and timestamp; return its id and time.

    Args:
        scheme: ``"stripe"``, ``"github"``, ``"slack"`` or ``"standard"``.
        secret: the shared signing secret (for ``standard``, ``whsec_`` and
            the base64 key, or the base64 key alone).
        headers: the request headers; names are matched case-insensitively.
        body: the raw request body, exactly as received.
        tolerance: how many seconds a signed timestamp may be in the past
            or in the future.
        now: the current time in epoch seconds (for tests).

    Raises:
        WebhookError: the delivery must be refused; ``code`` says why.
    """
    verifier = _VERIFIERS.get(scheme)
    if verifier is None:
        raise WebhookError("unknown webhook scheme", code="webhook_scheme_unknown", status=500)
    if not secret:
        raise WebhookError("webhook secret is empty", code="webhook_secret_invalid", status=500)
    if not tolerance >= 0:  # also refuses NaN
        raise WebhookError("tolerance must be >= 0", code="webhook_config_invalid", status=500)
    lowered = {name.lower(): value for name, value in headers.items()}
    delivery = verifier(secret, lowered, body)
    if delivery.timestamp is not None:
        current = time.time() if now is None else now
        if abs(current - delivery.timestamp) > tolerance:
            raise WebhookError(
                "webhook timestamp outside the tolerance",
                code="webhook_timestamp_out_of_tolerance",
            )
    return delivery


def sign_webhook(
    scheme: str,
    secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    msg_id: str | None = None,
) -> dict[str, str]:
    """Headers (lowercase names) that a sender of ``scheme`` would attach.

    Used by tests, the demo and the pentest tool to produce deliveries
    ``verify_webhook`` accepts.  ``timestamp`` defaults to now; ``msg_id``
    to a random id for schemes that carry one.
    """
    if not secret:
        raise WebhookError("webhook secret is empty", code="webhook_secret_invalid", status=500)
    ts = int(time.time()) if timestamp is None else int(timestamp)
    if scheme == "stripe":
        return {"stripe-signature": f"t={ts},v1={_stripe_digest(secret, ts, body)}"}
    if scheme == "github":
        return {
            "x-hub-signature-256": f"sha256={_hex_hmac(secret.encode(), body)}",
            "x-github-delivery": msg_id or _random_id(),
        }
    if scheme == "slack":
        return {
            "x-slack-request-timestamp": str(ts),
            "x-slack-signature": f"v0={_slack_digest(secret, str(ts), body)}",
        }
    if scheme == "standard":
        ident = msg_id or f"msg_{_random_id()}"
        digest = _standard_digest(_standard_key(secret), ident, str(ts), body)
        return {
            "webhook-id": ident,
            "webhook-timestamp": str(ts),
            "webhook-signature": f"v1,{base64.b64encode(digest).decode('ascii')}",
        }
    raise WebhookError("unknown webhook scheme", code="webhook_scheme_unknown", status=500)


# --- one verifier per scheme ---------------------------------------------------


def _verify_stripe(secret: str, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
    header = headers.get("stripe-signature")
    if not header:
        raise _missing()
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            timestamps.append(value.strip())
        elif name == "v1":
            candidates.append(value.strip())
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not candidates:
        raise _invalid()
    ts = int(timestamps[0])
    expected = _stripe_digest(secret, ts, body).encode("ascii")
    if not _any_equal(expected, (c.lower().encode("utf-8") for c in candidates)):
        raise _invalid()
    return WebhookDelivery(id=_stripe_event_id(body), timestamp=ts)


def _verify_github(secret: str, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
    header = headers.get("x-hub-signature-256")
    if not header:
        raise _missing()
    algorithm, sep, signature = header.strip().partition("=")
    if algorithm != "sha256" or not sep or not _HEX64.fullmatch(signature):
        raise _invalid()
    expected = _hex_hmac(secret.encode(), body).encode("ascii")
    if not hmac.compare_digest(expected, signature.lower().encode("ascii")):
        raise _invalid()
    return WebhookDelivery(id=headers.get("x-github-delivery") or None, timestamp=None)


def _verify_slack(secret: str, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
    header = headers.get("x-slack-signature")
    raw_ts = headers.get("x-slack-request-timestamp")
    if not header or not raw_ts:
        raise _missing()
    raw_ts = raw_ts.strip()
    version, sep, signature = header.strip().partition("=")
    if (
        version != "v0"
        or not sep
        or not _HEX64.fullmatch(signature)
        or not _TIMESTAMP.fullmatch(raw_ts)
    ):
        raise _invalid()
    expected = _slack_digest(secret, raw_ts, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.lower().encode("ascii")):
        raise _invalid()
    return WebhookDelivery(id=None, timestamp=int(raw_ts))


def _verify_standard(secret: str, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
    key = _standard_key(secret)
    ident = headers.get("webhook-id")
    raw_ts = headers.get("webhook-timestamp")
    header = headers.get("webhook-signature")
    if not ident or not raw_ts or not header:
        raise _missing()
    raw_ts = raw_ts.strip()
    if not _TIMESTAMP.fullmatch(raw_ts):
        raise _invalid()
    expected = _standard_digest(key, ident, raw_ts, body)
    candidates: list[bytes] = []
    for entry in header.split():
        version, sep, encoded = entry.partition(",")
        if version != "v1" or not sep:
            continue  # other versions (e.g. asymmetric v1a) are not ours to check
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not _any_equal(expected, candidates):
        raise _invalid()
    return WebhookDelivery(id=ident, timestamp=int(raw_ts))


_VERIFIERS: dict[str, Callable[[str, Mapping[str, str], bytes], WebhookDelivery]] = {
    "stripe": _verify_stripe,
    "github": _verify_github,
    "slack": _verify_slack,
    "standard": _verify_standard,
}


# --- helpers -----------------------------------------------------------------------


def _missing() -> WebhookError:
    return WebhookError("webhook signature missing", code="webhook_signature_missing")


def _invalid() -> WebhookError:
    return WebhookError("webhook signature invalid", code="webhook_signature_invalid")


def _any_equal(expected: bytes, candidates: Iterable[bytes]) -> bool:
    """True if any candidate matches; every candidate is compared in full."""
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    return matched


def _hex_hmac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _stripe_digest(secret: str, ts: int, body: bytes) -> str:
    return _hex_hmac(secret.encode(), f"{ts}.".encode() + body)


def _slack_digest(secret: str, ts: str, body: bytes) -> str:
    return _hex_hmac(secret.encode(), f"v0:{ts}:".encode() + body)


def _standard_digest(key: bytes, ident: str, ts: str, body: bytes) -> bytes:
    return hmac.new(key, f"{ident}.{ts}.".encode() + body, hashlib.sha256).digest()


def _standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64)."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookError(
            "webhook secret is not whsec_<base64>", code="webhook_secret_invalid", status=500
        ) from exc
    if not key:
        raise WebhookError("webhook secret is empty", code="webhook_secret_invalid", status=500)
    return key


def _stripe_event_id(body: bytes) -> str | None:
    """The ``id`` of a Stripe event (``evt_...``), for replay protection.

    Read only after the signature verified, so it is the sender's value.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    ident = payload.get("id") if isinstance(payload, dict) else None
    return ident if isinstance(ident, str) and ident else None


def _random_id() -> str:
    return secrets.token_hex(16)
