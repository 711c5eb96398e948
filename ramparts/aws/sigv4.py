"""AWS Signature Version 4 verification: the header form and the presigned-URL form.

The expected signature is computed with botocore's own canonicalization
(``SigV4Auth``/``S3SigV4Auth``: path normalization, canonical headers, string
to sign, key derivation), so Ramparts and the SDK agree by construction, and
compared with :func:`hmac.compare_digest`.  What botocore leaves to its
caller is done here: choosing only the headers the client listed in
``SignedHeaders``, putting the query into canonical order without the
signature itself, and picking the payload hash.

Verification is two steps because the secret is only known once the session
token is opened (:mod:`ramparts.aws.credentials`): :func:`parse` reads what
the request claims, then :func:`verify` checks time and signature.

S3's ``x-amz-content-sha256`` may be the hex SHA-256 of the body (checked
here against the body), ``UNSIGNED-PAYLOAD``, ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``
or ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``; for the last one the S3 service
verifies each chunk with :func:`chunk_signature` starting from
:attr:`SignedRequest.signature` (the seed) under :func:`signing_key`.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from botocore.auth import EMPTY_SHA256_HASH, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials as BotoCredentials

__all__ = [
    "MAX_PRESIGN_SECONDS",
    "MAX_SKEW_SECONDS",
    "SigV4Error",
    "SignedRequest",
    "chunk_signature",
    "is_signed",
    "parse",
    "signing_key",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
S3_PAYLOAD_MARKERS = frozenset(
    {
        UNSIGNED_PAYLOAD,
        STREAMING_SIGNED,
        STREAMING_UNSIGNED_TRAILER,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    }
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIMESTAMP = re.compile(r"^\d{8}T\d{6}Z$")
_SCOPE_PART = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_AUTH_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")


class SigV4Error(Exception):
    """A request that does not verify.

    ``reason``: ``malformed`` (cannot be parsed), ``skewed`` (clock more than
    15 minutes off), ``url_expired`` (a presigned URL past its expiry),
    ``mismatch`` (wrong signature), ``content_sha256`` (the declared payload
    hash is not the body's).  Messages never contain the signature or a secret.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class SignedRequest:
    """What a request claims about its signature; nothing in it is verified yet."""

    access_key_id: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    timestamp: str  # X-Amz-Date, YYYYMMDDTHHMMSSZ
    signed_headers: list[str]
    signature: str = field(repr=False)
    security_token: str = field(default="", repr=False)
    presigned: bool = False
    expires: int | None = None  # presigned URLs: X-Amz-Expires seconds

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    @property
    def epoch(self) -> float:
        return float(calendar.timegm(time.strptime(self.timestamp, "%Y%m%dT%H%M%SZ")))


def is_signed(headers: dict[str, str], raw_query: str) -> bool:
    """Whether a request claims SigV4 (then it belongs to the AWS endpoint, not to a route)."""
    if headers.get("authorization", "").lstrip().startswith(ALGORITHM):
        return True
    return "X-Amz-Signature=" in raw_query or "X-Amz-Credential=" in raw_query


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """``a=1&b`` -> [("a", "1"), ("b", "")], percent-decoded (``+`` stays a plus)."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    """SigV4's canonical query: RFC 3986 encoding, sorted by key then value."""
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _malformed(message: str) -> SigV4Error:
    return SigV4Error("malformed", message)


def _credential(value: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _malformed("the credential must be KEY/DATE/REGION/SERVICE/aws4_request")
    akid, date, region, service = parts[:4]
    if not re.match(r"^\d{8}$", date) or not all(
        _SCOPE_PART.match(p) for p in (akid, region, service)
    ):
        raise _malformed("the credential scope is malformed")
    return akid, date, region, service


def parse(headers: dict[str, str], raw_query: str) -> SignedRequest:
    """Read the signature a request claims (header or presigned query).

    ``headers`` by lower-case name.  Raises :class:`SigV4Error` (``malformed``).
    """
    auth = headers.get("authorization", "").strip()
    if auth.startswith(ALGORITHM):
        if "x-amz-signature=" in raw_query.lower():
            raise _malformed("a request is signed by its header or its query, not both")
        fields: dict[str, str] = {}
        for item in auth[len(ALGORITHM) :].split(","):
            m = _AUTH_FIELD.fullmatch(item)
            if m is None or m.group(1) in fields:
                raise _malformed("the Authorization header is malformed")
            fields[m.group(1)] = m.group(2)
        if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise _malformed("the Authorization header needs Credential, SignedHeaders, Signature")
        akid, date, region, service = _credential(fields["Credential"])
        timestamp = headers.get("x-amz-date", "")
        signed = SignedRequest(
            akid,
            date,
            region,
            service,
            timestamp,
            fields["SignedHeaders"].split(";"),
            fields["Signature"],
            headers.get("x-amz-security-token", ""),
        )
    else:
        params: dict[str, str] = {}
        for key, value in _query_pairs(raw_query):
            if key.startswith("X-Amz-"):
                if key in params:
                    raise _malformed(f"{key} is repeated")
                params[key] = value
        needed = (
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        )
        missing = [k for k in needed if k not in params]
        if missing:
            raise _malformed(f"the presigned URL lacks {', '.join(missing)}")
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise _malformed(f"only {ALGORITHM} is supported")
        raw_expires = params["X-Amz-Expires"]
        if not raw_expires.isdigit() or not 1 <= int(raw_expires) <= MAX_PRESIGN_SECONDS:
            raise _malformed("X-Amz-Expires must be between 1 and 604800 seconds")
        akid, date, region, service = _credential(params["X-Amz-Credential"])
        signed = SignedRequest(
            akid,
            date,
            region,
            service,
            params["X-Amz-Date"],
            params["X-Amz-SignedHeaders"].split(";"),
            params["X-Amz-Signature"],
            params.get("X-Amz-Security-Token", ""),
            presigned=True,
            expires=int(raw_expires),
        )
    if not _TIMESTAMP.match(signed.timestamp) or signed.timestamp[:8] != signed.date:
        raise _malformed("X-Amz-Date is missing, malformed, or not the credential's date")
    if not re.match(r"^[0-9a-f]{64}$", signed.signature):
        raise _malformed("the signature is not 64 hex digits")
    names = signed.signed_headers
    if "host" not in names or names != sorted(set(names)) or not all(names):
        raise _malformed("SignedHeaders must be sorted, unique and include host")
    try:
        signed.epoch  # noqa: B018 - a real calendar date
    except ValueError:
        raise _malformed("X-Amz-Date is not a date") from None
    return signed


def check_time(signed: SignedRequest, now: float | None = None) -> None:
    """Clock skew (15 minutes) for signed headers; expiry for presigned URLs."""
    now = time.time() if now is None else now
    at = signed.epoch
    if signed.presigned:
        if at - now > MAX_SKEW_SECONDS:
            raise SigV4Error("skewed", "the request's date is too far in the future")
        if now > at + (signed.expires or 0):
            raise SigV4Error("url_expired", "Request has expired")
        return
    if abs(now - at) > MAX_SKEW_SECONDS:
        raise SigV4Error(
            "skewed", "the difference between the request time and the server's time is too large"
        )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived SigV4 key (``AWS4`` + secret, date, region, service, ``aws4_request``)."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def chunk_signature(key: bytes, timestamp: str, scope: str, previous: str, chunk: bytes) -> str:
    """The signature of one ``aws-chunked`` chunk (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``).

    The first chunk's ``previous`` is the request's own (seed) signature.
    """
    string_to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256-PAYLOAD",
            timestamp,
            scope,
            previous,
            EMPTY_SHA256_HASH,
            hashlib.sha256(chunk).hexdigest(),
        )
    )
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def payload_hash(signed: SignedRequest, headers: dict[str, str], body: bytes) -> str:
    """The payload hash the client signed, checked against the body where it is a hash."""
    declared = headers.get("x-amz-content-sha256", "")
    if signed.presigned:
        if signed.service == "s3":
            return UNSIGNED_PAYLOAD
        return hashlib.sha256(body).hexdigest()
    if not declared:
        return hashlib.sha256(body).hexdigest()
    if declared in S3_PAYLOAD_MARKERS:
        if signed.service != "s3":
            raise _malformed(f"{declared} is for S3 only")
        return declared
    if not _HEX64.match(declared):
        raise _malformed("x-amz-content-sha256 is not a SHA-256 or a known marker")
    if not hmac.compare_digest(declared, hashlib.sha256(body).hexdigest()):
        raise SigV4Error(
            "content_sha256", "the provided x-amz-content-sha256 does not match the body"
        )
    return declared


