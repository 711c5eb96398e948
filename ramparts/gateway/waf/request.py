"""What the WAF inspects: a request, and the decoded values taken from it.

``WafRequest`` is built by the gateway after the body is read (or by
``ramparts waf test`` from the command line).  ``extract`` turns it into
``Target`` values, each with a location name that exclusions and audit
records use:

=====================  ==========================================================
``path``               the whole path, decoded
``query.NAME``         a query parameter's value (and, as a name target, NAME)
``cookie.NAME``        a cookie's value (and its name)
``header.NAME``        user-agent, referer, origin, content-type, x-forwarded-host
                       and custom ``x-*`` headers (credentials are kind ``credential``)
``$.a.b[2]``           a JSON body field (keys are name targets at their own path)
``form.NAME``          a urlencoded or multipart form field; ``form.NAME.filename``
``body``               any other body that is valid UTF-8, as one text
=====================  ==========================================================

The work is bounded (``Limits``): beyond so many targets, bytes or levels of
JSON nesting, extraction stops and says so (``overflow``); the engine turns
that into a finding of its own, so a request cannot hide a payload behind
padding (fail closed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ramparts.gateway.waf.decode import decode

_NOT_PARSED: Any = object()
# Long values that are nothing but base64 (a data: URL, an image, a file): no payload
# of any rule's kind survives in that alphabet, so they cost a scan, not an inspection.
_BASE64 = re.compile(r"(?:data:[\w/+.-]{1,100};base64,)?[A-Za-z0-9+/=\r\n_-]+")
_BASE64_MIN = 256
_INSPECTED_HEADERS = frozenset(
    {
        "user-agent",
        "referer",
        "origin",
        "content-type",
        "x-forwarded-host",
        "accept-language",
        "via",
        "from",
        "forwarded",
        "true-client-ip",
    }
)
# Headers whose values are credentials or signatures: only rules that name the
# ``credential`` kind (log4shell lookups, control characters) look at them.
_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-hub-signature-256",
        "x-hub-signature",
        "x-slack-signature",
        "stripe-signature",
        "webhook-signature",
    }
)
# Headers the gateway or proxies set, whose values are not the client's input to a handler.
_SKIPPED_HEADERS = frozenset(
    {
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-real-ip",
        "x-amzn-trace-id",
    }
)
_BINARY_TYPES = ("image/", "audio/", "video/", "font/")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of one request the WAF inspects before it says "too much to inspect"."""

    max_targets: int = 2048
    max_bytes: int = 512 * 1024  # characters over all targets (base64 values not counted)
    max_depth: int = 64  # JSON nesting


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class WafRequest:
    """One HTTP request as the WAF sees it.

    ``path`` and ``query`` are raw (as sent, percent-encoded); ``headers`` are
    (lower-case name, value) pairs; ``route`` is the matched route's key
    (``POST /comments``), which exclusions name.  ``parsed_json`` lets the
    gateway hand over the body it already parsed (left out: parsed here).
    """

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] | None = None
    body: bytes = b""
    content_type: str = ""
    route: str = ""
    parsed_json: Any = _NOT_PARSED


@dataclass(slots=True)  # not frozen: a frozen dataclass costs more to build, per value
class Target:
    kind: str  # path | query | cookie | header | credential | body
    location: str
    value: str  # decoded
    header: str = ""  # the header's name, for kind header/credential
    is_name: bool = False  # a parameter, cookie or JSON key name rather than a value


class _Collector:
    __slots__ = ("limits", "overflow", "size", "targets")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.targets: list[Target] = []
        self.size = 0
        self.overflow: str | None = None

    def add(
        self, kind: str, location: str, raw: str, *, header: str = "", is_name: bool = False
    ) -> bool:
        """Record one value; False once a limit is reached (extraction stops)."""
        if self.overflow is not None:
            return False
        if not raw:
            return True
        if len(raw) >= _BASE64_MIN and _BASE64.fullmatch(raw):
            return True
        if len(self.targets) >= self.limits.max_targets:
            self.overflow = f"more than {self.limits.max_targets} values"
            return False
        self.size += len(raw)
        if self.size > self.limits.max_bytes:
            self.overflow = f"more than {self.limits.max_bytes} characters"
            return False
        self.targets.append(Target(kind, location, decode(raw), header, is_name))
        return True


