"""Egress allowlists: what a function may connect to, and where that lands.

Host side (runs in the node, never in a sandbox); stdlib only.

A function's manifest lists ``host:port`` entries.  Each becomes an
:class:`EgressRule`; together they form an :class:`EgressPolicy`, which the
egress gateway asks once per proxied connection.  The policy works in two
steps, because a name is only as trustworthy as the addresses it resolves to:

1. **Admission.**  A hostname is admitted by a name rule (exact, or
   ``*.suffix`` for subdomains at any depth, never the apex); an IP literal
   only by an IP/CIDR rule.  A name no rule admits is refused *before* any
   DNS lookup, so a sandbox cannot use the host's resolver as a channel
   (``secret-bits.attacker.example``).
2. **Pinning.**  The host resolves an admitted name and the policy picks
   the address to connect to.  Addresses that are loopback, link-local
   (including the ``169.254.169.254`` cloud metadata service), unspecified,
   multicast or broadcast are refused unless an IP/CIDR rule names them
   literally (``127.0.0.1:8080``; ``0.0.0.0/0`` does not count, since it was
   not written with loopback in mind).  ``forbidden`` addresses -- the
   node's own listeners -- are refused whatever the rules say.  The gateway
   connects to the pinned address, not to the name again, so DNS cannot
   change its answer between the check and the connect.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PORT = re.compile(r"[0-9]{1,5}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HOST_CHARS = re.compile(r"[A-Za-z0-9.-]+")

# Address blocks a name rule never reaches (an IP/CIDR rule inside the block can).
_SPECIAL: tuple[tuple[str, IPNetwork], ...] = tuple(
    (kind, ipaddress.ip_network(block))
    for kind, block in (
        ("unspecified", "0.0.0.0/8"),
        ("loopback", "127.0.0.0/8"),
        ("link-local", "169.254.0.0/16"),
        ("metadata-service", "100.100.100.200/32"),  # Alibaba Cloud's, outside link-local
        ("multicast", "224.0.0.0/4"),
        ("broadcast", "255.255.255.255/32"),
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("link-local", "fe80::/10"),
        ("metadata-service", "fd00:ec2::254/128"),  # AWS's IPv6 instance metadata
        ("multicast", "ff00::/8"),
    )
)
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


@dataclass(frozen=True)
class EgressRule:
    """One allowlist entry.

    Exactly one of ``host`` (a lower-case hostname; with ``wildcard`` it is
    the suffix after ``*.``) and ``network`` is set.  ``str(rule)`` gives the
    canonical text, which is what audit records and error messages quote.
    """

    port: int
    host: str | None = None
    wildcard: bool = False
    network: IPNetwork | None = None

    def __str__(self) -> str:
        if self.network is None:
            return f"{'*.' if self.wildcard else ''}{self.host}:{self.port}"
        net = self.network
        text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        return f"[{text}]:{self.port}" if net.version == 6 else f"{text}:{self.port}"


def parse_rule(text: str) -> EgressRule:
    """Parse one ``host:port`` entry; ``ValueError`` says what is wrong and how to write it."""
    if not isinstance(text, str):
        raise ValueError(f"expected a 'host:port' string, got {type(text).__name__}")
    if not text:
        raise ValueError("empty entry; write 'host:port', e.g. 'api.example.com:443'")
    if any(ch.isspace() for ch in text):
        raise ValueError("whitespace is not allowed; write 'host:port', e.g. 'api.example.com:443'")
    if text == "*" or text.startswith("*:"):
        raise ValueError(
            "a bare '*' would allow all egress; list each host, or use '*.example.com:443'"
        )
    if "://" in text:
        raise ValueError("schemes are not allowed; write 'host:port', e.g. 'api.example.com:443'")
    host, port_text = _split(text)
    port = _parse_port(port_text)
    if host.startswith("["):
        return EgressRule(port=port, network=_parse_ipv6(host[1:-1]))
    if "/" in host:
        return EgressRule(port=port, network=_parse_network(host, bracketed=False))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if address.version == 6:
            raise ValueError(f"IPv6 addresses must be in brackets, as in '[{host}]:{port}'")
        return EgressRule(port=port, network=ipaddress.ip_network(address))
    if "*" in host:
        return _parse_wildcard(host, port)
    return EgressRule(port=port, host=_parse_hostname(host))


def parse_rules(items: Sequence[str]) -> tuple[EgressRule, ...]:
    """Parse a manifest's list of entries, dropping duplicates; errors name the entry."""
    if isinstance(items, str | bytes):
        raise ValueError("egress must be a list of 'host:port' entries, not a single string")
    rules: dict[EgressRule, None] = {}
    for index, item in enumerate(items):
        try:
            rules.setdefault(parse_rule(item))
        except ValueError as exc:
            raise ValueError(f"egress[{index}] {item!r}: {exc}") from None
    return tuple(rules)


