"""What the WAF inspects: a request, and the decoded values taken from it.

``WafRequest`` is built by the gateway after the body is read (or by
``ramparts waf test`` from the command line).  ``extract`` turns it into
``Target`` values, each with a location name that exclusions and audit
records use:

=====================  ==========================================================
``path``               the whole path, decoded
``query.NAME``         a query parameter's value (and, as a name target, NAME)
``cookie.NAME``        a cookie's value (and its name)
``header.NAME``        every header but framing and gateway-set ones (``_SKIPPED_HEADERS``);
                       credentials are kind ``credential``
``header.NAME.P``      parameter P of the query of a URL-valued header (``Referer``),
                       inspected as a query value (``_URL_HEADERS``)
``$.a.b[2]``           a JSON body field (keys are name targets at their own path)
``form.NAME``          a urlencoded or multipart form field; ``form.NAME.filename``
``body``               any other text body (decoded leniently), as one text; a body
                       that parses as JSON is also inspected field by field
=====================  ==========================================================

The work is bounded (``Limits``): beyond so many targets, bytes or levels of
JSON nesting, extraction stops and says so (``overflow``); the engine turns
that into a finding of its own, so a request cannot hide a payload behind
padding (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ramparts.gateway.json_count import json_value_count, quick_value_bound
from ramparts.gateway.waf.decode import decode
from ramparts.gateway.waf.location import FILENAME, Segments
from ramparts.gateway.waf.multipart import decoded_part, extended_params

_NOT_PARSED: Any = object()
# Long values that are nothing but base64 (a data: URL, an image, a file): no payload
# of any rule's kind survives in that alphabet, so they cost a scan, not an inspection.
_BASE64 = re.compile(r"(?:data:[\w/+.-]{1,100};base64,)?[A-Za-z0-9+/=\r\n_-]+")
_BASE64_MIN = 256
# Every request header a handler receives is inspected, except these: framing the
# server consumes, and values the gateway replaces before the handler sees them
# (x-forwarded-for/-proto/-port are set by the gateway, x-request-id is its own).
_SKIPPED_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "upgrade",
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-port",
    }
)
# Headers whose values are credentials or signatures: only rules that name the
# ``credential`` kind (log4shell lookups, control characters) look at them.
_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
        "x-hub-signature-256",
        "x-hub-signature",
        "x-slack-signature",
        "stripe-signature",
        "webhook-signature",
    }
)
# Addresses (the Host, client addresses a proxy may set or a client may forge): inspected
# by the rules for every header, not the ``header:x-*`` ones (a loopback address is no SSRF).
_ADDRESS_HEADERS = frozenset(
    {
        "host",
        "x-real-ip",
        "x-client-ip",
        "client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "true-client-ip",
        "x-cluster-client-ip",
    }
)
# Headers whose value is a URL a client or a proxy sends on: the values of its query
# reach whatever logs, follows or re-parses it (analytics, "return to" logic), so each
# is inspected like a query value of the request.  A URL on a plainly internal host
# (http://localhost:3000/?next=http://localhost:3000/x) is a developer's browser: its
# query is left to the whole-header rules.
_URL_HEADERS = frozenset(
    {"referer", "x-original-url", "x-rewrite-url", "x-forwarded-uri", "content-location"}
)
_URL_QUERY = re.compile(
    r"^[a-zA-Z][\w+.-]{0,15}://([^/?#\s]{1,300})[^?#\s]{0,2048}\?([^#\s]{1,8192})"
)
_DEV_HOST = re.compile(
    r"(?:[^@]*@)?(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$", re.IGNORECASE
)
_BINARY_TYPES = ("image/", "audio/", "video/", "font/")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of one request the WAF inspects before it says "too much to inspect"."""

    max_targets: int = 2048
    max_bytes: int = 512 * 1024  # characters over all targets (base64 values not counted)
    max_depth: int = 64  # JSON nesting
    max_json_values: int = 100_000  # parsed at all (the gateway's default refuses more)
    # characters of non-plain text (punctuation, code) the full rule set scans: such
    # text costs 10-40x more CPU per character than words, so it has a budget of its own
    max_cost: int = 128 * 1024


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
    spelled: str | None  # the location as given; None: spelled from ``segments`` when asked
    value: str  # decoded
    header: str = ""  # the header's name, for kind header/credential
    is_name: bool = False  # a parameter, cookie or JSON key name rather than a value
    segments: Segments = ()  # the location, unambiguous (what exclusions match; location.py)
    overlaps: bool = False  # a body's whole text, also inspected field by field (JSON)
    raw: str = ""  # the value as sent: what the engine remembers short values by
    hits: Any = None  # the engine's remembered findings for ``raw`` (None: not remembered)

    @property
    def location(self) -> str:
        """``path``, ``query.q``, ``$.items[1].note``: built only when a finding needs it."""
        if self.spelled is None:
            self.spelled = json_location(self.segments)
        return self.spelled


