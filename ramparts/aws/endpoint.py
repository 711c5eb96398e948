"""The host side of ``AWS_ENDPOINT_URL``: verify a SigV4 request, find its caller, run the service.

The gateway hands this every request that claims a SigV4 signature (an
``Authorization: AWS4-HMAC-SHA256 ...`` header, or ``X-Amz-Signature`` /
``X-Amz-Credential`` in the query) and every path under ``/_ramparts/``.
For a signed request, in order:

1. parse the claimed signature; the credential scope names the service
   (``ramparts.aws.services``), whose protocol decides how errors are written;
2. read the body up to the AWS limit (the object store's limit + 1 MiB of
   ``aws-chunked`` framing; ``RAMPARTS_AWS_MAX_BODY_BYTES``), else
   ``EntityTooLarge``/``RequestEntityTooLarge`` and the connection is closed;
3. open the session token (:mod:`ramparts.aws.credentials`), check it belongs
   to the access key id, is unexpired, and names a version still live;
4. check clock skew / presigned expiry, payload hash and signature
   (:mod:`ramparts.aws.sigv4`);
5. pass an :class:`~ramparts.aws.service.AwsRequest` to the service.

Every refusal is an ``aws.auth`` audit event with a reason; every accepted
call is one too.  Neither the signature, the session token nor the query
string ever reaches a log, an audit event or an invocation record.

``GET /_ramparts/aws/credentials`` is botocore's container credentials
provider endpoint: ``Authorization: rpct_...`` (the version's container
token) -> fresh credentials for that version only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from ramparts.aws import sigv4
from ramparts.aws.accounts import account_id
from ramparts.aws.credentials import CredentialError
from ramparts.aws.protocols import error_response
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller, Protocol_
from ramparts.aws.services import service as lookup_service
from ramparts.errors import AccessDenied
from ramparts.gateway.body import BodyTooLarge, ClientGone, read_body

if TYPE_CHECKING:
    from ramparts.runtime.types import FunctionSpec

log = logging.getLogger("ramparts.aws")

PREFIX = "/_ramparts/"
CREDENTIALS_PATH = "/_ramparts/aws/credentials"
_AWS_CHUNK_OVERHEAD = 1024 * 1024
_SCOPE_SERVICE = re.compile(r"/\d{8}/[A-Za-z0-9-]+/([A-Za-z0-9-]+)/aws4_request")


def max_body_bytes() -> int:
    """The object store's object limit + 1 MiB (aws-chunked framing), or the env override."""
    raw = os.environ.get("RAMPARTS_AWS_MAX_BODY_BYTES", "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    from ramparts.broker import MAX_OBJECT_BYTES

    return MAX_OBJECT_BYTES + _AWS_CHUNK_OVERHEAD


class ReplayCache:
    """Header-signed requests seen in the last 15 minutes (the skew window), per node.

    botocore does not sign ``amz-sdk-invocation-id`` (new per call) or
    ``amz-sdk-request`` (``attempt=N``), and two identical calls within one
    second carry the same signature; so the key is the signature together with
    those two headers.  A request re-sent as captured is refused; a legitimate
    repeat or retry differs in them and passes.  What this does not stop: a
    replayer that edits those unsigned headers (see docs/aws/README.md).
    """

    def __init__(self, ttl: float = sigv4.MAX_SKEW_SECONDS * 2, max_entries: int = 200_000):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._ttl = ttl
        self._max = max_entries

    def first_use(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max:
                break
            self._seen.pop(oldest)
        if key in self._seen:
            return False
        self._seen[key] = now + self._ttl
        return True


def _auth_error(service: str, protocol: Protocol_, reason: str, message: str) -> AwsError:
    """The AWS error code an SDK expects for an authentication failure of ``reason``."""
    s3 = service == "s3"
    if reason in ("unknown_key", "no_token", "retired"):
        return AwsError("InvalidAccessKeyId" if s3 else "InvalidClientTokenId", message, 403)
    if reason == "expired":
        return AwsError(
            "ExpiredToken" if s3 or protocol == "query" else "ExpiredTokenException",
            message,
            400 if s3 else 403,
        )
    if reason == "skewed":
        return AwsError("RequestTimeTooSkewed" if s3 else "InvalidSignatureException", message, 403)
    if reason == "replayed":
        return AwsError("AccessDenied" if s3 else "InvalidSignatureException", message, 403)
    if reason == "url_expired":
        return AwsError("AccessDenied", "Request has expired", 403)
    if reason == "content_sha256" and s3:
        return AwsError("XAmzContentSHA256Mismatch", message, 400)
    if reason == "malformed":
        return AwsError(
            "AuthorizationHeaderMalformed" if s3 else "IncompleteSignature", message, 400
        )
    if reason == "region":
        return AwsError(
            "AuthorizationHeaderMalformed" if s3 else "SignatureDoesNotMatch",
            message,
            400 if s3 else 403,
        )
    return AwsError("SignatureDoesNotMatch", message, 403)


def _guess_service(headers: dict[str, str], raw_query: str) -> str:
    """The service a malformed request was meant for, for the shape of its error only."""
    m = _SCOPE_SERVICE.search(headers.get("authorization", "")) or _SCOPE_SERVICE.search(
        raw_query.replace("%2F", "/").replace("%2f", "/")
    )
    return m.group(1) if m else ""


class AwsEndpoint:
    """One per gateway; holds nothing but a reference to the node."""

    def __init__(self, node: Any) -> None:
        self._node = node
        self._limit = max_body_bytes()
        self._replays = ReplayCache()

    @staticmethod
    def claims(scope: dict[str, Any]) -> bool:
        """Whether a request is ours: a ``/_ramparts/`` path or a SigV4 signature claim."""
        if scope["path"].startswith(PREFIX):
            return True
        raw_query = scope.get("query_string", b"")
        if b"X-Amz-Signature=" in raw_query or b"X-Amz-Credential=" in raw_query:
            return True
        return any(
            k.lower() == b"authorization" and v.lstrip().startswith(b"AWS4-")
            for k, v in scope["headers"]
        )

    async def dispatch(
        self, scope: dict[str, Any], receive: Any, send: Any, request_id: str
    ) -> None:
        if scope["path"].startswith(PREFIX):
            await self.internal(scope, receive, send, request_id)
        else:
            await self.handle(scope, receive, send, request_id)

    # -- the signed API ---------------------------------------------------------------------
    async def handle(self, scope: dict[str, Any], receive: Any, send: Any, request_id: str) -> None:
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = header_map(scope["headers"])
        raw_query = scope.get("query_string", b"").decode("latin-1")
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_path = raw_path.partition("?")[0]
        client = scope.get("client")
        source_ip = client[0] if client else ""
        name = _guess_service(headers, raw_query)
        try:
            svc = lookup_service(name) if name else None
        except Exception:  # a registered service whose module cannot load: fail closed
            log.exception("aws service %r cannot be loaded", name)
            svc = None
        protocol: Protocol_ = (
            svc.protocol if svc is not None else ("rest-xml" if name == "s3" else "query")
        )
        ctx = _Ctx(self._node, request_id, source_ip, method, scope["path"], name)

        body_read = False
        sends_body = headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in headers
        )

        async def refuse(error: AwsError, reason: str, *, close: bool = False) -> None:
            ctx.audit("deny", reason)
            # a body left unread must not be taken for the next request on the connection
            close = close or (sends_body and not body_read)
            await _write(send, _error(svc, protocol, error, request_id), method, close=close)

        try:
            signed = sigv4.parse(headers, raw_query)
        except sigv4.SigV4Error as exc:
            await refuse(_auth_error(name, protocol, "malformed", exc.message), "malformed")
            return
        ctx.access_key = signed.access_key_id
        if svc is None:
            message = f"Ramparts has no AWS-compatible service named {signed.service!r}"
            await refuse(AwsError("UnrecognizedService", message, 400), "unknown_service")
            return
        # a service may accept more (S3: its object limit); RAMPARTS_AWS_MAX_BODY_BYTES wins
        limit = self._limit
        if not os.environ.get("RAMPARTS_AWS_MAX_BODY_BYTES", "").isdigit():
            limit = max(limit, getattr(svc, "max_body_bytes", 0))
        try:
            body = await read_body(receive, headers, limit)
        except ClientGone:
            return
        except BodyTooLarge:
            code = "EntityTooLarge" if name == "s3" else "RequestEntityTooLarge"
            message = f"the request body exceeds {limit} bytes"
            await refuse(AwsError(code, message, 413), "body_too_large", close=True)
            return
        body_read = True
        try:  # before the token: an expired URL says so even when its credentials expired too
            sigv4.check_time(signed)
        except sigv4.SigV4Error as exc:
            await refuse(_auth_error(name, protocol, exc.reason, exc.message), exc.reason)
            return
        if not signed.security_token:
            await refuse(
                _auth_error(
                    name,
                    protocol,
                    "no_token",
                    "The security token included in the request is invalid.",
                ),
                "missing_token",
            )
            return
        authority = self._node.aws_credentials
        try:
            session = authority.open_session(signed.access_key_id, signed.security_token)
        except CredentialError as exc:
            reason = "expired" if exc.reason == "expired" else "unknown_key"
            message = (
                "The security token included in the request is expired"
                if reason == "expired"
                else "The security token included in the request is invalid."
            )
            await refuse(_auth_error(name, protocol, reason, message), f"token_{exc.reason}")
            return
        # Until the signature verifies, the token is only a claim (it may have leaked): a
        # refusal is the source address's, with the function it named as claimed_function,
        # so evidence never aims a playbook at the function whose token was shown.
        ctx.claimed = f"{session.function}@{session.version[:12]}"
        spec = await self._node_spec(session.app, session.function, session.version)
        if spec is None:
            await refuse(
                _auth_error(
                    name,
                    protocol,
                    "retired",
                    "The security token belongs to a function version that is not live.",
                ),
                "version_not_live",
            )
            return
        region = self._node.settings.region
        if signed.region != region:
            await refuse(
                _auth_error(
                    name,
                    protocol,
                    "region",
                    f"the credential is scoped to {signed.region!r}; this is {region!r}",
                ),
                "wrong_region",
            )
            return
        secret = authority.secret_for(session)
        try:
            sigv4.verify(
                signed,
                secret,
                method=method,
                raw_path=raw_path,
                raw_query=raw_query,
                header_list=raw_headers,
                body=body,
            )
        except sigv4.SigV4Error as exc:
            await refuse(_auth_error(name, protocol, exc.reason, exc.message), exc.reason)
            return
        if not signed.presigned:  # a presigned URL may be reused until it expires (its contract)
            key = hashlib.sha256(
                "\n".join(
                    (
                        signed.signature,
                        headers.get("amz-sdk-invocation-id", ""),
                        headers.get("amz-sdk-request", ""),
                    )
                ).encode()
            ).hexdigest()
            if not self._replays.first_use(key):
                await refuse(
                    _auth_error(name, protocol, "replayed", "this signed request was already used"),
                    "replayed",
                )
                return
        ctx.principal, ctx.claimed = f"function:{ctx.claimed}", ""
        ctx.audit("allow", "signature_valid")
        caller = Caller(spec, account_id(spec.app), region)
        request = AwsRequest(
            service=name,
            method=method,
            path=scope["path"],
            raw_path=raw_path.encode("latin-1"),
            query=parse_qsl(raw_query, keep_blank_values=True),
            headers={k.lower(): v for k, v in raw_headers},
            body=body,
            caller=caller,
            request_id=request_id,
            endpoint=f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}",
            presigned=signed.presigned,
            signing=_Signing(signed, secret),
        )
        try:
            response = await svc.handle(request, self._node.broker)
        except AwsError as exc:
            response = _error(svc, protocol, exc, request_id)
        except AccessDenied as exc:
            code = "AccessDeniedException" if protocol in ("json", "rest-json") else "AccessDenied"
            response = _error(svc, protocol, AwsError(code, str(exc), 403), request_id)
        except Exception:
            log.exception("aws %s: service failure (request %s)", name, request_id)
            code = "InternalFailure" if protocol in ("json", "rest-json") else "InternalError"
            message = f"internal error (request {request_id})"
            response = _error(svc, protocol, AwsError(code, message, 500), request_id)
        await _write(send, response, method)

    async def _node_spec(self, app: str, function: str, version: str) -> FunctionSpec | None:
        """The spec of ``function@version`` if it is live, loaded (being deployed, or
        draining), or an alias points at it; else None."""
        live = self._node.live(function)
        if live is not None and live.app == app and live.version == version:
            return live.spec  # type: ignore[no-any-return]
        loaded = self._node.supervisor.loaded(app, function, version)
        if loaded is not None:
            return loaded
        if live is None or live.app != app:
            return None

        def by_alias() -> FunctionSpec | None:
            if version not in self._node.store.list_aliases(function).values():
                return None
            rec = self._node.registry.resolve_version(function, version)
            return self._node.registry.spec_for(rec)[1]  # type: ignore[no-any-return]

        try:
            return await asyncio.to_thread(by_alias)
        except Exception:  # fail closed: an unknown version is no caller
            return None

    # -- /_ramparts/... -----------------------------------------------------------------------
    async def internal(
        self, scope: dict[str, Any], receive: Any, send: Any, request_id: str
    ) -> None:
        """``/_ramparts/aws/credentials`` (botocore's container provider); 404 for the rest."""
        headers = header_map(scope["headers"])
        client = scope.get("client")
        ctx = _Ctx(
            self._node,
            request_id,
            client[0] if client else "",
            scope["method"],
            scope["path"],
            "credentials",
        )
        if scope["path"] != CREDENTIALS_PATH:
            await _json(send, 404, {"code": "not_found", "message": "no such path"}, request_id)
            return
        if scope["method"] != "GET":
            await _json(
                send, 405, {"code": "method_not_allowed", "message": "GET only"}, request_id
            )
            return
        token = headers.get("authorization", "").strip()
        if not token:
            ctx.audit("deny", "missing_token", kind="aws.credentials")
            await _json(
                send,
                401,
                {"code": "unauthorized", "message": "an Authorization token is required"},
                request_id,
            )
            return
        try:
            app, function, version = self._node.aws_credentials.open_container_token(token)
        except CredentialError as exc:
            ctx.audit("deny", f"token_{exc.reason}", kind="aws.credentials")
            await _json(
                send, 403, {"code": "forbidden", "message": "the token is not valid"}, request_id
            )
            return
        ctx.principal = f"function:{function}@{version[:12]}"
        spec = await self._node_spec(app, function, version)
        if spec is None:
            ctx.audit("deny", "version_not_live", kind="aws.credentials")
            await _json(
                send, 403, {"code": "forbidden", "message": "the version is not live"}, request_id
            )
            return
        creds = self._node.aws_credentials.issue(app, function, version)
        ctx.audit("allow", "container_token_valid", kind="aws.credentials")
        await _json(send, 200, creds.container_json(), request_id)