class EgressPolicy:
    """A function's rules plus the node's never-reachable listeners.

    ``forbidden`` holds ``(ip, port)`` pairs.  A listener bound to the
    unspecified address (``0.0.0.0`` or ``::``) also answers on loopback, so
    such an entry forbids its port on every loopback and unspecified
    address.  It cannot know the host's other interface addresses: callers
    must list those themselves for wildcard listeners.
    """

    def __init__(
        self, rules: Iterable[EgressRule], *, forbidden: Sequence[tuple[str, int]] = ()
    ) -> None:
        self._rules = tuple(rules)
        self._forbidden: set[tuple[IPAddress, int]] = set()
        self._forbidden_local_ports: set[int] = set()
        for ip_text, port in forbidden:
            ip = _canonical(ipaddress.ip_address(ip_text))
            if not 1 <= int(port) <= 65535:
                raise ValueError(f"forbidden port out of range: {port!r}")
            self._forbidden.add((ip, int(port)))
            if _special(ip)[0] in ("unspecified", "loopback"):
                # 127.0.0.2, ::1, 0.0.0.0 reach the same local listener as 127.0.0.1
                self._forbidden_local_ports.add(int(port))

    @property
    def rules(self) -> tuple[EgressRule, ...]:
        return self._rules

    def match(self, host: str, port: int) -> EgressRule | None:
        """The rule that admits ``host:port`` before any address check, if one does.

        The gateway resolves a name only when this returns a rule.
        """
        name, ip = _normalize_host(host)
        if ip is not None:
            return self._ip_rule(ip, port)
        for rule in self._rules:
            if rule.host is None or rule.port != port:
                continue
            if name == rule.host and not rule.wildcard:
                return rule
            if rule.wildcard and name.endswith("." + rule.host):
                return rule
        return None

    def decide(self, host: str, port: int, addresses: Sequence[str]) -> tuple[str | None, str]:
        """Return ``(address to connect to, reason)``, or ``(None, reason)`` to refuse.

        ``addresses`` are what the host resolved ``host`` to (ignored for an
        IP literal).  The first acceptable one is pinned.
        """
        name, literal = _normalize_host(host)
        target = f"{_display(name)}:{port}"
        rule = self.match(host, port)
        if rule is None:
            return None, f"no egress rule allows {target}"
        if literal is not None:
            refusal = self._refusal(literal, port)
            if refusal:
                return None, f"{target} refused: {refusal}"
            return str(literal), f"allowed by rule {rule}"
        first_refusal = ""
        for text in dict.fromkeys(addresses):
            ip = _parse_address(text)
            if ip is None:
                continue
            refusal = self._refusal(ip, port)
            if refusal is None:
                return str(ip), f"allowed by rule {rule} (pinned {ip})"
            first_refusal = first_refusal or refusal
        if not first_refusal:
            return None, f"{name} did not resolve to any address"
        return None, f"{target} refused: {name} resolves only to refused addresses: {first_refusal}"

    def _ip_rule(self, ip: IPAddress, port: int) -> EgressRule | None:
        for rule in self._rules:
            if rule.network is not None and rule.port == port and ip in rule.network:
                return rule
        return None

    def _refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why ``ip:port`` may not be reached, or None if it may."""
        kind, block = _special(ip)
        if kind == "unspecified":
            # Connecting to 0.0.0.0 or :: reaches this very host: never a destination,
            # whatever a rule names.
            return f"{_display(str(ip))} is the unspecified address (this host)"
        if (ip, port) in self._forbidden or (
            port in self._forbidden_local_ports and kind in ("loopback", "unspecified")
        ):
            return f"{_display(str(ip))}:{port} is reserved for the node"
        if block is None:
            return None
        for rule in self._rules:
            net = rule.network
            if net is not None and rule.port == port and ip in net and net.subnet_of(block):
                return None  # named literally: the author meant this address
        return f"{ip} is a {kind} address"


def _split(text: str) -> tuple[str, str]:
    """Split ``host:port`` / ``[v6]:port``, refusing paths and missing ports."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("missing ']' after the IPv6 address")
        host, rest = text[: end + 1], text[end + 1 :]
        if not rest:
            raise ValueError(f"a port is required, as in '{host}:443'")
        if not rest.startswith(":"):
            raise ValueError(f"expected ':port' after '{host}'")
        return host, rest[1:]
    host, sep, port = text.rpartition(":")
    if not sep:
        hint = text.split("/", 1)[0] if "/" in text and not _looks_like_cidr(text) else text
        raise ValueError(f"a port is required, as in '{hint}:443'")
    if ":" in host:
        raise ValueError("IPv6 addresses must be in brackets, as in '[2001:db8::1]:443'")
    if not host:
        raise ValueError("empty host; write 'host:port', e.g. 'api.example.com:443'")
    return host, port