def json_location(segments: Segments) -> str:
    """``("$", "items", 1, "note")`` -> ``$.items[1].note`` (keys after a dot, indexes in [])."""
    return "".join(
        f"[{s}]" if isinstance(s, int) else f".{s}" if i else str(s)
        for i, s in enumerate(segments)
    )


# A short value the engine has seen is looked up by (kind, header name, value as sent)
# before it is decoded or becomes a target: a client's headers, JSON keys and repeated
# fields then cost a dict lookup.  ``Known`` is that memo, read-only here.
KNOWN_CHARS = 256
Known = Mapping[tuple[str, str, str], tuple[Any, ...]]


class _Collector:
    __slots__ = ("count", "known", "limits", "max_bytes", "max_targets", "overflow", "size",
                 "targets")

    def __init__(self, limits: Limits, known: Known | None = None) -> None:
        self.limits = limits
        self.max_targets, self.max_bytes = limits.max_targets, limits.max_bytes
        self.known = known
        self.targets: list[Target] = []
        self.count = 0  # values taken, remembered clean ones included (``max_targets``)
        self.size = 0
        self.overflow: str | None = None

    def add(  # positional in the hot callers (_json): keyword arguments cost per call
        self,
        kind: str,
        location: str | None,
        raw: str,
        header: str = "",
        is_name: bool = False,
        segments: Segments = (),
        overlaps: bool = False,
    ) -> bool:
        """Record one value; False once a limit is reached (extraction stops).

        Every value counts against the limits, remembered ones too: padding a request
        with values the engine already knows to be clean hides nothing behind them.
        """
        if self.overflow is not None:
            return False
        size = len(raw)
        if not size or (size >= _BASE64_MIN and _BASE64.fullmatch(raw)):
            return True
        if self.count >= self.max_targets:
            self.overflow = f"more than {self.max_targets} values"
            return False
        self.size += size
        if self.size > self.max_bytes:
            self.overflow = f"more than {self.max_bytes} characters"
            return False
        self.count += 1
        hits = None
        if size <= KNOWN_CHARS and self.known is not None:
            hits = self.known.get((kind, header, raw))
            if hits is not None and not hits:
                return True  # remembered clean: nothing to decode, nothing to report
        self.targets.append(
            Target(
                kind,
                location,
                raw if hits is not None else decode(raw),
                header,
                is_name,
                segments or (location,),  # type: ignore[arg-type]
                overlaps,
                raw,
                hits,
            )
        )
        return True


def extract(
    req: WafRequest, limits: Limits = DEFAULT_LIMITS, known: Known | None = None
) -> tuple[list[Target], str | None]:
    """The request's inspection targets, and why extraction stopped early (None: it did not).

    With ``known`` (the engine's memo), a short value remembered clean is counted
    against the limits but yields no target; one remembered with findings yields a
    target that carries them (``Target.hits``, its ``value`` left undecoded).
    """
    out = _Collector(limits, known)
    out.add("path", "path", req.path)
    if req.query:
        _pairs(out, "query", req.query)
    for name, value in req.headers or ():
        if name == "cookie":
            _cookies(out, value)
        elif name in _CREDENTIAL_HEADERS:
            out.add("credential", f"header.{name}", value, header=name, segments=("header", name))
        elif name not in _SKIPPED_HEADERS:
            short = "" if name in _ADDRESS_HEADERS else name
            out.add("header", f"header.{name}", value, header=short, segments=("header", name))
            if name in _URL_HEADERS and "?" in value:
                _url_query(out, name, value)
    if req.body:
        _body(out, req)
    return out.targets, out.overflow