def extract(req: WafRequest, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Target], str | None]:
    """The request's inspection targets, and why extraction stopped early (None: it did not)."""
    out = _Collector(limits)
    out.add("path", "path", req.path)
    if req.query:
        _pairs(out, "query", req.query)
    for name, value in req.headers or ():
        if name == "cookie":
            _cookies(out, value)
        elif name in _CREDENTIAL_HEADERS:
            out.add("credential", f"header.{name}", value, header=name)
        elif name in _INSPECTED_HEADERS or (name.startswith("x-") and name not in _SKIPPED_HEADERS):
            out.add("header", f"header.{name}", value, header=name)
    if req.body:
        _body(out, req)
    return out.targets, out.overflow


def _pairs(out: _Collector, prefix: str, raw: str) -> None:
    for name, value in parse_qsl(raw, keep_blank_values=True):
        location = f"{prefix}.{name}"
        kind = "query" if prefix == "query" else "body"
        if not (out.add(kind, location, name, is_name=True) and out.add(kind, location, value)):
            return


def _cookies(out: _Collector, header: str) -> None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        location = f"cookie.{name}"
        if not (
            out.add("cookie", location, name, is_name=True) and out.add("cookie", location, value)
        ):
            return


def _body(out: _Collector, req: WafRequest) -> None:
    ctype = req.content_type.split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        parsed = req.parsed_json
        if parsed is _NOT_PARSED:
            try:
                parsed = orjson.loads(req.body)
            except orjson.JSONDecodeError:
                parsed = _NOT_PARSED
        if parsed is not _NOT_PARSED:
            _json(out, parsed, "$", 0)
            return
    elif ctype == "application/x-www-form-urlencoded":
        _pairs(out, "form", req.body.decode("latin-1"))
        return
    elif ctype.startswith("multipart/"):
        if _multipart(out, req.body, req.content_type):
            return
    if ctype.startswith(_BINARY_TYPES):
        return
    try:
        text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        return  # binary: nothing a text rule could match as the handler would read it
    out.add("body", "body", text)


def _json(out: _Collector, node: Any, path: str, depth: int) -> bool:
    if depth > out.limits.max_depth:
        out.overflow = f"JSON nested deeper than {out.limits.max_depth} levels"
        return False
    if isinstance(node, str):
        return out.add("body", path, node)
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            if not (
                out.add("body", child, key, is_name=True) and _json(out, value, child, depth + 1)
            ):
                return False
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if not _json(out, value, f"{path}[{i}]", depth + 1):
                return False
    return True


_BOUNDARY = re.compile(r'boundary="?([^";,]{1,200})"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r'(name|filename)="([^"]{0,1000})"', re.IGNORECASE)


def _multipart(out: _Collector, body: bytes, content_type: str) -> bool:
    """Parts of a multipart body as form fields; False when it does not parse (then: text)."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return False
    delimiter = b"--" + found.group(1).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        return False
    for chunk in chunks[1:-1]:
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        headers = head.decode("latin-1")
        params = dict((k.lower(), v) for k, v in _DISPOSITION_PARAM.findall(headers))
        name = params.get("name", "")
        location = f"form.{name}"
        if not out.add("body", location, name, is_name=True):
            return True
        if "filename" in params and not out.add("body", f"{location}.filename", params["filename"]):
            return True
        content = content.removesuffix(b"\r\n").removesuffix(b"\n")
        ptype = ""
        for line in headers.splitlines():
            if line.lower().startswith("content-type:"):
                ptype = line.split(":", 1)[1].strip().lower()
        if ptype.startswith(_BINARY_TYPES):
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if not out.add("body", location, text):
            return True
    return True