def _parse_port(text: str) -> int:
    if "/" in text:
        raise ValueError("paths are not allowed; write only 'host:port'")
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def _parse_ipv6(text: str) -> IPNetwork:
    if "/" in text:
        net = _parse_network(text, bracketed=True)
        if net.version != 6:
            raise ValueError("brackets are only for IPv6; write IPv4 blocks without them")
        return net
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid IPv6 address") from None
    if address.version != 6:
        raise ValueError(f"brackets are only for IPv6; write '{text}:port'")
    if address.scope_id is not None:
        raise ValueError("IPv6 zone ids ('%eth0') are not allowed")
    if address in _MAPPED:
        raise ValueError(f"write the IPv4 address instead of the mapped form '{text}'")
    return ipaddress.ip_network(address)


def _parse_network(text: str, *, bracketed: bool) -> IPNetwork:
    if not _looks_like_cidr(text):
        raise ValueError("paths are not allowed; write only 'host:port'")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid CIDR block") from None
    if net.network_address != ipaddress.ip_address(text.split("/", 1)[0]):
        raise ValueError(f"{text!r} has host bits set; did you mean '{net}'?")
    if net.version == 6 and not bracketed:
        raise ValueError(f"IPv6 blocks must be in brackets, as in '[{net}]:443'")
    if net.version == 6 and net.subnet_of(_MAPPED):
        raise ValueError("write the IPv4 block instead of the IPv4-mapped form")
    return net


def _looks_like_cidr(text: str) -> bool:
    address, _, prefix = text.partition("/")
    if not prefix.isascii() or not prefix.isdigit():
        return False
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _parse_wildcard(host: str, port: int) -> EgressRule:
    if not host.startswith("*.") or "*" in host[2:]:
        raise ValueError(
            "'*' is only allowed as the whole leftmost label, as in '*.example.com:443'"
        )
    return EgressRule(port=port, host=_parse_hostname(host[2:]), wildcard=True)


def _parse_hostname(host: str) -> str:
    """Lower-case and check an ASCII (IDNA A-label) hostname."""
    if not host.isascii():
        try:
            suggestion = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{host!r} is not a valid hostname") from None
        raise ValueError(f"write internationalised names in their ASCII form: {suggestion!r}")
    if "/" in host:
        raise ValueError("paths are not allowed; write only 'host:port'")
    name = host.lower()
    if name.endswith("."):
        name = name[:-1]
    if not _HOST_CHARS.fullmatch(name or "-"):
        raise ValueError(
            f"{host!r} is not a valid hostname (letters, digits, hyphens and dots only)"
        )
    if len(name) > 253:
        raise ValueError("hostname is longer than 253 characters")
    labels = name.split(".")
    for label in labels:
        if not label:
            raise ValueError(f"{host!r} has an empty label")
        if len(label) > 63:
            raise ValueError(f"{host!r} has a label longer than 63 characters")
        if not _LABEL.fullmatch(label):
            raise ValueError(f"{host!r}: labels may not start or end with a hyphen")
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise ValueError(f"{host!r}: {label!r} is not valid IDNA (punycode)") from None
    if labels[-1].isdigit():
        raise ValueError(f"{host!r} looks like an IP address but is not a valid one")
    return name


def _normalize_host(host: str) -> tuple[str, IPAddress | None]:
    """Lower-case a requested host; return it and its address if it is an IP literal."""
    name = host.strip("[]") if host.startswith("[") else host
    ip = _parse_address(name)
    if ip is not None:
        return str(ip), ip
    name = name.lower()
    return (name[:-1] if name.endswith(".") else name), None


def _parse_address(text: str) -> IPAddress | None:
    try:
        return _canonical(ipaddress.ip_address(text))
    except ValueError:
        return None


def _canonical(ip: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 reaches the IPv4 address: judge (and connect to) that."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.scope_id is not None:
            return ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    return ip


def _special(ip: IPAddress) -> tuple[str | None, IPNetwork | None]:
    for kind, block in _SPECIAL:
        if ip in block:
            return kind, block
    return None, None


def _display(host: str) -> str:
    return f"[{host}]" if ":" in host else host
