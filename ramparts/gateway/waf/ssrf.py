"""SSRF detectors: internal hosts in URLs and bare values, in every spelling.

Used by ``detectors.py`` (the named-detector registry).  Hosts are resolved
without any DNS lookup: decimal ``2130706433``, hex ``0x7f.1``, octal
``0177.0.0.1``, IPv6-mapped ``::ffff:127.0.0.1``, NAT64 ``64:ff9b::7f00:1``,
ideographic dots ``127。0。0。1``, wildcard-DNS names (``127.0.0.1.nip.io``,
``7f000001.nip.io``), public names that resolve to loopback (``localtest.me``,
``lvh.me``) and the metadata endpoints of the major clouds.
"""

from __future__ import annotations

import ipaddress
import re

# -- SSRF ---------------------------------------------------------------------------------
_URL = re.compile(r"([a-z][a-z0-9+.-]{0,15}:)?//([^/\s?#\\\"'<>]{1,300})", re.IGNORECASE)
_BARE_HOST = re.compile(r"[\w.:\[\]%-]{1,300}")
_INTERNAL_NAMES = (
    "localhost",
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "kubernetes.default",
    "kubernetes.default.svc",
    "metadata.tencentyun.com",
    "metadata.packet.net",
    "metadata.platformequinix.com",
    "rancher-metadata",
    "ip6-localhost",
    "ip6-loopback",
)
# Public names (and every name under them) that resolve to 127.0.0.1 by design.
_LOOPBACK_DOMAINS = ("localtest.me", "lvh.me", "vcap.me", "localh.st", "fuf.me", "lacolhost.com")
_INTERNAL_SUFFIXES = (
    ".localhost",
    ".internal",
    ".local",
    ".localdomain",
    ".svc.cluster.local",
    # names no public DNS answers: service discovery (Consul), home and office networks
    ".consul",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    *_LOOPBACK_DOMAINS,
)
# wildcard-DNS services that answer any embedded address: 127.0.0.1.nip.io
_REBINDING = re.compile(
    r"(?:^|[.-])(?:127|10|0|169-254|169\.254|192\.168|192-168|172\.(?:1[6-9]|2\d|3[01])|"
    r"172-(?:1[6-9]|2\d|3[01]))[.-].*\.(?:nip\.io|sslip\.io|xip\.io|localtest\.me)$"
    # nip.io's hex form (7f000001.nip.io) and sslip.io's IPv6 dashes (--1.sslip.io)
    r"|(?:^|[.-])(?:7f[0-9a-f]{6}|0a[0-9a-f]{6}|a9fe[0-9a-f]{4}|c0a8[0-9a-f]{4}|0{8})"
    r"\.(?:nip\.io|sslip\.io)$|(?:^|\.)-[-0-9a-f]*\.sslip\.io$"
)
# Wildcard and rebinding DNS services: the address (or two, for rebinding) is spelt in
# the name -- dotted or dashed (10-0-0-1.traefik.me), 8 hex digits (7f000001.c0a80001.rbndr.us),
# or inside a label (make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms).  Any internal one counts.
_WILDCARD_DNS = (
    ".nip.io",
    ".sslip.io",
    ".xip.io",
    ".traefik.me",
    ".rbndr.us",
    ".1u.ms",
    ".nip.direct",
)
_EMBEDDED_IPV4 = re.compile(r"(?<![\d])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?![\d])")
_EMBEDDED_HEX = re.compile(r"(?:^|[.-])(?:0x)?([0-9a-f]{8})(?=[.-]|$)")


def _wildcard_dns(host: str) -> str | None:
    """The internal address a wildcard or rebinding DNS name answers with, if any."""
    if not host.endswith(_WILDCARD_DNS):
        return None
    for found in _EMBEDDED_IPV4.finditer(host):
        parts = [int(x) for x in found.groups()]
        if max(parts) < 256:
            ip = ipaddress.IPv4Address(".".join(map(str, parts)))
            if _is_internal_ip(ip):
                return str(ip)
    for found in _EMBEDDED_HEX.finditer(host):
        ip = ipaddress.IPv4Address(int(found.group(1), 16))
        if _is_internal_ip(ip):
            return str(ip)
    return None