def expected_signature(
    signed: SignedRequest,
    secret: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    header_list: list[tuple[str, str]],
    payload: str,
) -> str:
    """The signature botocore would compute for this request with ``secret``."""
    auth_cls = S3SigV4Auth if signed.service == "s3" else SigV4Auth
    auth = auth_cls(BotoCredentials(signed.access_key_id, secret), signed.service, signed.region)
    pairs = _query_pairs(raw_query)
    if signed.presigned:
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    request = AWSRequest(method=method.upper(), url=f"http://ramparts{raw_path or '/'}")
    request.context["timestamp"] = signed.timestamp
    wanted = set(signed.signed_headers)
    chosen = HTTPHeaders()
    for name, value in header_list:
        if name.lower() in wanted:
            chosen[name.lower()] = value
    missing = wanted - {k.lower() for k in chosen}
    if missing:
        raise _malformed(f"signed header {sorted(missing)[0]!r} is not in the request")
    canonical = "\n".join(
        (
            method.upper(),
            auth._normalize_url_path(raw_path or "/"),
            _canonical_query(pairs),
            auth.canonical_headers(chosen) + "\n",
            ";".join(signed.signed_headers),
            payload,
        )
    )
    string_to_sign = auth.string_to_sign(request, canonical)
    return str(auth.signature(string_to_sign, request))


def verify(
    signed: SignedRequest,
    secret: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    header_list: list[tuple[str, str]],
    body: bytes,
    now: float | None = None,
) -> None:
    """Check time, payload hash and signature; raise :class:`SigV4Error` on any failure."""
    check_time(signed, now)
    headers = {}
    for name, value in header_list:
        headers[name.lower()] = value
    payload = payload_hash(signed, headers, body)
    expected = expected_signature(
        signed,
        secret,
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        header_list=header_list,
        payload=payload,
    )
    if not hmac.compare_digest(expected, signed.signature):
        raise SigV4Error(
            "mismatch",
            "the request signature we calculated does not match the signature you provided",
        )