def _pairs(out: _Collector, prefix: str, raw: str) -> None:
    for name, value in parse_qsl(raw, keep_blank_values=True):
        location = f"{prefix}.{name}"
        kind = "query" if prefix == "query" else "body"
        where = (prefix, name)
        if not (
            out.add(kind, location, name, is_name=True, segments=where)
            and out.add(kind, location, value, segments=where)
        ):
            return


def _url_query(out: _Collector, name: str, value: str) -> None:
    """The query parameters of a URL-valued header, as query values (``header.NAME.P``)."""
    found = _URL_QUERY.match(value.strip())
    if found is None or _DEV_HOST.match(found.group(1)):
        return
    for param, item in parse_qsl(found.group(2), keep_blank_values=True):
        where = ("header", name, param)
        if not (
            out.add("query", f"header.{name}.{param}", param, is_name=True, segments=where)
            and out.add("query", f"header.{name}.{param}", item, segments=where)
        ):
            return


def _cookies(out: _Collector, header: str) -> None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        location = f"cookie.{name}"
        where = ("cookie", name)
        if not (
            out.add("cookie", location, name, is_name=True, segments=where)
            and out.add("cookie", location, value, segments=where)
        ):
            return


def _body(out: _Collector, req: WafRequest) -> None:
    ctype = req.content_type.split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        parsed = req.parsed_json
        if parsed is _NOT_PARSED:
            if _too_many_values(out, req.body):
                return
            try:
                parsed = orjson.loads(req.body)
            except orjson.JSONDecodeError:
                parsed = _NOT_PARSED
        if parsed is not _NOT_PARSED:
            _json(out, parsed, ("$",), 0)
            return
    elif ctype == "application/x-www-form-urlencoded":
        _pairs(out, "form", req.body.decode("latin-1"))
        return
    elif ctype.startswith("multipart/"):
        if _multipart(out, req.body, req.content_type):
            return
    if ctype.startswith(_BINARY_TYPES):
        return
    charset = _CHARSET.search(req.content_type)
    texts = _texts(req.body, ctype, charset.group(1) if charset else "")
    if not texts:
        return  # binary: nothing a text rule could match as the handler would read it
    text = texts[0]
    if text.lstrip()[:1] in ("{", "["):
        # Handlers json.loads a body whatever its Content-Type (browsers send text/plain
        # to avoid a CORS preflight): its fields, escapes undone, as well as the text.
        if _too_many_values(out, req.body):
            return
        try:
            parsed = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            parsed = _NOT_PARSED
        if parsed is not _NOT_PARSED and not isinstance(parsed, str):
            if not _json(out, parsed, ("$",), 0):
                return
            out.add("body", "body", text, overlaps=True)
            texts = texts[1:]
    for text in texts:
        if not out.add("body", "body", text):
            return


# Declared types whose bodies are text to a handler even with a stray invalid byte.
_TEXT_TYPES = ("", "text/", "application/json", "application/xml", "application/x-www-form")
_TEXT_SUFFIXES = ("+json", "+xml")
_BINARY_SHARE = 0.05  # of U+FFFD after a lenient decode: beyond it, an undeclared body is binary


def _texts(data: bytes, ctype: str, charset: str = "") -> list[str]:
    """Every reading of ``data`` a handler may see: UTF-8 (lenient), and the declared charset.

    Many handlers ignore a declared charset and decode UTF-8, others honour it:
    both readings are inspected, so ``charset=utf-16`` on a UTF-8 payload hides nothing.
    """
    out: list[str] = []
    text = _text(data, ctype)
    if text is not None:
        out.append(text)
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
        try:
            declared = data.decode(charset, errors="replace")
        except (LookupError, UnicodeError, ValueError):
            declared = None  # an unknown or unusable charset: the UTF-8 reading stands
        if declared is not None and declared != text:
            out.append(declared)
    return out


