"""Sets of IP networks with a lookup fast enough for every gateway request.

Used by the WAF's address lists (``ramparts.gateway.waf_net``): the run-time
block list (``ramparts waf block``) and an app's ``waf.allow`` / ``waf.deny``.

A lookup masks the address once per prefix length present in the set and
probes a dict, so its cost grows with the number of distinct prefix lengths
(at most 33 for IPv4, 129 for IPv6, a handful in practice), never with the
number of networks: 10,000 blocked /32s cost one probe.

Addresses are compared in one canonical form: an IPv4-mapped IPv6 address
(``::ffff:192.0.2.1``) *is* the IPv4 address, as ``ramparts.forwarded`` hands
it to the gateway, and a network written in the mapped range
(``::ffff:192.0.2.0/120``) is the IPv4 network it maps.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Generic, TypeVar

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class InvalidNetwork(ValueError):
    """Text that is not an IP address or CIDR block (the message says why)."""


def parse_network(text: str, *, strict: bool = True) -> Network:
    """``text`` (an address or CIDR block) as a canonical network.

    With ``strict``, host bits set below the prefix (``10.0.0.1/8``) are an
    error rather than a guess at what was meant; the manifest's lists are
    parsed leniently (``strict=False``), as they always were.
    """
    raw = text.strip()
    if not raw or len(raw) > 64 or "%" in raw:
        raise InvalidNetwork(f"{text[:80]!r} is not an IP address or CIDR block")
    try:
        network = ipaddress.ip_network(raw, strict=strict)
    except ValueError as exc:
        if strict and "has host bits set" in str(exc):
            loose = ipaddress.ip_network(raw, strict=False)
            raise InvalidNetwork(
                f"{raw!r} has host bits set: write {loose} for the network, "
                f"or {raw.split('/')[0]} for the one address"
            ) from None
        raise InvalidNetwork(f"{raw!r} is not an IP address or CIDR block") from None
    return canonical_network(network)


def canonical_network(network: Network) -> Network:
    """A network inside ``::ffff:0:0/96`` as the IPv4 network it maps; others unchanged."""
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        first = network.network_address.ipv4_mapped
        assert first is not None  # inside the mapped range
        return ipaddress.IPv4Network((int(first), network.prefixlen - 96))
    return network


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A source address in canonical form, or None when ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_MAPPED_HIGH = 0xFFFF << 32


def address_key(text: str) -> tuple[int, int] | None:
    """``(4 or 6, the address as an integer)`` for a textual address, or None.

    The gateway's hot path: ``inet_pton`` is some twenty times faster than
    ``ipaddress.ip_address``, and the source addresses it sees are canonical
    already (``ramparts.forwarded``); an IPv4-mapped one still counts as IPv4.
    """
    try:
        if ":" in text:
            number = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
            if number >> 32 == 0xFFFF:
                return 4, number ^ _MAPPED_HIGH
            return 6, number
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):  # not an address (zone ids and brackets included)
        return None


class NetworkSet(Generic[T]):
    """Networks, each with a value; ``lookup`` finds the values of those holding an address."""

    __slots__ = ("_v4", "_v6", "_len")

    def __init__(self, entries: Iterable[tuple[Network, T]] = ()) -> None:
        v4: dict[int, dict[int, T]] = {}
        v6: dict[int, dict[int, T]] = {}
        count = 0
        for network, value in entries:
            network = canonical_network(network)
            table = v4 if network.version == 4 else v6
            table.setdefault(network.prefixlen, {})[int(network.network_address)] = value
            count += 1
        # Longest prefix first: the most specific entry is found first.
        self._v4 = [(_mask(32, p), nets) for p, nets in sorted(v4.items(), reverse=True)]
        self._v6 = [(_mask(128, p), nets) for p, nets in sorted(v6.items(), reverse=True)]
        self._len = count

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def values(self) -> list[T]:
        """Every value in the set (no order promised)."""
        return [v for tables in (self._v4, self._v6) for _, nets in tables for v in nets.values()]

    def lookup(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[T]:
        """The values of every network holding ``address``, most specific first."""
        return self.lookup_key(address.version, int(address))

    def lookup_key(self, version: int, number: int) -> list[T]:
        """``lookup`` for an ``address_key`` result."""
        tables = self._v4 if version == 4 else self._v6
        if not tables:
            return []
        found: list[T] = []
        for mask, nets in tables:
            value = nets.get(number & mask)
            if value is not None:
                found.append(value)
        return found

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether any network holds ``address``."""
        return self.contains_key(address.version, int(address))

    def contains_key(self, version: int, number: int) -> bool:
        """``contains`` for an ``address_key`` result."""
        tables = self._v4 if version == 4 else self._v6
        return any((number & mask) in nets for mask, nets in tables)


def _mask(bits: int, prefix: int) -> int:
    return ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