class _Signing:
    """What a service needs to verify ``aws-chunked`` chunk signatures (S3 streaming)."""

    __slots__ = ("_secret", "signed")

    def __init__(self, signed: sigv4.SignedRequest, secret: str) -> None:
        self.signed = signed
        self._secret = secret

    def __repr__(self) -> str:
        return "_Signing(<hidden>)"

    @property
    def seed_signature(self) -> str:
        return self.signed.signature

    @property
    def timestamp(self) -> str:
        return self.signed.timestamp

    @property
    def scope(self) -> str:
        return self.signed.scope

    def key(self) -> bytes:
        s = self.signed
        return sigv4.signing_key(self._secret, s.date, s.region, s.service)


class _Ctx:
    """Audit fields of one request (never the signature, token or query)."""

    def __init__(
        self, node: Any, request_id: str, source_ip: str, method: str, path: str, service: str
    ) -> None:
        self.node = node
        self.request_id = request_id
        self.source_ip = source_ip
        self.method = method
        self.path = path[:256]
        self.service = service
        self.access_key = ""
        self.principal = ""
        self.claimed = ""  # NAME@VERSION a session token named, before its signature verified

    def audit(self, decision: str, reason: str, *, kind: str = "aws.auth") -> None:
        detail: dict[str, Any] = {"source_ip": self.source_ip, "via": "aws"}
        if self.access_key:
            detail["access_key_id"] = self.access_key
        if self.claimed:
            detail["claimed_function"] = self.claimed
        self.node.audit.emit(
            kind,
            decision=decision,
            principal=self.principal or f"ip:{self.source_ip}",
            action=f"aws:{self.service or 'unknown'}",
            resource=f"endpoint:{self.method} {self.path}",
            request_id=self.request_id,
            reason=reason,
            **detail,
        )


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers by lower-case name, repeats joined with ", " (as the gateway reads them).

    A repeated ``Authorization`` thus never parses: it is refused, not half-read.
    """
    out: dict[str, str] = {}
    for k, v in raw:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _error(svc: Any, protocol: Protocol_, error: AwsError, request_id: str) -> AwsResponse:
    prefix = getattr(svc, "json_prefix", "") if svc is not None else ""
    return error_response(protocol, error, request_id, json_prefix=prefix)


_DROP = {"transfer-encoding", "connection", "x-request-id"}


async def _write(send: Any, response: AwsResponse, method: str, *, close: bool = False) -> None:
    """Send ``response``; a HEAD answer keeps the service's Content-Length and has no body."""
    headers = [
        (k.lower().encode("latin-1"), str(v).encode("latin-1"))
        for k, v in response.headers
        if k.lower() not in _DROP
    ]
    names = {k for k, _ in headers}
    request_id = next((v for k, v in headers if k == b"x-amzn-requestid"), b"")
    if request_id:
        headers.append((b"x-request-id", request_id))
    body = response.body
    if method == "HEAD" or response.status in (204, 304) or response.status < 200:
        if method != "HEAD":
            headers = [(k, v) for k, v in headers if k != b"content-length"]
        body = b""
    elif b"content-length" in names:
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
    else:
        headers.append((b"content-length", str(len(body)).encode()))
    headers.append((b"x-content-type-options", b"nosniff"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Any, status: int, data: dict[str, Any], request_id: str) -> None:
    body = orjson.dumps({**data, "request_id": request_id} if status >= 400 else data)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