def _text(data: bytes, ctype: str) -> str | None:
    """The body as a handler decoding leniently reads it; None for binary data.

    One invalid byte must not turn inspection off (a handler that decodes with
    ``errors="replace"`` runs what follows it): text types are always decoded,
    with replacement; other types only while few bytes are invalid.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if ctype in _TEXT_TYPES or ctype.startswith(_TEXT_TYPES[1:]) or ctype.endswith(_TEXT_SUFFIXES):
        return text
    if text.count("\ufffd") > len(text) * _BINARY_SHARE:
        return None
    return text


def _too_many_values(out: _Collector, raw: bytes) -> bool:
    """Whether a JSON text holds more values than the WAF parses (then it says so: overflow).

    Counted before parsing: a body of empty containers has no strings for the other
    limits to catch, yet costs a Python object per value to parse and walk.
    """
    limit = out.limits.max_json_values
    if quick_value_bound(raw) <= limit or json_value_count(raw) <= limit:
        return False
    out.overflow = f"JSON with more than {limit} values"
    return True


def _json(out: _Collector, node: Any, where: Segments, depth: int) -> bool:
    """Keys and strings of a parsed JSON document; numbers, booleans and null hold no text.

    Locations are kept as segments and spelled only for a finding (``Target.location``).
    """
    if depth > out.limits.max_depth:
        out.overflow = f"JSON nested deeper than {out.limits.max_depth} levels"
        return False
    if isinstance(node, str):
        return out.add("body", None, node, "", False, where)
    if isinstance(node, dict):
        leaf_ok = depth < out.limits.max_depth  # a child one level down is within the limit
        for key, value in node.items():
            below = (*where, key)
            if not out.add("body", None, key, "", True, below):
                return False
            if leaf_ok and (value is None or isinstance(value, bool | int | float)):
                continue  # what _json would do with it, without the call
            if not _json(out, value, below, depth + 1):
                return False
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if depth < out.limits.max_depth and (
                value is None or isinstance(value, bool | int | float)
            ):
                continue
            if not _json(out, value, (*where, i), depth + 1):
                return False
    return True


_CHARSET = re.compile(r'charset="?([\w.:-]{1,40})', re.IGNORECASE)
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
    # The preamble and the epilogue: a parser skips them, a handler reading the raw body does not.
    for outside in (chunks[0], chunks[-1].removeprefix(b"--")):
        text = _text(outside, "") if outside.strip() else None
        if text is not None and not out.add("body", "body", text):
            return True
    for chunk in chunks[1:-1]:
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        headers = head.decode("latin-1")
        params = dict((k.lower(), v) for k, v in _DISPOSITION_PARAM.findall(headers))
        name = params.get("name", "")
        location, where = f"form.{name}", ("form", name)
        if not out.add("body", location, name, is_name=True, segments=where):
            return True
        if "filename" in params and not out.add(
            "body", f"{location}.filename", params["filename"], segments=(*where, FILENAME)
        ):
            return True
        extended = extended_params(headers)
        for value in extended.get("name", []):
            if not out.add("body", location, value, is_name=True, segments=where):
                return True
        for value in extended.get("filename", []):
            if not out.add("body", f"{location}.filename", value, segments=(*where, FILENAME)):
                return True
        content = content.removesuffix(b"\r\n").removesuffix(b"\n")
        ptype, encoding = "", ""
        for line in headers.splitlines():
            lowered = line.lower()
            if lowered.startswith("content-type:"):
                ptype = line.split(":", 1)[1].strip().lower()
            elif lowered.startswith("content-transfer-encoding:"):
                encoding = line.split(":", 1)[1].strip().lower()
        kind = ptype.split(";", 1)[0].strip()
        if kind.startswith(_BINARY_TYPES) and "svg" not in kind:
            # The label is the client's: a field declared image/png is still handed to the
            # handler as text by form parsers.  Decide by the bytes (SVG is text, always).
            kind = "application/octet-stream"
        charset = _CHARSET.search(ptype)
        for data in decoded_part(content, encoding):
            for text in _texts(data, kind, charset.group(1) if charset else ""):
                if not out.add("body", location, text, segments=where):
                    return True
    return True
