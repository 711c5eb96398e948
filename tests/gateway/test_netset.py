"""IP network sets for the WAF's lists: canonical forms and lookups."""

from __future__ import annotations

import ipaddress
import random

import pytest

from ramparts.gateway.netset import InvalidNetwork, NetworkSet, parse_address, parse_network


def test_mapped_ipv6_is_the_ipv4_address_and_network() -> None:
    assert str(parse_network("::ffff:192.0.2.7")) == "192.0.2.7/32"
    assert str(parse_network("::ffff:192.0.2.0/120")) == "192.0.2.0/24"
    assert str(parse_address("::ffff:192.0.2.7")) == "192.0.2.7"
    s = NetworkSet([(parse_network("::ffff:192.0.2.0/120"), "m")])
    assert s.lookup(ipaddress.ip_address("192.0.2.200")) == ["m"]


@pytest.mark.parametrize(
    "text", ["", "10.0.0.0/33", "garbage", "10.0.0.1/8", "fe80::1%eth0", "1.2.3", "08.8.8.8"]
)
def test_bad_networks_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidNetwork):
        parse_network(text)


def test_host_bits_name_both_readings() -> None:
    with pytest.raises(InvalidNetwork, match="10.0.0.0/8.*10.0.0.1"):
        parse_network("10.0.0.1/8")
    assert str(parse_network("10.0.0.1/8", strict=False)) == "10.0.0.0/8"


def test_lookup_finds_every_holding_network_most_specific_first() -> None:
    s = NetworkSet(
        [
            (parse_network("10.0.0.0/8"), "a"),
            (parse_network("10.1.0.0/16"), "b"),
            (parse_network("10.1.2.3"), "c"),
            (parse_network("2001:db8::/32"), "d"),
        ]
    )
    assert s.lookup(ipaddress.ip_address("10.1.2.3")) == ["c", "b", "a"]
    assert s.lookup(ipaddress.ip_address("10.2.0.1")) == ["a"]
    assert s.lookup(ipaddress.ip_address("11.0.0.1")) == []
    assert s.lookup(ipaddress.ip_address("2001:db8::5")) == ["d"]
    assert not s.contains(ipaddress.ip_address("2001:db9::5"))
    assert len(s) == 4


def test_ten_thousand_entries_agree_with_a_brute_force_scan() -> None:
    rng = random.Random(15)
    nets = [
        ipaddress.ip_network((rng.getrandbits(32), rng.choice([8, 16, 24, 32])), strict=False)
        for _ in range(10_000)
    ]
    s = NetworkSet((n, True) for n in nets)
    plain = [(int(n.network_address), int(n.netmask)) for n in nets]
    probes = [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(200)]
    probes += [n.network_address + rng.randrange(n.num_addresses) for n in nets[:200]]
    for a in probes:
        x = int(a)
        assert s.contains(a) == any(x & mask == net for net, mask in plain), a


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("192.0.2.1", (4, 0xC0000201)),
        ("::ffff:192.0.2.1", (4, 0xC0000201)),
        ("2001:db8::1", (6, 0x20010DB8 << 96 | 1)),
        ("", None),
        ("fe80::1%eth0", None),
        ("[2001:db8::1]", None),
        ("08.8.8.8", None),
        ("garbage", None),
    ],
)
def test_address_keys_agree_with_ipaddress(text: str, key: tuple[int, int] | None) -> None:
    from ramparts.gateway.netset import address_key

    assert address_key(text) == key
    if key is not None:
        address = parse_address(text)
        assert address is not None and (address.version, int(address)) == key