_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\uff0e": "."})  # 127。0。0。1
_EXTRA_INTERNAL = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, Alibaba's metadata 100.100.100.200
    ipaddress.ip_network("fd00:ec2::/32"),
    ipaddress.ip_network("192.0.0.192/32"),  # Oracle Cloud's legacy metadata address
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton's spellings: 1 to 4 parts, each decimal, 0x hex or 0-prefixed octal."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        if not part:
            return None
        try:
            if part[:2].lower() == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part[0] == "0":
                numbers.append(int(part[1:], 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def _is_internal_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is None and ip in _NAT64:
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if mapped is not None:
            return _is_internal_ip(mapped)
    if any(ip in net for net in _EXTRA_INTERNAL if net.version == ip.version):
        return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
        or ip.is_multicast
    )


def internal_host(host: str) -> str | None:
    """Why ``host`` (a URL's authority) names an internal address, or None."""
    host = host.rsplit("@", 1)[-1].strip().lower().translate(_DOTS)
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.split("%", 1)[0].rstrip(".")
    if not host:
        return None
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        return f"internal host name {host}"
    if _REBINDING.search(host) or _wildcard_dns(host):
        return f"wildcard DNS name for an internal address {host}"
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = _ipv4_loose(host) if host[0].isdigit() else None
    if ip is not None and _is_internal_ip(ip):
        return f"internal address {ip}"
    return None


def ssrf_url(value: str) -> str | None:
    """The whole value is a URL that points inside."""
    stripped = value.strip()
    if not stripped or " " in stripped or len(stripped) > 2048:
        return None
    found = _URL.match(stripped)
    if found is not None:
        why = _any_internal(stripped, found)
        if why is None and found.end() < len(stripped) and "//" in stripped[found.end() :]:
            # a redirector's parameter (https://x/r?to=http://127.0.0.1/): a client that
            # follows redirects ends up inside
            for nested in _URL.finditer(stripped, found.end()):
                why = _any_internal(stripped, nested)
                if why:
                    return f"{why} (in a redirect target)"
        return why
    if "=" in stripped[:41] and "//" in stripped:
        # a form-encoded value inside a field (url=http://127.0.0.1&x=1): each value
        for pair in _FORM_PAIRS.finditer(stripped):
            why = ssrf_url(pair.group(1)) if pair.group(1)[:1].isalpha() else None
            if why:
                return f"{why} (in a form-encoded value)"
    unc = _UNC.match(stripped)
    if unc is not None:
        return internal_host(unc.group(1))
    lenient = _LENIENT_URL.match(stripped)
    if lenient is not None:
        why = internal_host(lenient.group(1))
        return f"{why} (URL without //)" if why else None
    return None


# WHATWG URL parsers (browsers, Node's URL, many HTTP clients' "fix-ups") read a special
# scheme's host even without "//": http:/127.0.0.1, http:\\127.0.0.1, http:@127.0.0.1
_LENIENT_URL = re.compile(
    r"(?:https?|wss?|ftp):[/\\]{0,3}@?([^/\s?#\\\"'<>@]{1,300})(?:[/\\?#]|$)", re.IGNORECASE
)


_FORM_PAIRS = re.compile(r"(?:^|&)[\w.\[\]-]{1,40}=([^&]{1,2048})")
_UNC = re.compile(r"\\\\([^\\/\s]{1,300})[\\/]")  # \\169.254.169.254\share

_AUTHORITY = re.compile(r"[^/?#\s\"'<>]{1,600}")


def _any_internal(text: str, found: re.Match[str]) -> str | None:
    """Whether any host a client library could read from this URL is internal.

    WHATWG parsers take ``\\`` for ``/`` (``http://evil.com\\@10.0.0.1/`` is evil.com);
    httpx and others keep it in the userinfo and connect after the last ``@``.
    """
    why = internal_host(found.group(2))
    if why is not None:
        return why
    if found.group(2).count("@") > 1:
        # http://a@127.0.0.1:80@evil/: parsers disagree on which @ ends the userinfo
        for part in found.group(2).split("@")[1:-1]:
            why = internal_host(part)
            if why is not None:
                return why
    authority = _AUTHORITY.match(text, found.start(2))
    if authority is None or "\\" not in authority.group():
        return None
    for part in authority.group().split("\\"):
        why = internal_host(part)
        if why is not None:
            return why
    return internal_host(authority.group().replace("\\", ""))


_METADATA_IPS = frozenset(
    {"169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "192.0.0.192"}
)


def ssrf_host(value: str) -> str | None:  # noqa: PLR0911 - one reason per return
    """The whole value is a bare host that can only be meant to reach inside.

    A plain private address (``10.0.0.7``) is ordinary data in many APIs, so only
    metadata endpoints, loopback, and internal addresses spelt in a form no one
    types by accident (decimal, hex, octal, IPv6-mapped) count.
    """
    stripped = value.strip().lower()
    if not stripped or len(stripped) > 300 or not _BARE_HOST.fullmatch(stripped):
        return None
    if "." not in stripped and ":" not in stripped and not stripped.startswith(("0x", "localhost")):
        return None  # a bare number is a quantity or an id far more often than an address
    why = internal_host(stripped)
    if why is None:
        return None
    if stripped.startswith("[") and "]" in stripped:
        host = stripped[1 : stripped.index("]")]  # [::1]:6379
    elif stripped.count(":") == 1:
        host = stripped.rsplit(":", 1)[0]
    else:
        host = stripped.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        loose = _ipv4_loose(host) if host[:1].isdigit() else None
        if loose is None:
            # a name: settings keys and service names end in .local or .internal too
            # ("app.settings.local"); bare, only loopback and metadata names count
            return why if _loopback_or_metadata_name(host) else None
        if "." in host and not _VERSION_LIKE.fullmatch(host):
            return why  # a dotted address in a loose spelling (0x7f.1, 0177.0.0.1)
        # one number (0x7f000001), or two or three plain decimals -- "0.9.1" and "10.4.2"
        # are versions far more often than addresses: an address only if it is loopback
        ip = loose
        if "." in host:
            # "127.1" and "127.0.1" are 127.0.0.1 spelt short; "127.0.0" (a version, or
            # 127.0.0.0) is no address anyone targets
            return why if str(ip) in ("127.0.0.1", *_METADATA_IPS) else None
    if str(ip) in _METADATA_IPS or ip.is_loopback or ip.is_unspecified:
        return why
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return why
    return None


_VERSION_LIKE = re.compile(r"(?:0|[1-9]\d{0,9})(?:\.(?:0|[1-9]\d{0,9})){1,2}")


def _loopback_or_metadata_name(host: str) -> bool:
    """``localhost`` and names under it, loopback-by-design domains, metadata names."""
    if host in _INTERNAL_NAMES:
        return True
    return (
        host.endswith((".localhost", *_LOOPBACK_DOMAINS))
        or bool(_REBINDING.search(host))
        or _wildcard_dns(host) is not None
    )


_METADATA_NAMES = frozenset(
    name for name in _INTERNAL_NAMES if "metadata" in name or name.startswith("instance-data")
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def _plainly_spelt(host: str) -> bool:
    """``localhost``, a dotted-quad, ``[::1]`` or a local suffix: what a developer types."""
    if host in ("localhost", "[::1]", "::1") or _CANONICAL_IPV4.fullmatch(host):
        return True
    return host.endswith((".localhost", ".local", ".localdomain", ".svc.cluster.local"))


_PATH_HOST_HINT = re.compile(r"(?:^|/)(?:0x|\d|\[|localhost|metadata|instance-data)", re.IGNORECASE)


def ssrf_path_host(value: str) -> str | None:
    """A path segment that is a host only an SSRF means (``/fetch/169.254.169.254:80``).

    Proxies and preview services take the target from the path
    (``/proxy/<host>/<path>``); a segment judged as :func:`ssrf_host` judges a
    bare value: loopback, metadata and odd spellings, never a plain private
    address or a version number.
    """
    if not _PATH_HOST_HINT.search(value):
        return None
    for segment in value[:2048].split("/"):
        if segment and (segment[0].isdigit() or segment[0] in "[0lmiLMI"):
            why = ssrf_host(segment)
            if why:
                return f"{why} (a path segment)"
    return None


def ssrf_odd_url(value: str) -> str | None:
    """A URL anywhere in a header that names cloud metadata or an oddly spelt internal host.

    Referers and origins of ``http://localhost:3000/`` are developers' browsers, so a
    plainly spelt internal host in an ordinary header is no evidence; a metadata
    endpoint or a decimal, hex, octal, IPv6-mapped or wildcard-DNS spelling is.
    """
    if "//" not in value:
        return None
    text = value[:4096]
    for found in _URL.finditer(text):
        why = _any_internal(text, found)
        if why is None:
            continue
        host = found.group(2).rsplit("@", 1)[-1].lower().translate(_DOTS)
        if not host.startswith("[") and host.count(":") == 1:
            host = host.split(":", 1)[0]
        elif host.startswith("[") and "]" in host:
            host = host[: host.index("]") + 1]
        bare = host.strip("[]").rstrip(".")
        if bare in _METADATA_IPS or bare in _METADATA_NAMES or not _plainly_spelt(host):
            return why
    return None


def ssrf_embedded(value: str) -> str | None:
    """A URL inside longer text points inside (weaker evidence: prose mentions localhost)."""
    if "//" not in value:
        return None
    text = value[:20_000]
    for found in _URL.finditer(text):
        why = _any_internal(text, found)
        if why:
            return why
    return None
